"""The contract suite runs every test once per adapter in :data:`HARNESSES`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from contract_platforms import HARNESSES, Harness, Platform


@pytest.fixture(params=sorted(HARNESSES))
def platform_fixtures(request: pytest.FixtureRequest) -> tuple[Platform, Mapping[str, Any]]:
    """The platform to run, with the values of the fixtures it needs.

    Resolved here, outside the event loop: an async fixture (a live server) cannot be set up
    from inside another one while the loop runs it.
    """
    platform = HARNESSES[request.param]
    return platform, {name: request.getfixturevalue(name) for name in platform.fixtures}


@pytest.fixture
async def platform(
    platform_fixtures: tuple[Platform, Mapping[str, Any]],
) -> AsyncIterator[Harness]:
    """A running platform with an adapter connected to it, for each adapter in turn."""
    running, fixtures = platform_fixtures
    async with running.start(fixtures) as harness:
        yield harness


@pytest.fixture
def remote(platform: Harness) -> Harness:
    """The platform, when it is reached with credentials and holds records typed outside
    Concord (refused credentials, bad data)."""
    if not platform.remote:
        pytest.skip("in memory: no credentials to refuse, and no way to hold a record without SKU")
    return platform


@pytest.fixture
def simulated(platform: Harness) -> Harness:
    """The platform, when it is a simulator: fault switches, and requests counted as served."""
    if not platform.simulated:
        pytest.skip(
            "a real server: no fault switches to throttle or fail it, and no count of the "
            "requests it served"
            if platform.remote
            else "in memory: no HTTP, so nothing to throttle, fail or count"
        )
    return platform
