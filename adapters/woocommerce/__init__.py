"""WooCommerce: the adapter (:mod:`.adapter`) and its simulator (:mod:`.simulator`)."""

from adapters.woocommerce.adapter import WooCommerceAdapter, create

__all__ = ["WooCommerceAdapter", "create"]
