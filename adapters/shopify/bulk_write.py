"""Many articles written in one bulk operation: ``productSet`` once per line of a JSONL file.

A ``productSet`` costs at least ten points, so a 30,000-article export on the Basic plan's
100 points/s would take most of an hour call by call; a bulk mutation costs a few calls
whatever its size. :func:`run` asks for a staged upload target
(``stagedUploadsCreate``, resource ``BULK_MUTATION_VARIABLES``), posts the variables there as a
form (the target's parameters, then the file; a signed storage address, so without the access
token), starts ``bulkOperationRunMutation`` on the uploaded path, waits for the operation and
reads its result: one row per input line, ``__lineNumber`` counting from 0, holding that
line's ``data`` (or ``errors``). Once the operation has started, a failure to follow it
(a poll or the download) says nothing about its lines, which Shopify may still be running:
:class:`Unsettled` carries the operation's id, and :func:`outcome` asks later how it ended.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import msgspec

from adapters.base import TransientError
from adapters.shopify import bulk_read, cost
from adapters.shopify.client import ShopifyClient, user_errors

log = logging.getLogger("concord.shopify")


class Unsettled(TransientError):
    """A bulk mutation failed after it started: ``operation`` may still be running, and
    any of its lines may yet be carried out."""

    def __init__(self, message: str, *, operation: str, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.operation = operation


STAGE = (
    "mutation Stage($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) {"
    " stagedTargets { url resourceUrl parameters { name value } }"
    " userErrors { field message } } }"
)
RUN = (
    "mutation Run($mutation: String!, $path: String!) {"
    " bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path) {"
    " bulkOperation { id status } userErrors { field message code } } }"
)


async def run(
    client: ShopifyClient,
    mutation: str,
    variables: list[dict[str, Any]],
    *,
    poll_seconds: float,
) -> list[dict[str, Any] | None]:
    """The answer of ``mutation`` to each variables line, in order (None: no row came back
    for it); :class:`bulk_read.Busy` when Shopify runs as many bulk operations as it allows,
    :class:`Unsettled` when the operation started but its result could not be read."""
    path = await _upload(client, b"".join(msgspec.json.encode(v) + b"\n" for v in variables))
    # Not sent again on a lost answer: a second run of the same file would create twice.
    data = await client.execute(
        RUN, {"mutation": mutation, "path": path}, cost=cost.MUTATION, idempotent=False
    )
    operation = bulk_read.started(data.get("bulkOperationRunMutation"), "mutation")
    try:
        rows = await bulk_read.result_rows(client, operation, poll_seconds)
    except TransientError as exc:
        message = f"{exc} (bulk operation {operation} may still be running)"
        raise Unsettled(message, operation=operation, retry_after=exc.retry_after) from exc
    answers = by_line(rows)
    return [answers.get(number) for number in range(len(variables))]


async def outcome(
    client: ShopifyClient, operation: str
) -> tuple[str, dict[int, dict[str, Any]] | None]:
    """The status of a bulk mutation started earlier and, once it has ended, its answers by
    line number (None: it is still created or running). An operation that failed, was
    cancelled or expired, or whose result cannot be read, answers no line: any of them may
    have been carried out."""
    state = await bulk_read.state_of(client, operation)
    status = str(state.get("status"))
    if status not in bulk_read.DONE:
        return status, None
    url = state.get("url")
    if status != "COMPLETED" or not url:
        return status, {}
    try:
        rows = await bulk_read.rows(str(url), client.settings.timeout)
    except TransientError as exc:
        log.warning("Shopify bulk operation %s: its result unread: %s", operation, exc)
        return status, {}
    return status, by_line(rows)


def by_line(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """A bulk mutation's result rows by the number of the variables line each answers."""
    return {number: row for row in rows if isinstance(number := row.get("__lineNumber"), int)}


async def _upload(client: ShopifyClient, body: bytes) -> str:
    """Where the variables file was staged: the path ``bulkOperationRunMutation`` takes."""
    data = await client.execute(
        STAGE,
        {
            "input": [
                {
                    "resource": "BULK_MUTATION_VARIABLES",
                    "filename": "concord-products.jsonl",
                    "mimeType": "text/jsonl",
                    "httpMethod": "POST",
                }
            ]
        },
        cost=cost.MUTATION,
    )
    payload = data.get("stagedUploadsCreate") or {}
    problems = user_errors(payload)
    targets = payload.get("stagedTargets") or []
    if problems or not targets:
        reason = "; ".join(p.reason() for p in problems) or "no target"
        raise TransientError(f"Shopify staged upload: {reason}")
    target = targets[0]
    parameters = {p["name"]: p["value"] for p in target.get("parameters") or []}
    form = aiohttp.FormData()
    for name, value in parameters.items():
        form.add_field(name, value)
    form.add_field("file", body, filename="concord-products.jsonl", content_type="text/jsonl")
    timeout = aiohttp.ClientTimeout(total=client.settings.timeout * 10)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(target["url"], data=form) as response,
        ):
            if response.status not in (200, 201, 204):
                raise TransientError(f"Shopify staged upload: HTTP {response.status}")
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise TransientError(f"Shopify staged upload: {type(exc).__name__}: {exc}") from None
    if "key" not in parameters:
        raise TransientError("Shopify staged upload: the target named no key")
    return str(parameters["key"])
