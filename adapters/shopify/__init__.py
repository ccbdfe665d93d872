"""Shopify (Admin GraphQL API)."""
