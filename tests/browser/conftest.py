"""Browser tests: the review pages in headless Chromium (Debian's ``chromium``), driven by
Playwright through ``executable_path`` (Playwright's own browser downloads are never used).

Without ``/usr/bin/chromium`` the tests skip with the reason, except in CI (``CI=true``), where a
missing browser is a failure: CI installs it first (``.ci/run``). Screenshots go to
``artifacts/browser/`` (git-ignored).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from browser_support import TOKEN, Platforms

from adapters.memory.catalogue import generate_products
from canonical.models import Stock
from engine.store.state import Store
from web.app import create_app
from web.server import running

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs Debian's chromium first")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium): browser tests skipped")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """One Chromium for the session, on a fresh profile."""
    _require_chromium()
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory(prefix="concord-chromium-") as profile:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1440, "height": 900},
            )
            try:
                yield context
            finally:
                await context.close()


@pytest.fixture
async def platforms(store: Store) -> Platforms:
    """Twelve articles in agreement, then a week of edits on both sides: conflicts on names,
    descriptions, prices and stock counts, like a merchant's Monday morning."""
    pair = Platforms()
    for article in generate_products(12, seed=5):
        pair.erp.put(article)
        pair.shop.put(article)
        pair.erp.put(Stock(sku=article.sku, quantity=Decimal(20)))
        pair.shop.put(Stock(sku=article.sku, quantity=Decimal(20)))
    await pair.cycle(store)
    keys = sorted(pair.erp.keys("product"))
    for key in keys[:5]:
        name = pair.erp.fields("product", key)["name"]
        pair.erp.edit("product", key, name=f"{name} - 2025 range")
        pair.shop.edit("product", key, name=f"{name} (new!)")
    for key in keys[5:8]:
        pair.erp.edit("product", key, description="Updated by the purchasing team.")
        pair.shop.edit("product", key, description="Rewritten for the web by marketing.")
    pair.erp.edit("product", keys[8], price="24.9")
    pair.shop.edit("product", keys[8], price="22.5")
    base_price = pair.erp.fields("product", keys[9])["price"]
    pair.erp.edit("product", keys[9], price="18")
    pair.shop.edit("product", keys[9], price="19.99")
    for key in keys[10:12]:
        pair.erp.edit("stock", key, quantity="35")
        pair.shop.edit("stock", key, quantity="17")
    await pair.cycle(store)
    # The ERP took its change back: the conflict stays, now suggesting the shop's price.
    pair.erp.edit("product", keys[9], price=base_price)
    await pair.cycle(store)
    return pair


@pytest.fixture
async def url(store: Store, platforms: Platforms) -> AsyncIterator[str]:
    app = create_app(store, token=TOKEN, config=platforms.config)
    async with running(app, "127.0.0.1", 0) as base:
        yield base


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A new tab with no session; page errors and dialogs are collected on it."""
    await browser.clear_cookies()
    tab = await browser.new_page()
    tab.problems = []
    tab.on("pageerror", lambda error: tab.problems.append(f"page error: {error}"))
    tab.on("dialog", lambda dialog: tab.problems.append(f"dialog: {dialog.message}"))
    tab.on(
        "console",
        lambda message: (
            tab.problems.append(f"console: {message.text}")
            # The 401 and 403 the tests provoke are logged as failed loads: not a problem.
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    try:
        yield tab
    finally:
        await tab.close()
