"""Helpers of the browser tests: sign in through the form, save screenshots as artefacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.base import Side
from adapters.memory.adapter import MemoryAdapter, MemoryPlatform
from engine.config import Config, jobs_of, parse_config
from engine.cycle.run import run_cycle
from engine.store.state import Store

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
TOKEN = "browser-token-0123456789"
CONFIG = """
[connections.main.erp]
type = "memory"
[connections.main.shop]
type = "memory"
[connections.main.jobs.products]
kind = "product"
every = "1d"
[connections.main.jobs.stock]
kind = "stock"
every = "10m"
[connections.main.rules.product]
default = { owner = "erp" }
fields.name = { owner = "both", policy = "manual" }
fields.description = { owner = "both", policy = "manual" }
fields.price = { owner = "both", policy = "manual" }
[connections.main.rules.stock]
default = { owner = "both", policy = "manual" }
"""


class Platforms:
    """An ERP and a shop in memory, the configured jobs, and a cycle of each on demand."""

    def __init__(self) -> None:
        self.config: Config = parse_config(CONFIG, source="browser.toml")
        self.erp = MemoryPlatform()
        self.shop = MemoryPlatform()
        self.refuse: dict[str, str] = {}
        """Keys whose writes the shop refuses, with the reason."""

    async def cycle(self, store: Store) -> None:
        connection = self.config.connections["main"]
        adapters: dict[Side, MemoryAdapter] = {
            "erp": MemoryAdapter(self.erp),
            "shop": MemoryAdapter(self.shop),
        }
        adapters["shop"].refuse.update(self.refuse)
        for job_name, job in jobs_of(connection).items():
            await run_cycle(
                store,
                connection="main",
                job_name=job_name,
                job=job,
                rules=connection.rules[job.kind],
                adapters=dict(adapters),
                full=True,
            )

    def both(self, kind: str, key: str, field: str) -> tuple[Any, Any]:
        return self.erp.fields(kind, key)[field], self.shop.fields(kind, key)[field]


async def shot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


async def sign_in(page: Any, url: str, name: str = "Margaret") -> None:
    """Open the review page and sign in through the form."""
    response = await page.goto(f"{url}/conflicts")
    assert response.status == 401
    await page.fill("#name", name)
    await page.fill("#token", TOKEN)
    async with page.expect_navigation():
        await page.click("button:has-text('Sign in')")
    assert page.url == f"{url}/conflicts", await page.content()
