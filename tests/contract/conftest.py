"""The contract suite runs every test once per adapter in :data:`HARNESSES`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from contract_platforms import HARNESSES, Harness


@pytest.fixture(params=sorted(HARNESSES))
async def platform(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """A running platform with an adapter connected to it, for each adapter in turn."""
    async with HARNESSES[request.param](tmp_path) as harness:
        yield harness


@pytest.fixture
def remote(platform: Harness) -> Harness:
    """The platform, when it is reached over HTTP (auth, rate limits and faults apply)."""
    if not platform.remote:
        pytest.skip("in memory: no HTTP, so no credentials, rate limit or transport faults")
    return platform
