"""Every SQL parameter bound: no query text is built from values, anywhere in the repository.

Python: a call of a database method (``execute``, ``fetch``, ``fetchrow``, ``fetchval``,
``executemany``, ``copy_*``, ``prepare``, ``cursor``) whose query is an f-string, a ``%`` or
``.format()`` formatting, or a concatenation fails the test, and so does such a string held in a
variable that is then passed as the query. Product code keeps its SQL in ``engine/store/sql/*.sql``
(loaded by name) or migrations. SQL files: no ``%s``/``{name}`` placeholders and no dynamic SQL
built with ``||`` inside ``execute`` (PL/pgSQL).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_FOLDERS = ("engine", "rules", "adapters", "web", "bench", "migrations", "tests")
DB_METHODS = frozenset(
    {
        "execute",
        "executemany",
        "fetch",
        "fetchrow",
        "fetchval",
        "prepare",
        "cursor",
        "copy_from_query",
        "copy_records_to_table",
        "copy_to_table",
    }
)
SQL_WORDS = re.compile(r"^\s*(select|insert|update|delete|with|create|drop|alter)\b", re.I)


def _built(node: ast.expr) -> bool:
    """Whether ``node`` builds a string from parts (f-string, %, .format, +)."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def _looks_like_sql(node: ast.expr) -> bool:
    texts = [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    return bool(texts) and SQL_WORDS.match(texts[0]) is not None


def built_queries(source: str, filename: str) -> list[str]:
    """``file:line`` of every query built from values in ``source``."""
    tree = ast.parse(source, filename)
    built_names: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _built(node.value) and _looks_like_sql(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    built_names[target.id] = node.lineno
    found: list[str] = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in DB_METHODS
            and node.args
        ):
            continue
        query = node.args[0]
        if _built(query) or (isinstance(query, ast.Name) and query.id in built_names):
            found.append(f"{filename}:{node.lineno}")
    return found


def python_files() -> list[Path]:
    return [p for folder in PYTHON_FOLDERS for p in sorted((ROOT / folder).rglob("*.py"))]


def test_the_scan_catches_what_it_is_meant_to_catch() -> None:
    bad = """
async def f(conn, name, table):
    await conn.execute(f"delete from t where name = '{name}'")
    await conn.fetch("select * from t where a = %s" % name)
    await conn.fetchval("select {}".format(name))
    await conn.fetchrow("select * from " + table)
    query = f"update t set a = {name}"
    await conn.execute(query)
"""
    good = """
async def f(conn, name):
    await conn.execute("delete from t where name = $1", name)
    await conn.fetch(query("load_records"), name)
"""
    assert len(built_queries(bad, "bad.py")) == 5
    assert built_queries(good, "good.py") == []


def test_no_python_builds_sql_from_values() -> None:
    files = python_files()
    assert len(files) > 100
    found = [hit for path in files for hit in built_queries(path.read_text(), str(path))]
    assert found == [], "SQL built from values instead of bound parameters:\n" + "\n".join(found)


def test_sql_files_bind_every_parameter() -> None:
    files = sorted((ROOT / "engine" / "sql").glob("*.sql")) + sorted(
        (ROOT / "migrations").glob("*.sql")
    )
    assert files
    bad: list[str] = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("--", 1)[0]
            if re.search(r"%s|%\(|\{[a-z_]+\}", code) or re.search(
                r"\bexecute\b.*\|\|", code, re.I
            ):
                bad.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert bad == [], "\n".join(bad)
