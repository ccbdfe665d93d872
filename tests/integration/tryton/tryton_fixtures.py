"""A real Tryton as pytest fixtures, for every test folder (see ``tryton_server``).

Registered once for the whole run in ``tests/conftest.py`` (``pytest_plugins``), so the Tryton
tests and the contract suite share one session template: Tryton is initialised (or restored
from the cache) once per run, then each test module gets its own database copy and
``trytond``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from integration.tryton.tryton_server import (
    _CREATE_SQL,
    _DROP_SQL,
    TrytonService,
    admin_sql,
    build_template,
)

TEMPLATE = "concord_tryton_template"


@pytest.fixture(scope="session")
async def tryton_template(
    server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, int]]:
    """The set-up Tryton every test module's database is copied from; yields its ids."""
    ids = await build_template(server_url, TEMPLATE, tmp_path_factory.mktemp("tryton-init"))
    yield ids
    await admin_sql(server_url, _DROP_SQL, TEMPLATE)


@pytest.fixture(scope="module")
async def tryton(
    server_url: str, tryton_template: dict[str, int], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TrytonService]:
    """A running Tryton on a fresh copy of the template, for this module's tests."""
    name = f"tryton_{uuid.uuid4().hex[:10]}"
    await admin_sql(server_url, _CREATE_SQL, name, TEMPLATE)
    directory: Path = tmp_path_factory.mktemp("tryton")
    service = TrytonService(server_url, name, directory, dict(tryton_template))
    try:
        await service.start()
        yield service
    finally:
        await service.stop()
        await admin_sql(server_url, _DROP_SQL, name)
