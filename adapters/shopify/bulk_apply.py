"""Writing articles to Shopify as the lines of one bulk mutation, and settling bulk mutations
whose answer was lost: :class:`BulkWrites`, a part of the Shopify adapter
(:class:`adapters.shopify.adapter.ShopifyAdapter`).

A bulk mutation spends no points but takes Shopify its own time; one that failed after it
started may still be creating products, so its creations are held
(:class:`adapters.shopify.uncertain.LostCreations`) until Shopify says it has ended, and the
products its result file shows are then taken up rather than created again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.base import Create, Failed, ItemResult, Operation, Seen, TransientError, Update
from adapters.shopify import bulk_read, bulk_write
from adapters.shopify.client import ShopifyClient
from adapters.shopify.products import ShopProduct
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.uncertain import LostCreations
from adapters.shopify.variant_limit import VariantAllowance, is_variant_limit
from adapters.shopify.writes import SET_PRODUCT

log = logging.getLogger("concord.shopify")


class BulkWrites:
    """Bulk-mutation writes for the Shopify adapter, which holds the attributes declared here
    and defines the methods this part calls (preparing and settling one ``productSet``,
    decoding and remembering products)."""

    client: ShopifyClient
    settings: ShopifySettings
    lost: LostCreations
    allowance: VariantAllowance
    _product_of: dict[str, str]

    async def _prepare(self, operation: Operation) -> dict[str, Any] | Failed:
        raise NotImplementedError

    async def _settle(self, key: str, payload: Any, sent: Mapping[str, Any]) -> ItemResult:
        raise NotImplementedError

    def _decode(self, node: Any) -> ShopProduct | None:
        raise NotImplementedError

    async def _convert(self, found: list[ShopProduct]) -> list[Seen]:
        raise NotImplementedError

    async def _write_in_bulk(self, operations: Sequence[Operation]) -> list[ItemResult] | None:
        """Every operation in one bulk mutation (None: Shopify runs as many as it allows)."""
        prepared = await asyncio.gather(*(self._prepare(op) for op in operations))
        lines = [p for p in prepared if not isinstance(p, Failed)]
        try:
            answers = iter(
                await bulk_write.run(
                    self.client, SET_PRODUCT, lines, poll_seconds=self.settings.bulk_poll_seconds
                )
            )
        except bulk_read.Busy as exc:
            log.info("Shopify: %s; %d articles written one by one", exc, len(operations))
            return None
        except TransientError as exc:
            # Some lines may have run: the batch is retried, without its creations for now.
            sent = [
                (op.key, p)
                for op, p in zip(operations, prepared, strict=True)
                if not isinstance(p, Failed)
            ]
            creating = {number: key for number, (key, p) in enumerate(sent) if creates(p)}
            for key in creating.values():
                self.lost.lost(key, f"its bulk mutation failed: {exc}")
            if isinstance(exc, bulk_write.Unsettled):
                self.lost.in_bulk(exc.operation, creating)
            raise
        results: list[ItemResult] = []
        for operation, variables in zip(operations, prepared, strict=True):
            key = operation.key
            row = variables if isinstance(variables, Failed) else next(answers)
            if isinstance(row, Failed):
                results.append(row)
            elif row is None and creates(variables):
                results.append(self.lost.lost(key, "no line in the bulk result"))
            elif row is None:
                results.append(Failed(key=key, reason=f"{key}: no line in the bulk result"))
            elif row.get("errors"):
                reason = "; ".join(str(e.get("message")) for e in row["errors"])
                if is_variant_limit(reason):
                    self.allowance.reached(None)
                    results.append(self.allowance.refuse(key))
                else:
                    results.append(Failed(key=key, reason=f"{key}: {reason}"))
            else:
                payload = (row.get("data") or {}).get("productSet")
                results.append(await self._settle(key, payload, sent_fields(operation)))
        return results

    async def _settle_bulk(self, keys: list[str]) -> None:
        """Ask once how each bulk mutation that may still create one of ``keys`` stands; the
        products an ended one made become known, so they are written over, not created."""
        for operation, lines in self.lost.pending(keys).items():
            try:
                status, answers = await bulk_write.outcome(self.client, operation)
            except TransientError as exc:
                self.lost.running(operation, f"its status unknown: {exc}")
                continue
            if answers is None:
                self.lost.running(operation, status)
                continue
            for number, key in lines.items():
                row = answers.get(number)
                if row is None:
                    continue  # no answer: the window from now lets the search show it
                made = ((row.get("data") or {}).get("productSet") or {}).get("product")
                if made:
                    product = self._decode(made)
                    if product is None:
                        continue  # unreadable: left to the window, never created again
                    await self._convert([product])
                    # Its own SKU may not be kept yet (a product given variants): the
                    # article's next write goes over this product and keeps it.
                    self._product_of[key] = product.id
                self.lost.found(key)  # made (now known) or refused: nothing to wait for
            self.lost.ended(operation)


def sent_fields(operation: Operation) -> Mapping[str, Any]:
    """The field values ``operation`` sends (none for an archive)."""
    return operation.fields if isinstance(operation, Create | Update) else {}


def creates(variables: dict[str, Any] | Failed) -> bool:
    """Whether these ``productSet`` variables create a product (they name none)."""
    return isinstance(variables, dict) and "id" not in variables["input"]


async def nothing() -> None:
    return None
