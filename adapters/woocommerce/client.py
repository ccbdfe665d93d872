"""WooCommerce's REST conventions on top of the shared HTTP client: paging, decoding, batches.

A list is read by asking for the first page, learning ``X-WP-TotalPages``, then asking for the
remaining pages together (the HTTP client bounds how many are in flight and how fast).
Bodies decode straight into Structs. A body that is not JSON (cut short by a proxy, say) is a
transport failure: the page is asked for again, and :class:`TransientError` is raised if it
stays broken. A record that decodes as JSON but not as the expected shape is left out and
reported in ``rejected`` with the reason, so one bad product never stops a snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Generic, TypeVar

import msgspec

from adapters.base import PermanentError, TransientError
from adapters.http import HttpClient, Response
from adapters.woocommerce import schema

T = TypeVar("T")
PER_PAGE = 100
BATCH_LIMIT = 100
WINDOW = 8
"""Pages read at once by :meth:`WooClient.windows`."""
_DECODE_ATTEMPTS = 6
_ERROR_STATUSES = (400, 404, 409, 413)
_RAW_LIST = list[msgspec.Raw]


class Page(msgspec.Struct, Generic[T], kw_only=True):
    records: list[T]
    total_pages: int


def error_of(response: Response) -> schema.Error:
    """The platform's error body, or a stand-in naming the HTTP status."""
    try:
        return msgspec.json.decode(response.body, type=schema.Error)
    except msgspec.DecodeError:
        return schema.Error(
            code=f"http_{response.status}", message=response.body[:200].decode("utf-8", "replace")
        )


class WooClient:
    """Requests to one shop's ``/wp-json/wc/v3``."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def _get_page(
        self, path: str, params: Mapping[str, str], type_: type[T], rejected: list[tuple[str, str]]
    ) -> Page[T]:
        for attempt in range(1, _DECODE_ATTEMPTS + 1):
            response = await self.http.request(
                "GET", path, params=params, ok=(200, *_ERROR_STATUSES)
            )
            if response.status != 200:
                raise PermanentError(f"GET {path}: {error_of(response).reason()}")
            try:
                records = _page_decoder(type_).decode(response.body)
            except (msgspec.DecodeError, UnicodeDecodeError):
                # Some record does not fit, or is not UTF-8 (msgspec up to 0.22 says so with a
                # ValidationError or UnicodeDecodeError, from 0.23 with a DecodeError), or the
                # body is malformed: splitting it into records tells which, and only the
                # records that do not decode are left out.
                pass
            else:
                return Page(records=records, total_pages=_total_pages(response))
            try:
                raws = msgspec.json.decode(response.body, type=_RAW_LIST)
            except msgspec.ValidationError:
                raise PermanentError(f"GET {path}: the answer is not a list") from None
            except msgspec.DecodeError as exc:
                if attempt == _DECODE_ATTEMPTS:
                    raise TransientError(f"GET {path}: malformed body: {exc}") from None
                continue
            records = decode_each(raws, type_, path, rejected)
            return Page(records=records, total_pages=_total_pages(response))
        raise AssertionError("unreachable")

    async def list_all(
        self, path: str, params: Mapping[str, str], type_: type[T], rejected: list[tuple[str, str]]
    ) -> list[T]:
        """Every record of a list endpoint; records that do not decode go to ``rejected``."""
        query = {**params, "per_page": str(PER_PAGE), "page": "1"}
        first = await self._get_page(path, query, type_, rejected)
        records = first.records
        if first.total_pages > 1:
            pages = await asyncio.gather(
                *(
                    self._get_page(path, {**query, "page": str(n)}, type_, rejected)
                    for n in range(2, first.total_pages + 1)
                )
            )
            for page in pages:
                records += page.records
        return records

    async def windows(
        self, path: str, params: Mapping[str, str], type_: type[T], rejected: list[tuple[str, str]]
    ) -> AsyncGenerator[list[T], None]:
        """The records of a list endpoint :data:`WINDOW` pages at a time, the next window read
        while the caller works on this one: a long list is never all in memory."""
        query = {**params, "per_page": str(PER_PAGE), "page": "1"}
        first = await self._get_page(path, query, type_, rejected)
        numbers = list(range(2, first.total_pages + 1))
        chunks = [numbers[i : i + WINDOW] for i in range(0, len(numbers), WINDOW)]

        def read(chunk: list[int]) -> asyncio.Future[list[Page[T]]]:
            return asyncio.ensure_future(
                asyncio.gather(
                    *(
                        self._get_page(path, {**query, "page": str(n)}, type_, rejected)
                        for n in chunk
                    )
                )
            )

        pending = read(chunks[0]) if chunks else None
        try:
            yield first.records
            for index in range(len(chunks)):
                assert pending is not None
                pages = await pending
                pending = read(chunks[index + 1]) if index + 1 < len(chunks) else None
                yield [record for page in pages for record in page.records]
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
            elif pending is not None and not pending.cancelled():
                pending.exception()  # seen: the error being raised is the caller's

    async def get(self, path: str, type_: type[T]) -> T | schema.Error:
        """GET one object; the decoded answer, or the platform's error (unknown id...)."""
        response = await self.http.request("GET", path, ok=(200, *_ERROR_STATUSES))
        if response.status != 200:
            return error_of(response)
        return _decode(response, path, type_)

    async def post(self, path: str, body: Any, type_: type[T]) -> T | schema.Error:
        """POST one object; the decoded answer, or the platform's error for a refused item."""
        response = await self.http.request(
            "POST", path, body=msgspec.json.encode(body), ok=(200, 201, *_ERROR_STATUSES)
        )
        if response.status not in (200, 201):
            return error_of(response)
        return _decode(response, path, type_)

    async def batch(
        self,
        path: str,
        *,
        create: list[dict[str, Any]] | None = None,
        update: list[dict[str, Any]] | None = None,
    ) -> schema.BatchReply:
        """One ``POST …/batch``; per-item errors come back inside the reply."""
        body = {"create": create or [], "update": update or []}
        if not body["create"] and not body["update"]:
            return schema.BatchReply()  # nothing to write: no request at all
        if len(body["create"]) + len(body["update"]) > BATCH_LIMIT:
            raise ValueError(f"more than {BATCH_LIMIT} items in one batch")
        response = await self.http.request(
            "POST", f"{path}/batch", body=msgspec.json.encode(body), ok=(200, *_ERROR_STATUSES)
        )
        items = [("create", item) for item in body["create"]]
        items += [("update", item) for item in body["update"]]
        if response.status == 413 and len(items) > 1:
            # Too large for the server (a proxy's body limit, say, with long descriptions):
            # halves go through where the whole did not, and the replies keep their order.
            half = len(items) // 2
            first = await self._batch_of(path, items[:half])
            second = await self._batch_of(path, items[half:])
            return schema.BatchReply(
                create=first.create + second.create, update=first.update + second.update
            )
        if response.status != 200:
            raise PermanentError(f"POST {path}/batch: {error_of(response).reason()}")
        if response.body.strip() == b"[]":
            return schema.BatchReply()  # PHP's empty array: no action had anything to answer
        return _decode(response, path, schema.BatchReply)

    async def _batch_of(
        self, path: str, items: list[tuple[str, dict[str, Any]]]
    ) -> schema.BatchReply:
        return await self.batch(
            path,
            create=[item for action, item in items if action == "create"],
            update=[item for action, item in items if action == "update"],
        )


def _decode(response: Response, path: str, type_: type[T]) -> T:
    try:
        return msgspec.json.decode(response.body, type=type_)
    except msgspec.ValidationError as exc:
        raise PermanentError(f"{path}: unexpected answer: {exc}") from None
    except msgspec.DecodeError as exc:
        # The write happened or not; either way a retry is safe (creations are idempotent).
        raise TransientError(f"{path}: malformed body: {exc}") from None


def _total_pages(response: Response) -> int:
    pages = response.headers.get("X-WP-TotalPages", "1")
    return int(pages) if pages.isdigit() else 1


_PAGE_DECODERS: dict[type[Any], msgspec.json.Decoder[Any]] = {}


def _page_decoder(type_: type[T]) -> msgspec.json.Decoder[list[T]]:
    """A page decoded whole in one call: far cheaper than record by record."""
    decoder = _PAGE_DECODERS.get(type_)
    if decoder is None:
        decoder = _PAGE_DECODERS[type_] = msgspec.json.Decoder(list[type_])  # type: ignore[valid-type]
    return decoder


def decode_each(
    raws: list[msgspec.Raw], type_: type[T], path: str, rejected: list[tuple[str, str]]
) -> list[T]:
    """Decode each record on its own; the ones that do not fit ``type_`` are reported."""
    records: list[T] = []
    for raw in raws:
        try:
            records.append(msgspec.json.decode(raw, type=type_))
        except msgspec.ValidationError as exc:
            rejected.append((_identity(raw), f"{path}: {exc}"))
        except (msgspec.DecodeError, UnicodeDecodeError):
            # The page split into records, so this one is well-formed JSON: what fails is its
            # text, saved in another encoding (an old import plugin). Only this record is lost.
            rejected.append((_identity(raw), f"{path}: text is not valid UTF-8"))
    return records


def _identity(raw: msgspec.Raw) -> str:
    """The id of a record that does not decode, to name it in the report."""
    try:
        return str(msgspec.json.decode(raw, type=schema.Identity).id)
    except msgspec.DecodeError:
        return "?"
