"""Concord's parts, the arrows allowed between them, and the check that the code keeps to them.

Run ``./dev architecture`` (``python docs/architecture.py``) to write ``docs/architecture.md``
from this file and the code: the parts, each one's modules with the first line of their
docstring, and the allowed arrows as a picture. ``tests/unit/test_architecture.py`` fails when
an import runs against the arrows, when modules import each other in a circle, or when the
written page no longer matches.

An arrow ``a -> b`` means modules of ``a`` may import modules of ``b``. Imports made only for
type checking (under ``if TYPE_CHECKING:``) count too, for the arrows and for circles alike:
they are arrows a reader follows. Where helpers need the type of the module that calls them,
they name a protocol of what they use (e.g. ``adapters/odoo/simulator/records.py``).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("canonical", "rules", "adapters", "engine", "web", "bench")
PAGE = ROOT / "docs" / "architecture.md"

PARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    # part: (what it is, module prefixes; the longest prefix that matches a module wins;
    # ``=name``: that module alone)
    "canonical": (
        "the vocabulary both sides speak: canonical records, order records, field lists, "
        "errors, secrets, priority lanes; imports nothing of ours",
        ("canonical",),
    ),
    "rules": (
        "pure rules and their configuration schema: ownership, conflict policies, catalogue "
        "transforms, order money, the books",
        ("rules",),
    ),
    "boundary": (
        "the one interface between the engine and the platforms (operations, snapshots, "
        "results) and what every HTTP adapter shares (client, request budget, simulator kit)",
        (
            "=adapters",
            "adapters.base",
            "adapters.budget",
            "adapters.http",
            "adapters.simkit",
            "adapters.stock_split",
        ),
    ),
    "platforms": (
        "one package per platform: its client and the mapping to canonical records",
        (
            "adapters.memory",
            "adapters.odoo",
            "adapters.tryton",
            "adapters.woocommerce",
            "adapters.shopify",
        ),
    ),
    "simulators": (
        "the platforms imitated over loopback HTTP, beside what they imitate, for tests, the "
        "demo and the benchmark",
        (
            "adapters.odoo.simulator",
            "adapters.woocommerce.simulator",
            "adapters.shopify.simulator",
            "adapters.sandbox",
        ),
    ),
    "registry": (
        "adapters by type name, imported on first use",
        ("adapters.registry",),
    ),
    "store": (
        "the state store on PostgreSQL: the base, conflicts, runs, order intents, its SQL "
        "files, the embedded server, migrations, health",
        ("engine.store",),
    ),
    "config": (
        "the configuration file read and checked, schedules, job runners by name",
        ("engine.config", "engine.schedule", "engine.runner_names"),
    ),
    "jobs": (
        "what the loop hands a job (store, adapters, rules) and gets back; a connection's jobs",
        ("engine.jobs",),
    ),
    "runtime": (
        "a configuration made live: the store opened and migrated, adapters built",
        ("engine.runtime",),
    ),
    "cycle": (
        "one reconcile cycle: snapshot, decide (pure), transforms, push, commit",
        ("=engine", "engine.cycle"),
    ),
    "orders": (
        "web orders into the ERP: import, feedback, audit, held orders, the order jobs",
        ("engine.orders",),
    ),
    "accounting": (
        "the books: entries from orders, booked in the ERP or exported",
        ("engine.accounting",),
    ),
    "loop": (
        "``concord run``: schedules claimed under leases, jobs run in their lanes",
        ("engine.loop",),
    ),
    "web": (
        "``concord serve``: the review pages, status, metrics, order webhooks",
        ("web",),
    ),
    "bench": (
        "``concord bench``: the benchmark suite",
        ("bench",),
    ),
    "cli": (
        "the ``concord`` command: every sub-command, the demo, progress and logs",
        ("engine.cli",),
    ),
}

ALLOWED: dict[str, tuple[str, ...]] = {
    "canonical": (),
    "rules": ("canonical",),
    "boundary": ("canonical",),
    "platforms": ("rules", "boundary", "canonical"),
    "simulators": ("platforms", "registry", "rules", "boundary", "canonical"),
    "registry": ("boundary", "canonical"),
    "store": ("boundary", "canonical"),
    "config": ("rules", "boundary", "canonical"),
    "runtime": ("config", "store", "registry", "boundary", "canonical"),
    "jobs": ("config", "store", "rules", "boundary", "canonical"),
    "cycle": ("jobs", "config", "store", "rules", "boundary", "canonical"),
    "orders": ("cycle", "jobs", "runtime", "config", "store", "rules", "boundary", "canonical"),
    "accounting": ("orders", "jobs", "config", "store", "rules", "boundary", "canonical"),
    "loop": (
        "orders",
        "cycle",
        "jobs",
        "runtime",
        "config",
        "store",
        "rules",
        "boundary",
        "canonical",
    ),
    "web": ("loop", "orders", "runtime", "config", "store", "rules", "boundary", "canonical"),
    "bench": (
        "simulators",
        "platforms",
        "loop",
        "cycle",
        "orders",
        "runtime",
        "config",
        "store",
        "rules",
        "registry",
        "boundary",
        "canonical",
    ),
    "cli": (
        "bench",
        "web",
        "loop",
        "accounting",
        "orders",
        "cycle",
        "jobs",
        "platforms",
        "runtime",
        "config",
        "store",
        "rules",
        "registry",
        "boundary",
        "canonical",
    ),
}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    summary: str
    imports: frozenset[str]


def modules() -> dict[str, Module]:
    """Every module of ours, with the modules of ours it imports."""
    paths: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            paths[".".join(parts)] = path
    found: dict[str, Module] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree) or ""
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found[name] = Module(
            name=name,
            path=path,
            summary=doc.strip().split("\n\n")[0].replace("\n", " "),
            imports=frozenset(_imported(tree, package, paths)),
        )
    return found


def _imported(tree: ast.Module, package: str, ours: dict[str, Path]) -> Iterator[str]:
    # Imports under ``if TYPE_CHECKING:`` are walked too: a reader follows them as any other.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _ours(alias.name, ours)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                if f"{base}.{alias.name}" in ours:
                    yield f"{base}.{alias.name}"
                else:
                    yield from _ours(base, ours)


def _ours(name: str, ours: dict[str, Path]) -> Iterator[str]:
    while name and name not in ours:
        name = name.rpartition(".")[0]
    if name:
        yield name


def part_of(module: str) -> str:
    best, length = "", -1
    for part, (_, prefixes) in PARTS.items():
        for prefix in prefixes:
            exact = prefix.startswith("=")
            prefix = prefix.lstrip("=")
            matches = module == prefix or (not exact and module.startswith(prefix + "."))
            if matches and len(prefix) > length:
                best, length = part, len(prefix)
    if not best:
        raise LookupError(f"{module} belongs to no part: add its prefix to PARTS")
    return best


def forbidden_imports(found: dict[str, Module]) -> list[str]:
    """Each import that runs against the arrows, as ``module (part) -> module (part)``."""
    wrong = []
    for module in found.values():
        source = part_of(module.name)
        for target in sorted(module.imports):
            goal = part_of(target)
            if goal != source and goal not in ALLOWED[source]:
                wrong.append(f"{module.name} ({source}) -> {target} ({goal})")
    return wrong


def circles(found: dict[str, Module]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        # A package's __init__ importing its own modules is how a package is made, not a circle.
        for target in sorted(found[name].imports - {name}):
            if target.startswith(name + ".") and found[name].path.name == "__init__.py":
                continue
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(found):
        if name not in index:
            visit(name)
    return groups


def page(found: dict[str, Module]) -> str:
    """docs/architecture.md."""
    lines = [
        "# Architecture",
        "",
        "Written by `./dev architecture` from `docs/architecture.py` and the code; "
        "`tests/unit/test_architecture.py` fails when the code leaves these arrows, when modules "
        "import each other in a circle, or when this page is out of date.",
        "",
        "## The parts and the allowed arrows",
        "",
        "An arrow `a --> b`: modules of `a` may import modules of `b`. Arrows implied by others "
        "(a part above reaching further down) are listed per part below, not drawn.",
        "",
        "```mermaid",
        "flowchart TD",
    ]
    for source, targets in ALLOWED.items():
        for target in targets:
            if not _implied(source, target):
                lines.append(f"    {source} --> {target}")
    lines += ["```", ""]
    for part, (what, _) in PARTS.items():
        members = sorted(m for m in found if part_of(m) == part)
        lines += [f"### {part}", "", f"{what[0].upper()}{what[1:]}.", ""]
        allowed = ", ".join(ALLOWED[part]) or "nothing of ours"
        lines += [f"May import: {allowed}.", ""]
        for member in members:
            summary = found[member].summary
            lines.append(f"- `{member}`" + (f": {summary}" if summary else ""))
        lines.append("")
    return "\n".join(lines)


def _reaches_back(part: str) -> bool:
    """Whether an allowed arrow leads from ``part`` back to itself."""
    return any(_reaches(n, part, set()) for n in ALLOWED[part])


def _implied(source: str, target: str) -> bool:
    """Whether ``source`` reaches ``target`` through another part it may import."""
    return any(middle != target and _reaches(middle, target, set()) for middle in ALLOWED[source])


def _reaches(source: str, target: str, seen: set[str]) -> bool:
    if source == target:
        return True
    seen.add(source)
    return any(_reaches(n, target, seen) for n in ALLOWED[source] if n not in seen)


if __name__ == "__main__":
    PAGE.write_text(page(modules()), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
