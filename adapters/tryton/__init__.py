"""Tryton ERP adapter: JSON-RPC client, mapping of each kind, order import."""
