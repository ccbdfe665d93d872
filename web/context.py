"""What every page handler needs: the stores, the configuration, and the navigation bar."""

from __future__ import annotations

import msgspec
from aiohttp import web

from engine.config import Config
from engine.store.state import ConflictRow, Store
from web.auth import Session
from web.review_store import ReviewStore


class Nav(msgspec.Struct, frozen=True, kw_only=True):
    """What the navigation bar shows: where we are, who is signed in, the counts."""

    here: str
    user: str
    csrf: str
    open_conflicts: int = 0
    dead_letters: int = 0


class Site(msgspec.Struct, kw_only=True):
    """The state the pages read, and the configuration when the server has one (for the
    rules and jobs it shows; without it they show as unknown)."""

    store: Store
    review: ReviewStore
    config: Config | None = None

    def rule_of(self, row: ConflictRow) -> str | None:
        """The rule that governs the conflict's field, as "owner both, policy manual"."""
        if self.config is None or row.connection not in self.config.connections:
            return None
        rules = self.config.connections[row.connection].rules.get(row.kind)
        if rules is None:
            return None
        rule = rules.rule(row.field)
        where = "field rule" if row.field in rules.fields else "kind default"
        return f"owner {rule.owner}, policy {rule.policy} ({where})"

    async def nav(self, here: str, session: Session) -> Nav:
        open_conflicts = await self.store.count_open_conflicts()
        letters = await self.review.count_dead_letters()
        return Nav(
            here=here,
            user=session.user,
            csrf=session.csrf,
            open_conflicts=open_conflicts,
            dead_letters=letters,
        )


SITE = web.AppKey("site", Site)


def site_of(request: web.Request) -> Site:
    return request.config_dict[SITE]
