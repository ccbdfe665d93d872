"""Bulk operations: ``bulkOperationRunQuery`` and, after ``stagedUploadsCreate`` and an upload,
``bulkOperationRunMutation``.

An operation is created (``CREATED``), starts (``RUNNING``) and completes (``COMPLETED``) in a
task of its own; the JSONL result is served from this simulator's own address. A query's
result has one line per node, nested connection nodes on lines of their own carrying
``__parentId``; a mutation's has one line per variables line, with ``__lineNumber``. From
2026-01 five operations may run at once per app, before it one query and one mutation —
"Perform bulk operations with the GraphQL Admin API", "Bulk import data", the BulkOperation
reference.

Tests drive the lifecycle with events: with ``BulkOperations.hold`` set, an operation waits in
``CREATED`` until :meth:`BulkOperations.start` and in ``RUNNING`` until
:meth:`BulkOperations.finish`; :meth:`BulkOperations.created` returns the next one created,
:meth:`BulkOperations.wait_running` and :meth:`BulkOperations.wait` once it is running, or done.
``Shop.fail_bulk_polls`` makes reads of an operation fail while it runs on.
"""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from aiohttp import web
from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
)

from adapters.shopify.simulator.clock import iso
from adapters.shopify.simulator.connection import BULK
from adapters.shopify.simulator.reads import NODE_LOADERS
from adapters.shopify.simulator.schema import admin_schema, checked
from adapters.shopify.simulator.shop import AnswerLost, Shop
from adapters.shopify.simulator.store import Store, gid, parse_gid
from adapters.shopify.simulator.views import View

CONCURRENT_SINCE = "2026-01"
MAX_CONCURRENT = 5
LINES_PER_TURN = 10
"""Lines of a bulk mutation run between two turns of the other requests."""


@dataclass
class Operation:
    id: int
    type: str
    query: str
    version: str
    created_at: datetime
    status: str = "CREATED"
    completed_at: datetime | None = None
    object_count: int = 0
    root_count: int = 0
    result: bytes | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    running: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    variables_key: str | None = None
    base_url: str = ""
    """Where the simulator was reached when the operation started: its result's address."""


def _is_connection(value: Any) -> bool:
    return isinstance(value, dict) and (
        isinstance(value.get("edges"), list) or isinstance(value.get("nodes"), list)
    )


def _connection_nodes(value: dict[str, Any]) -> list[Any]:
    if isinstance(value.get("nodes"), list):
        return list(value["nodes"])
    return [edge.get("node") for edge in value.get("edges", []) if isinstance(edge, dict)]


def flatten(node: dict[str, Any], parent: str | None, lines: list[dict[str, Any]]) -> None:
    """One JSONL row for ``node``; its nested connections' nodes become rows of their own."""
    row: dict[str, Any] = {}
    nested: list[dict[str, Any]] = []

    def strip(source: dict[str, Any], into: dict[str, Any]) -> None:
        for key, value in source.items():
            if _is_connection(value):
                nested.extend(n for n in _connection_nodes(value) if isinstance(n, dict))
            elif isinstance(value, dict):
                inner: dict[str, Any] = {}
                strip(value, inner)
                into[key] = inner
            else:
                into[key] = value

    strip(node, row)
    if parent is not None:
        row["__parentId"] = parent
    lines.append(row)
    for child in nested:
        flatten(child, row.get("id", parent), lines)


@contextmanager
def _whole_answer() -> Iterator[None]:
    """The cyclic garbage collector held off while a bulk query's answer is built at once:
    its millions of acyclic dicts, alive until it is encoded, would set off full collections,
    each a walk over the whole shop. The block never awaits, so nothing else runs meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class BulkOperations:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.operations: dict[int, Operation] = shop.store.extra.setdefault("bulk_operations", {})
        self.uploads: dict[str, bytes] = {}
        self.hold = False
        self._launched: asyncio.Queue[int] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- driving from tests -------------------------------------------------------------

    def start(self, operation_id: int) -> None:
        self.operations[operation_id].started.set()

    def finish(self, operation_id: int) -> None:
        self.operations[operation_id].started.set()
        self.operations[operation_id].finished.set()

    async def wait_running(self, operation_id: int) -> Operation:
        operation = self.operations[operation_id]
        await operation.running.wait()
        return operation

    async def created(self) -> int:
        """The id of the next operation created (or the oldest not yet taken)."""
        return await self._launched.get()

    async def wait(self, operation_id: int) -> Operation:
        operation = self.operations[operation_id]
        await operation.done.wait()
        return operation

    # -- running ------------------------------------------------------------------------

    def _launch(self, operation: Operation, base_url: str) -> None:
        operation.base_url = base_url
        self.operations[operation.id] = operation
        self._launched.put_nowait(operation.id)
        if not self.hold:
            operation.started.set()
            operation.finished.set()
        task = asyncio.get_running_loop().create_task(self._run(operation, base_url))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, operation: Operation, base_url: str) -> None:
        await operation.started.wait()
        operation.status = "RUNNING"
        operation.running.set()
        await operation.finished.wait()
        try:
            lines = (
                self._query_lines(operation)
                if operation.type == "QUERY"
                else await self._mutation_lines(operation)
            )
            operation.result = b"".join(line + b"\n" for line in lines)
            operation.object_count = len(lines)
            operation.status = "COMPLETED"
        except Exception:
            operation.status = "FAILED"
        operation.completed_at = self.shop.store.now()
        operation.done.set()
        self.shop.store.emit("bulk_operations/finish", operation.id)

    def _query_lines(self, operation: Operation) -> list[bytes]:
        token = BULK.set(True)
        try:
            with _whole_answer():
                result = execute(
                    admin_schema(),
                    parse(operation.query),
                    root_value=self.shop.query_root,
                    context_value={"shop": self.shop, "version": operation.version},
                )
                assert isinstance(result, ExecutionResult)
                if result.errors or not result.data:
                    raise RuntimeError("bulk query failed")
                lines: list[dict[str, Any]] = []
                [top] = result.data.values()
                roots = _connection_nodes(top)
                operation.root_count = len(roots)
                for node in roots:
                    flatten(node, None, lines)
                return [msgspec.json.encode(line) for line in lines]
        finally:
            BULK.reset(token)

    async def _mutation_lines(self, operation: Operation) -> list[bytes]:
        document = parse(operation.query)
        raw = self.uploads.get(operation.variables_key or "", b"")
        # Encoded as they come: bytes, unlike the answers' dicts, give the cyclic garbage
        # collector nothing to walk while a large file runs.
        lines: list[bytes] = []
        for number, text in enumerate(raw.splitlines()):
            if not text.strip():
                continue
            if number % LINES_PER_TURN == 0:
                # Shopify runs a bulk mutation on its own machines: the API keeps answering
                # meanwhile, so other requests get their turn between lines here.
                await asyncio.sleep(0)
            variables = msgspec.json.decode(text)
            result = execute(
                admin_schema(),
                document,
                root_value=self.shop.mutation_root,
                context_value={"shop": self.shop, "version": operation.version},
                variable_values=variables,
            )
            assert isinstance(result, ExecutionResult)
            line: dict[str, Any] = {"data": result.data, "__lineNumber": number}
            if result.errors:
                line["errors"] = [dict(e.formatted) for e in result.errors]
            lines.append(msgspec.json.encode(line))
        operation.root_count = len(lines)
        return lines

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- GraphQL ------------------------------------------------------------------------

    def view(self, operation: Operation, base_url: str | None = None) -> View:
        base = base_url or operation.base_url or self.shop.settings.public_url
        has_rows = operation.status == "COMPLETED" and operation.result
        return {
            "__typename": "BulkOperation",
            "id": gid("BulkOperation", operation.id),
            "status": operation.status,
            "errorCode": "INTERNAL_SERVER_ERROR" if operation.status == "FAILED" else None,
            "objectCount": str(operation.object_count),
            "rootObjectCount": str(operation.root_count),
            "fileSize": str(len(operation.result)) if has_rows and operation.result else None,
            "url": f"{base}/__sim__/bulk/{operation.id}.jsonl" if has_rows else None,
            "partialDataUrl": None,
            "createdAt": iso(operation.created_at),
            "completedAt": None if operation.completed_at is None else iso(operation.completed_at),
            "type": operation.type,
            "query": operation.query,
        }

    def _busy(self, kind: str, version: str, code_field: str) -> View | None:
        running = [o for o in self.operations.values() if o.status in ("CREATED", "RUNNING")]
        if version >= CONCURRENT_SINCE or version == "unstable":
            if len(running) >= MAX_CONCURRENT:
                return {
                    "field": None,
                    "message": "Too many bulk operations are running.",
                    "code": "LIMIT_REACHED",
                }
            return None
        if any(o.type == kind for o in running):
            message = (
                f"A bulk {kind.lower()} operation for this app and shop is already in progress"
            )
            return {"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}
        return None

    def _new(self, kind: str, query: str, version: str) -> Operation:
        store: Store = self.shop.store
        return Operation(store.new_id(), kind, query, version, store.now())

    def resolvers(self) -> tuple[View, View]:
        def run_query(info: GraphQLResolveInfo, query: str, groupObjects: bool = False) -> View:
            version = info.context["version"]
            problem = _check_query(query) or self._busy("QUERY", version, "query")
            if problem:
                return {"bulkOperation": None, "userErrors": [problem]}
            operation = self._new("QUERY", query, version)
            self._launch(operation, info.context["base_url"])
            return {
                "bulkOperation": self.view(operation, info.context["base_url"]),
                "userErrors": [],
            }

        def run_mutation(
            info: GraphQLResolveInfo, mutation: str, stagedUploadPath: str, **_: Any
        ) -> View:
            version = info.context["version"]
            if stagedUploadPath not in self.uploads:
                missing = {
                    "field": ["stagedUploadPath"],
                    "message": "The JSONL file could not be found.",
                    "code": "NO_SUCH_FILE",
                }
                return {"bulkOperation": None, "userErrors": [missing]}
            problem = _check_mutation(mutation) or self._busy("MUTATION", version, "mutation")
            if problem:
                return {"bulkOperation": None, "userErrors": [problem]}
            operation = self._new("MUTATION", mutation, version)
            operation.variables_key = stagedUploadPath
            self._launch(operation, info.context["base_url"])
            return {
                "bulkOperation": self.view(operation, info.context["base_url"]),
                "userErrors": [],
            }

        def cancel(info: GraphQLResolveInfo, id: str) -> View:
            number = parse_gid(id, "BulkOperation")
            operation = None if number is None else self.operations.get(number)
            if operation is None:
                return {
                    "bulkOperation": None,
                    "userErrors": [
                        {"field": ["id"], "message": "Bulk operation does not exist", "code": None}
                    ],
                }
            if operation.status in ("CREATED", "RUNNING"):
                operation.status = "CANCELED"
                operation.completed_at = self.shop.store.now()
                operation.done.set()
            return {
                "bulkOperation": self.view(operation, info.context["base_url"]),
                "userErrors": [],
            }

        def staged(info: GraphQLResolveInfo, input: list[dict[str, Any]]) -> View:
            targets = []
            for row in input:
                key = f"tmp/{self.shop.store.new_id()}/bulk/{uuid.uuid4()}/{row['filename']}"
                targets.append(
                    {
                        "url": f"{info.context['base_url']}/__sim__/staged-uploads",
                        "resourceUrl": None,
                        "parameters": [
                            {"name": "Content-Type", "value": row["mimeType"]},
                            {"name": "success_action_status", "value": "201"},
                            {"name": "acl", "value": "private"},
                            {"name": "key", "value": key},
                        ],
                    }
                )
            return {"stagedTargets": targets, "userErrors": []}

        def current(info: GraphQLResolveInfo, type: str = "QUERY") -> View | None:
            mine = [o for o in self.operations.values() if o.type == type]
            return None if not mine else self.view(mine[-1], info.context.get("base_url"))

        def load(_: Store, number: int) -> View | None:
            if self.shop.fail_bulk_polls > 0:
                self.shop.fail_bulk_polls -= 1
                self.shop.count("bulk_polls_failed")
                raise AnswerLost(f"bulk operation {number}")
            found = self.operations.get(number)
            return None if found is None else self.view(found)

        NODE_LOADERS["BulkOperation"] = load
        mutations = {
            "bulkOperationRunQuery": run_query,
            "bulkOperationRunMutation": run_mutation,
            "bulkOperationCancel": cancel,
            "stagedUploadsCreate": staged,
        }
        return mutations, {"currentBulkOperation": current}

    # -- HTTP -----------------------------------------------------------------------------

    async def serve_result(self, request: web.Request) -> web.Response:
        number = int(request.match_info["id"])
        operation = self.operations.get(number)
        if operation is None or operation.result is None:
            raise web.HTTPNotFound()
        return web.Response(body=operation.result, content_type="application/jsonl")

    async def receive_upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        key = form.get("key")
        upload = form.get("file")
        if not isinstance(key, str) or not isinstance(upload, web.FileField):
            return web.Response(status=400, text="key and file are required")
        self.uploads[key] = upload.file.read()
        return web.Response(
            status=201,
            text=f"<PostResponse><Key>{key}</Key></PostResponse>",
            content_type="application/xml",
        )


def _root_fields(text: str) -> tuple[OperationDefinitionNode | None, str | None]:
    document, problems = checked(text)
    if document is None or problems:
        return None, problems[0].message
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return None, "Bulk operations take exactly one operation."
    return operations[0], None


def _check_query(text: str) -> View | None:
    operation, problem = _root_fields(text)
    if operation is not None and operation.operation != OperationType.QUERY:
        problem = "Bulk queries cannot contain mutations."
    if operation is not None and problem is None:
        fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
        if len(fields) != 1:
            problem = "Bulk queries must contain exactly one top-level connection field."
    return None if problem is None else {"field": ["query"], "message": problem, "code": "INVALID"}


def _check_mutation(text: str) -> View | None:
    operation, problem = _root_fields(text)
    if operation is not None and operation.operation != OperationType.MUTATION:
        problem = "The bulk mutation must be a mutation."
    if operation is not None and problem is None and len(operation.selection_set.selections) != 1:
        problem = "The bulk mutation must contain exactly one mutation field."
    return (
        None
        if problem is None
        else {"field": ["mutation"], "message": problem, "code": "INVALID_MUTATION"}
    )
