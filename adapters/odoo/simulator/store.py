"""The Odoo simulator's in-memory ORM: tables of rows, searches, reads and atomic writes.

Every public call runs as one transaction, as an Odoo RPC call does: a failure part-way
through undoes what the call had changed. Searches cache their sorted result per domain and
order until the next write, so paging through 30,000 products costs one scan, not one per page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from adapters.odoo.simulator import behaviour, hierarchy
from adapters.odoo.simulator.domain import compile_domain, mentions, parse_order
from adapters.odoo.simulator.errors import OdooError
from adapters.odoo.simulator.records import Row
from adapters.odoo.simulator.schema import FIELDS, TAX_FIELD_RENAMED, FieldSpec

Clock = Callable[[], datetime]
_CACHE_SIZE = 64
_MISSING = object()
STAMP = "%Y-%m-%d %H:%M:%S"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OdooStore:
    """Tables of rows keyed by id, with Odoo's ORM methods over them."""

    def __init__(
        self,
        *,
        clock: Clock = _utcnow,
        unique_default_code: bool = True,
        server_version: tuple[int, int] = (19, 0),
    ) -> None:
        self.server_version = server_version
        """The Odoo version served: which field names exist (``tax_id`` or ``tax_ids``)."""
        renamed = server_version >= TAX_FIELD_RENAMED
        self.tax_field = "tax_ids" if renamed else "tax_id"
        """The name of ``sale.order.line``'s taxes in this version."""
        self._absent = {("sale.order.line", "tax_id" if renamed else "tax_ids")}
        self.tables: dict[str, dict[int, Row]] = {model: {} for model in FIELDS}
        self.clock = clock
        self.unique_default_code = unique_default_code
        self.version = 0
        self._next_id: dict[str, int] = dict.fromkeys(FIELDS, 1)
        self._last_stamp = ""
        self._undo: list[Callable[[], None]] | None = None
        self._cache: dict[tuple[Any, ...], tuple[int, list[int]]] = {}
        self._indexes: dict[tuple[str, str], tuple[int, dict[Any, list[Row]]]] = {}
        self._table_version: dict[str, int] = {}
        """Per model, bumped by each change of its rows: an index outlives other tables' writes."""
        self.constraints: list[Callable[[str, Row], str | None]] = []
        """Checks run on every created record, as a custom module's ``@api.constrains``: a
        message refuses the record with a ValidationError."""
        self.by_code: dict[str, int] = {}
        self.by_barcode: dict[str, int] = {}
        self.quant_at: dict[tuple[int, int], int] = {}

    # -- time -----------------------------------------------------------------------------

    def now(self) -> str:
        """The server clock as Odoo writes it (UTC, to the second), never going backwards."""
        stamp = self.clock().astimezone(UTC).strftime(STAMP)
        self._last_stamp = max(stamp, self._last_stamp)
        return self._last_stamp

    # -- low-level mutations, each undoable -------------------------------------------------

    def _index(self, model: str, row: Row, add: bool) -> None:
        keys: list[tuple[dict[Any, int], Any]] = []
        if model == "product.product":
            keys = [(self.by_code, row.get("default_code")), (self.by_barcode, row.get("barcode"))]
        elif model == "stock.quant":
            keys = [(self.quant_at, (row.get("product_id"), row.get("location_id")))]
        for index, key in keys:
            if key in (False, None, "") or (isinstance(key, tuple) and False in key):
                continue
            if add:
                index[key] = row["id"]
            elif index.get(key) == row["id"]:
                del index[key]

    def _log(self, undo: Callable[[], None]) -> None:
        self.version += 1
        if self._undo is not None:
            self._undo.append(undo)

    def _changed(self, model: str) -> None:
        self._table_version[model] = self._table_version.get(model, 0) + 1

    def insert(self, model: str, row: Row) -> None:
        """Add a row as is (ids and stamps included); used by the ORM and the seed."""
        self._changed(model)
        self.tables[model][row["id"]] = row
        self._next_id[model] = max(self._next_id[model], row["id"] + 1)
        self._index(model, row, True)
        self._log(lambda: self.delete(model, row["id"]))

    def delete(self, model: str, rid: int) -> None:
        self._changed(model)
        row = self.tables[model].pop(rid)
        self._index(model, row, False)
        self._log(lambda: self.insert(model, row))

    def set(self, model: str, rid: int, field: str, value: Any) -> None:
        self._changed(model)
        row = self.tables[model][rid]
        old = row.get(field, _MISSING)
        self._index(model, row, False)
        row[field] = value
        self._index(model, row, True)

        def undo() -> None:
            self._changed(model)
            self._index(model, row, False)
            if old is _MISSING:
                row.pop(field, None)
            else:
                row[field] = old
            self._index(model, row, True)

        self._log(undo)

    def new_id(self, model: str) -> int:
        rid = self._next_id[model]
        self._next_id[model] = rid + 1
        return rid

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run a block atomically: on any exception every change it made is undone."""
        if self._undo is not None:
            yield
            return
        self._undo = []
        try:
            yield
        except BaseException:
            undo, self._undo = self._undo, None
            for step in reversed(undo):
                step()
            raise
        self._undo = None

    # -- values ---------------------------------------------------------------------------

    def spec(self, model: str, field: str) -> FieldSpec:
        spec = FIELDS.get(model, {}).get(field)
        if spec is None or (model, field) in self._absent:
            raise OdooError.value(f"Invalid field {field!r} on model {model!r}")
        return spec

    def field_names(self, model: str) -> list[str]:
        """The fields ``model`` has in this version."""
        return [f for f in FIELDS[model] if (model, f) not in self._absent]

    def row(self, model: str, rid: int) -> Row:
        row = self.tables[model].get(rid)
        if row is None:
            raise OdooError.missing(
                f"Record does not exist or has been deleted.\n(Record: {model}({rid},), User: 2)"
            )
        return row

    def raw(self, model: str, row: Row, field: str) -> Any:
        """A field's value in storage form: many2one an id or False, x2many a list of ids."""
        spec = self.spec(model, field)
        if field in ("id", "create_date", "write_date"):
            return row.get(field, False)
        if spec.delegated:
            template = self.tables["product.template"][row["product_tmpl_id"]]
            return self.raw("product.template", template, field)
        if spec.computed or spec.from_variant:
            return behaviour.compute(self, model, row, field)
        value = row.get(field, spec.default)
        return list(value) if isinstance(value, list) else value

    def display_name(self, model: str, rid: int) -> str:
        row = self.tables[model].get(rid)
        return "" if row is None else str(self.raw(model, row, "display_name"))

    def _resolve(self, model: str) -> Callable[[Row, str], tuple[str, Any]]:
        def resolve(row: Row, path: str) -> tuple[str, Any]:
            current_model = model
            current: Row | None = row
            names = path.split(".")
            for position, name in enumerate(names):
                spec = self.spec(current_model, name)
                value = False if current is None else self.raw(current_model, current, name)
                if position == len(names) - 1:
                    return spec.kind, value
                if spec.kind != "many2one":
                    raise OdooError.value(f"Invalid field path {path!r}: {name} is not a many2one")
                current_model = spec.relation
                current = self.tables[current_model].get(value) if value else None
            raise OdooError.value(f"Invalid field path {path!r}")

        return resolve

    def _display(self, model: str) -> Callable[[Row, str], tuple[str, Any]]:
        resolve = self._resolve(model)

        def display(row: Row, path: str) -> tuple[str, Any]:
            kind, value = resolve(row, path)
            relation = model
            for name in path.split("."):
                relation = self.spec(relation, name).relation or relation
            return kind, self.display_name(relation, value) if value else False

        return display

    def format(self, model: str, row: Row, field: str) -> Any:
        """A field's value as Odoo's RPC returns it."""
        spec = self.spec(model, field)
        value = self.raw(model, row, field)
        if spec.kind == "many2one":
            return [value, self.display_name(spec.relation, value)] if value else False
        if spec.kind in ("char", "text", "selection", "date", "datetime") and value in ("", None):
            return False
        return value

    # -- ORM methods ----------------------------------------------------------------------

    def _check_model(self, model: str) -> None:
        if model not in FIELDS:
            raise OdooError.not_found(f"Model {model!r} does not exist")

    def query(
        self,
        model: str,
        domain: Sequence[Any],
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[int]:
        """Ids of every row matching ``domain``, sorted by ``order`` (cached until a write)."""
        self._check_model(model)
        active_test = (context or {}).get("active_test", True) is not False
        if active_test and "active" in FIELDS[model] and not mentions(domain, "active"):
            domain = [["active", "=", True], *domain]
        if hierarchy.mentioned(domain):
            domain = hierarchy.expand_domain(self, model, domain)
        key = (model, repr(domain), order)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        clauses = parse_order(order, lambda name: name in FIELDS[model])
        keep = compile_domain(domain, self._resolve(model), self._display(model))
        candidates = self._indexed(model, domain)
        rows = [
            row
            for row in (self.tables[model].values() if candidates is None else candidates)
            if keep(row)
        ]
        for field, descending in reversed(clauses):
            rows.sort(key=lambda row: self._sort_key(model, row, field), reverse=descending)
        ids = [row["id"] for row in rows]
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = (self.version, ids)
        return ids

    def _indexed(self, model: str, domain: Sequence[Any]) -> list[Row] | None:
        """The candidate rows of a domain one of whose clauses, joined to the others by an
        implicit "and", is ``[field, "in", values]`` on a stored scalar field: found as the
        database's index would (a set lookup per value, not a walk of every row through the
        domain compiler), the whole domain then tested on them alone; ``None`` when no clause
        can use an index (a domain with ``|`` or ``!`` is scanned). The domain was compiled
        (checked) already."""
        if not all(isinstance(term, list | tuple) and len(term) == 3 for term in domain):
            return None
        for field, operator, values in domain:
            found = self._index_lookup(model, field, operator, values)
            if found is not None:
                return found
        return None

    def _index_lookup(self, model: str, field: Any, operator: Any, values: Any) -> list[Row] | None:
        spec = FIELDS[model].get(field) if isinstance(field, str) else None
        if (
            spec is None
            or operator != "in"
            or not isinstance(values, list)
            or spec.delegated
            or spec.computed
            or spec.from_variant
            or spec.kind in ("one2many", "many2many")
            or field in ("create_date", "write_date")
        ):
            return None
        try:
            members = frozenset(values)
        except TypeError:
            return None
        index = self._value_index(model, field, spec.default)
        if index is None:
            return None
        found = [row for value in members if value is not False for row in index.get(value, ())]
        if False in members:
            found += [row for value in (False, None, "") for row in index.get(value, ())]
        found.sort(key=lambda row: row["id"])  # the table's own order, as a scan gives
        return found

    def _value_index(self, model: str, field: str, default: Any) -> dict[Any, list[Row]] | None:
        """Rows by their value of ``field``, rebuilt after a write (as an index would be kept)."""
        version = self._table_version.get(model, 0)
        cached = self._indexes.get((model, field))
        if cached is not None and cached[0] == version:
            return cached[1]
        index: dict[Any, list[Row]] = {}
        try:
            for row in self.tables[model].values():
                index.setdefault(row.get(field, default), []).append(row)
        except TypeError:  # a value that cannot be hashed: the compiled domain decides
            return None
        self._indexes[(model, field)] = (version, index)
        return index

    def _sort_key(self, model: str, row: Row, field: str) -> tuple[bool, Any]:
        value = self.raw(model, row, field)
        if isinstance(value, list):
            value = len(value)
        empty = value is None or value is False or value == ""
        return (empty, 0 if empty else value)

    def search(
        self,
        model: str,
        domain: Sequence[Any] = (),
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[int]:
        ids = self.query(model, list(domain), order, context)
        return ids[offset : None if limit is None else offset + limit]

    def read(
        self, model: str, ids: Sequence[int], fields: Sequence[str] | None = None
    ) -> list[Row]:
        self._check_model(model)
        names = list(fields) if fields else [f for f in self.field_names(model) if f != "id"]
        for name in names:
            self.spec(model, name)
        out = []
        for rid in ids:
            row = self.row(model, rid)
            record = {"id": rid}
            for name in names:
                record[name] = self.format(model, row, name)
            out.append(record)
        return out

    def create(
        self, model: str, vals_list: Sequence[Row], context: dict[str, Any] | None = None
    ) -> list[int]:
        """Create records atomically; returns their ids in order."""
        self._check_model(model)
        with self.transaction():
            return [behaviour.create_one(self, model, dict(v), context or {}) for v in vals_list]

    def write(self, model: str, ids: Sequence[int], vals: Row) -> None:
        """Write ``vals`` on every record of ``ids`` atomically, bumping their write_date."""
        self._check_model(model)
        with self.transaction():
            for rid in ids:
                self.row(model, rid)
                behaviour.write_one(self, model, rid, dict(vals))

    def unlink(self, model: str, ids: Sequence[int]) -> None:
        self._check_model(model)
        with self.transaction():
            for rid in ids:
                behaviour.unlink_one(self, model, rid)

    # -- direct edits for tests -----------------------------------------------------------

    def add(self, model: str, **vals: Any) -> int:
        """Create one record as a user would (defaults, constraints, stamps); returns its id."""
        return self.create(model, [vals])[0]

    def edit(self, model: str, rid: int, **vals: Any) -> None:
        """Change one record as a user would, bumping its write_date."""
        self.write(model, [rid], vals)

    def find(self, model: str, domain: Sequence[Any], **context: Any) -> list[int]:
        """Ids matching ``domain`` (archived records included when ``active_test=False``)."""
        return self.search(model, domain, context=context)

    def get(self, model: str, rid: int, *fields: str) -> Row:
        """One record as RPC would return it."""
        return self.read(model, [rid], fields or None)[0]

    def product_id(self, sku: str) -> int:
        """The id of the variant with this internal reference."""
        rid = self.by_code.get(sku)
        if rid is None:
            raise KeyError(sku)
        return rid
