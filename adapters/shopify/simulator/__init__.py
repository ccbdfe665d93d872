"""A Shopify Admin GraphQL API simulator (``POST /admin/api/{version}/graphql.json``).

What it reproduces, and where the facts come from (shopify.dev pages by name):

- Authentication by ``X-Shopify-Access-Token`` (401 otherwise), versions in the URL (404 for
  one not served, ``X-Shopify-API-Deprecated-Reason`` on a deprecated one) — "API versioning".
- A schema subset with Shopify's own type, field, argument and enum names (``schema.graphql``,
  after the 2026-01 reference pages of Product, ProductVariant, InventoryItem, InventoryLevel,
  Location and the mutations served). Relay connections with ``first``/``last`` at most 250 —
  "Paginating results with GraphQL".
- Calculated query cost and the leaky bucket per access token: scalars and enums 0, objects 1,
  connections 2 + ``first`` x one node, mutations 10; the requested cost reserved, the unused
  part refunded; ``extensions.cost`` on every answer; ``THROTTLED`` (HTTP 200, no data) when
  the bucket cannot cover a query; ``MAX_COST_EXCEEDED`` above 1000 requested points —
  "GraphQL Admin API rate limits", "Shopify API rate limits".
- The variant creation throttle: past 50,000 variants in a shop, at most 1,000 new ones a day
  through the API, HTTP 429 with ``Retry-After`` beyond (``store.variant_threshold``,
  ``store.variants_per_day``) — the ProductCreatePayload note and the changelog entry
  "API call limits will be applied to variant creation".
- ``UNLISTED`` product status from 2025-10 (older versions read ACTIVE and cannot write it).
- ``query:`` search syntax (``updated_at:>'…'``, ``sku:…``) over an index that trails writes
  by ``search_lag`` seconds — "Shopify API search syntax".
- Business errors as ``userErrors`` (typed ``code`` per mutation) in HTTP 200 answers; input
  arrays at most 250 (``MAX_INPUT_SIZE_EXCEEDED``); prices as two-place decimal strings;
  handles made from titles (accents folded, ``-1`` suffix when taken); SKUs not unique.
- An inventory item's ``unitCost`` (MoneyV2, kept to the currency's two places, null until
  set) and ``measurement.weight`` (a ``Float`` in a ``WeightUnit``: GRAMS, KILOGRAMS, OUNCES,
  POUNDS; 0 kg until set), written through ``inventoryItem { cost measurement { weight } }``;
  a negative cost or weight is a userError — InventoryItem, InventoryItemInput, Weight,
  WeightInput, WeightUnit.
- Writes: ``productSet`` (list fields replaced, omitted variants deleted), ``productCreate``,
  ``productUpdate``, ``productDelete``, ``productVariantsBulkCreate/Update/Delete``
  (``allowPartialUpdates``), ``inventorySetQuantities`` and ``inventoryAdjustQuantities``
  with compare-and-swap by version (``compareQuantity`` before 2026-01, ``changeFromQuantity``
  from it, required from 2026-04), ``@idempotent(key:)`` (required for inventory writes from
  2026-04), ``metafieldsSet`` — the mutations' reference pages and the changelog entries on
  compare-and-swap and idempotency.
- Orders and customers reads (money bags, line items and ``shippingLines`` with their tax
  lines, each rounded to the cent, ``totalTaxSet`` their sum, prices with or without the tax
  by ``taxesIncluded``; refunds, fulfillments, fulfillment orders, derived display statuses),
  ``orderUpdate``, ``fulfillmentCreate`` (committed and on-hand stock leave with the parcel)
  — Order, ShippingLine, FulfillmentOrder references.
- Bulk operations: ``bulkOperationRunQuery`` (JSONL, nested connection rows with
  ``__parentId``), ``stagedUploadsCreate`` + upload + ``bulkOperationRunMutation`` (one result
  line per variables line), ``currentBulkOperation`` / ``node(id:)`` polling, concurrency by
  version — "Perform bulk operations", "Bulk import data". ``bulk_of(app)`` drives them:
  ``hold = True`` keeps new operations in CREATED until ``start(id)``, RUNNING until
  ``finish(id)``; ``await wait(id)`` returns when done.
- Webhooks signed with ``X-Shopify-Hmac-Sha256`` and the documented headers, retried with the
  same ids on failure — "About webhooks", "Verify webhook deliveries", "Ignore duplicates".
  Order bodies are REST orders: line items and shipping lines with their ``tax_lines``,
  ``taxes_included``, amounts beside their ``*_set`` — the REST Admin API's Order resource.

Control API (for tests)::

    from adapters.shopify.simulator import ManualClock, Settings, create_app, shop_of
    from adapters.simkit import serve, set_faults, Faults

    clock = ManualClock()
    app = create_app(products=20, seed=7, clock=clock, search_lag=2.0,
                     settings=Settings(bucket_size=2000, restore_rate=100))
    async with serve(app) as base:
        url = f"{base}/admin/api/2026-01/graphql.json"   # header X-Shopify-Access-Token: shpat_test
        shop = shop_of(app)
        shop.store                  # the records (Store): products, variants, levels, locations
        shop.buckets["shpat_test"]  # the token's Bucket: .available, .drain(points)
        shop.counters               # graphql_requests, throttled, max_cost_exceeded, ...
        clock.advance(1.5)          # moves the bucket refill, timestamps and the search index
        set_faults(app, Faults(error_rate=1.0))   # 5xx, latency, hangs (adapters.simkit)
        shop.bucket("shpat_test").drain(1500)     # throttle pressure

Out of process (``concord simulate shopify``) the same through HTTP: ``/__sim__/stats`` and
``/__sim__/faults`` (simkit), ``/__sim__/shopify/counters``, ``/__sim__/shopify/bucket``
(plan change or drain) and ``/__sim__/shopify/clock`` (see ``control``).

Planting records: :func:`~adapters.shopify.simulator.catalogue.new_product` and
:func:`~adapters.shopify.simulator.catalogue.add_variant` on ``shop.store``, then
``store.stock(item_id, location_id, quantity)`` and ``store.touch_product(product)`` (stamps
and queues it for the search index). Orders: ``plant_customer(store, email)``,
``plant_order(store, [(variant_id, qty)], customer=...)`` — a checkout (shipping taxed unless
``shipping_taxable=False``, ``taxes_included=True`` for tax-inclusive prices): available stock
moves to committed and ``orders/create`` is delivered to subscribers — and ``refund(store, order,
[(line_item_id, qty)], restock=True)`` (all in ``orders_model``). Webhooks: subscribe with
``webhookSubscriptionCreate``; ``deliveries_of(app).attempts`` lists every attempt; shorten
``Settings.webhook_retry_delays`` in tests.
``concord simulate shopify --products N --seed S`` serves a seeded shop.
"""

from adapters.shopify.simulator.app import bulk_of, create_app, deliveries_of, shop_of
from adapters.shopify.simulator.clock import Clock, ManualClock
from adapters.shopify.simulator.runner import run_simulator
from adapters.shopify.simulator.shop import Settings, Shop
from adapters.shopify.simulator.store import Store, gid, parse_gid

__all__ = [
    "Clock",
    "ManualClock",
    "Settings",
    "Shop",
    "Store",
    "bulk_of",
    "create_app",
    "deliveries_of",
    "gid",
    "parse_gid",
    "run_simulator",
    "shop_of",
]
