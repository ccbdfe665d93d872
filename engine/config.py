"""The configuration file: one TOML file, decoded into typed structs.

Every error names the file, the key and the reason (:class:`canonical.errors.ConfigError`).
Secrets are never in the file: adapters read them through ``*_env`` / ``*_file`` keys.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from canonical.errors import ConfigError
from canonical.models import RECORD_TYPES
from rules.accounting.chart import AccountingConfig
from rules.order_config import OrdersConfig
from rules.policy import FieldRule, KindRules
from rules.transforms import Transforms, check_transforms


class DatabaseConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url_env: str = "CONCORD_DATABASE_URL"
    """Environment variable holding the PostgreSQL URL; unset or empty: embedded server."""
    data_dir: str = ".concord"
    """Where the embedded server keeps its data (relative to the configuration file)."""
    keep_runs_days: int = 30
    """Days of run history kept; ``concord run`` prunes older runs."""


class ServeConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``concord serve``: where the review pages listen and where their access token is."""

    host: str = "127.0.0.1"
    """Loopback unless set: anything else makes the pages reachable from other machines."""
    port: int = 8600
    token_env: str = "CONCORD_TOKEN"
    """Environment variable holding the access token (at least 16 characters)."""
    token_file: str | None = None
    """A file holding the access token instead (read when set)."""


class JobConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A kind of record and the fields it owns, on its own schedule."""

    kind: str
    fields: list[str] | None = None
    every: str | None = None
    """An interval (``5m``) or a cron expression; unset: the kind's default
    (engine.schedule)."""
    full_every: str | None = None
    """How often the job reads everything instead of what changed; unset: weekly."""
    run: str | None = None
    """Which job runner runs it (engine.jobs); unset: the kind's default, the sync cycle."""


class ConnectionConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An ERP ⇄ shop pair: each side's adapter settings (a table with ``type``), jobs, rules."""

    erp: dict[str, Any]
    shop: dict[str, Any]
    jobs: dict[str, JobConfig] = {}
    rules: dict[str, KindRules] = {}
    orders: OrdersConfig = OrdersConfig()
    transforms: Transforms = Transforms()
    """Catalogue rules: variants, category tree, taxes, prices, stock (engine.cycle.transforms)."""
    """Web orders into the ERP and their progress back (see :mod:`rules.order_config`)."""
    accounting: AccountingConfig | None = None
    """The books: sales, payments and refunds as journal entries (see :mod:`rules.accounting`)."""

    def rules_for(self, kind: str) -> KindRules:
        """The rules a job of ``kind`` runs with: those configured (or the defaults), and, for
        the catalogue's kinds while web orders are imported, the ERP articles their shipping,
        fee and rounding lines are booked on left alone: a merchant sells none of them."""
        rules = self.rules.get(kind, KindRules())
        lines = self.orders.line_skus() if kind in CATALOGUE_KINDS else frozenset()
        if not lines <= rules.skip_skus:
            rules = msgspec.structs.replace(rules, skip_skus=rules.skip_skus | lines)
        return rules


CATALOGUE_KINDS = ("product", "stock", "price")
"""The kinds whose records are articles, keyed by SKU."""


class Config(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    database: DatabaseConfig = DatabaseConfig()
    serve: ServeConfig = ServeConfig()
    connections: dict[str, ConnectionConfig] = {}
    source: str = ""
    """The file this came from (set by :func:`load_config`)."""
    base_dir: str = "."

    def data_dir(self) -> Path:
        return (Path(self.base_dir) / self.database.data_dir).resolve()


DEFAULT_JOBS = {
    "products": JobConfig(kind="product", every="1d"),
    "stock": JobConfig(kind="stock", every="10m"),
}

_PATH = re.compile(r" - at `\$(.*)`$")
_MISSING = re.compile(r"^Object missing required field `(.*)`")


def _key_of(path: str) -> str:
    """msgspec's ``$.connections.main.erp`` / ``$.jobs[0]`` path as a TOML key."""
    return path.lstrip(".").replace("[", ".").replace("]", "")


T = TypeVar("T")


def _convert(value: Any, type_: type[T], *, source: str, prefix: str) -> T:
    """``msgspec.convert`` whose errors name the TOML key (msgspec shows table keys as [...])."""
    try:
        return msgspec.convert(value, type=type_, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        found = _PATH.search(message)
        key = ".".join(p for p in (prefix, _key_of(found.group(1)) if found else "") if p)
        reason = _PATH.sub("", message)
        missing = _MISSING.match(reason)
        if missing:
            # Name the missing key itself, not the table it should be in.
            key = f"{key}.{missing.group(1)}" if key else missing.group(1)
            reason = "missing"
        raise ConfigError(source, key or "(top level)", reason) from None


def _table(value: Any, *, source: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(source, key, f"expected a table, got {type(value).__name__}")
    return value


def _rules(value: Any, *, source: str, prefix: str) -> KindRules:
    table = dict(_table(value, source=source, key=prefix))
    if prefix.endswith(".rules.stock"):
        # A count gone from the ERP (its article archived) cannot be archived in a shop, whose
        # product the product job takes care of: the record is let go, the shop's count kept.
        table.setdefault("when_erp_lost", "forget")
    fields = {
        field: _convert(rule, FieldRule, source=source, prefix=f"{prefix}.fields.{field}")
        for field, rule in _table(
            table.pop("fields", {}), source=source, key=f"{prefix}.fields"
        ).items()
    }
    return msgspec.structs.replace(
        _convert(table, KindRules, source=source, prefix=prefix), fields=fields
    )


def parse_config(text: str, *, source: str, base_dir: str = ".") -> Config:
    """Decode and check a configuration; raises :class:`ConfigError`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "(syntax)", str(exc)) from None
    unknown = set(raw) - {"database", "serve", "connections"}
    if unknown:
        raise ConfigError(
            source, sorted(unknown)[0], "unknown key (expected database, serve, connections)"
        )
    database = _convert(raw.get("database", {}), DatabaseConfig, source=source, prefix="database")
    serve = _convert(raw.get("serve", {}), ServeConfig, source=source, prefix="serve")
    connections: dict[str, ConnectionConfig] = {}
    for name, table in _table(raw.get("connections", {}), source=source, key="connections").items():
        where = f"connections.{name}"
        table = dict(_table(table, source=source, key=where))
        jobs = {
            job: _convert(value, JobConfig, source=source, prefix=f"{where}.jobs.{job}")
            for job, value in _table(
                table.pop("jobs", {}), source=source, key=f"{where}.jobs"
            ).items()
        }
        rules = {
            kind: _rules(value, source=source, prefix=f"{where}.rules.{kind}")
            for kind, value in _table(
                table.pop("rules", {}), source=source, key=f"{where}.rules"
            ).items()
        }
        connection = _convert(table, ConnectionConfig, source=source, prefix=where)
        connections[name] = msgspec.structs.replace(connection, jobs=jobs, rules=rules)
    config = Config(
        database=database, serve=serve, connections=connections, source=source, base_dir=base_dir
    )
    _check(config)
    return config


def load_config(path: str | Path) -> Config:
    """Read and check the configuration file at ``path``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), "(file)", f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(str(file), "(file)", "not UTF-8 text") from None
    return parse_config(text, source=str(file), base_dir=str(file.parent))


def jobs_of(connection: ConnectionConfig) -> dict[str, JobConfig]:
    """The connection's jobs, or the default ones when it lists none."""
    return connection.jobs or DEFAULT_JOBS


def _check(config: Config) -> None:
    source = config.source
    if not config.connections:
        raise ConfigError(source, "connections", "no connection is configured")
    for name, connection in config.connections.items():
        where = f"connections.{name}"
        for side in ("erp", "shop"):
            settings: dict[str, Any] = getattr(connection, side)
            if not isinstance(settings.get("type"), str):
                raise ConfigError(source, f"{where}.{side}.type", "missing: name the adapter")
        for job_name, job in jobs_of(connection).items():
            _check_job(source, f"{where}.jobs.{job_name}", job)
        for kind, rules in connection.rules.items():
            if kind not in RECORD_TYPES:
                raise ConfigError(source, f"{where}.rules.{kind}", _unknown_kind(kind))
            known = RECORD_TYPES[kind].__struct_fields__
            for field in rules.fields:
                if field not in known:
                    raise ConfigError(
                        source,
                        f"{where}.rules.{kind}.fields.{field}",
                        f"{kind} has no field {field!r} (fields: {', '.join(known)})",
                    )
        for key, reason in check_transforms(connection.transforms, connection.rules):
            raise ConfigError(source, f"{where}.transforms.{key}", reason)
        if connection.accounting is not None:
            from rules.accounting.settings import check_accounting

            for key, reason in check_accounting(connection.accounting):
                raise ConfigError(source, f"{where}.accounting.{key}", reason)
        _check_sales_counted_once(source, where, connection)


def _check_sales_counted_once(source: str, where: str, connection: ConnectionConfig) -> None:
    """With web orders imported, the imported order accounts for a sale in the ERP (its
    delivery takes the units out): a shop count lowered by that sale must not also reach the
    ERP as a stock adjustment."""
    orders = connection.orders
    stock = connection.rules.get("stock")
    if not (orders.enabled and orders.taxes) or stock is None:
        return
    rule = stock.rule("quantity")
    if rule.owner != "erp":
        raise ConfigError(
            source,
            f"{where}.rules.stock",
            f"stock quantity owned by {rule.owner!r} would write each web sale into the ERP "
            "as a stock adjustment, and the imported order would take the same units out "
            'again: with [orders], let the ERP own stock (default = { owner = "erp" }) '
            "and publish stock available to sell ([transforms.stock] available = true)",
        )


def _check_job(source: str, where: str, job: JobConfig) -> None:
    if job.kind not in RECORD_TYPES:
        raise ConfigError(source, f"{where}.kind", _unknown_kind(job.kind))
    # Imported here: both modules build on this one.
    from engine.runner_names import check_runner
    from engine.schedule import parse_schedule

    for key, text in (("every", job.every), ("full_every", job.full_every)):
        try:
            if text is not None:
                parse_schedule(text)
        except ValueError as exc:
            raise ConfigError(source, f"{where}.{key}", str(exc)) from None
    if job.run is not None:
        try:
            check_runner(job.run)
        except LookupError as exc:
            raise ConfigError(source, f"{where}.run", str(exc)) from None
    known = RECORD_TYPES[job.kind].__struct_fields__
    for field in job.fields or ():
        if field not in known:
            raise ConfigError(source, f"{where}.fields", f"{job.kind} has no field {field!r}")


def _unknown_kind(kind: str) -> str:
    return f"unknown kind {kind!r} (kinds: {', '.join(sorted(RECORD_TYPES))})"
