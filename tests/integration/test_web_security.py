"""The review pages' defences, over real HTTP on loopback and real PostgreSQL: the token, the
sessions, CSRF on every action, escaping of platform values, and the security headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from engine.store.state import CommitBatch, NewConflict, NewDeadLetter, Store
from web.app import create_app
from web.server import running

TOKEN = "test-token-0123456789abcdef"
HOSTILE = '<script>window.__pwned = 1</script>"><img src=x onerror=alert(1)>'


async def seed(store: Store, *conflicts: NewConflict) -> None:
    await store.ensure_connection("main")
    await store.commit(
        CommitBatch(
            connection="main",
            kind="product",
            job="products",
            mode="full",
            started_at=datetime.now(UTC),
            status="ok",
            conflicts_found=list(conflicts),
        )
    )


def conflict(key: str, field: str = "name", erp: str = "ERP", shop: str = "Shop") -> NewConflict:
    return NewConflict(
        key=key, field=field, base="Base", erp=erp, shop=shop, reason="changed on both sides"
    )


@pytest.fixture
async def url(store: Store) -> AsyncIterator[str]:
    await seed(store, conflict("SKU-1"), conflict(HOSTILE, erp=HOSTILE, shop="<b>bold</b>"))
    async with running(create_app(store, token=TOKEN), "127.0.0.1", 0) as base:
        yield base


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe=True: keep cookies for an IP address host (127.0.0.1), as a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


def csrf_in(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def sign_in(client: aiohttp.ClientSession, url: str, name: str = "Ada") -> str:
    """Sign in through the form; returns the session's CSRF token (from the review page)."""
    async with client.get(f"{url}/login") as response:
        form_csrf = csrf_in(await response.text())
    async with client.post(
        f"{url}/login",
        data={"csrf": form_csrf, "name": name, "token": TOKEN, "next": "/conflicts"},
    ) as response:
        assert response.status == 200, await response.text()
        assert str(response.url).endswith("/conflicts")
        return csrf_in(await response.text())


async def open_ids(store: Store) -> set[int]:
    return {row.id for row in await store.list_conflicts(status="open")}


async def test_without_a_token_every_page_answers_401_with_the_sign_in_form(
    url: str, client: aiohttp.ClientSession
) -> None:
    for path in ("/", "/conflicts", "/status", "/conflicts/export?format=json", "/nowhere"):
        async with client.get(url + path, allow_redirects=False) as response:
            body = await response.text()
            assert response.status == 401, path
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert 'name="token"' in body and "SKU-1" not in body


async def test_a_wrong_bearer_token_is_refused_and_the_right_one_is_let_in(
    url: str, client: aiohttp.ClientSession
) -> None:
    wrong = {"Authorization": "Bearer " + TOKEN[:-1] + "x"}
    async with client.get(f"{url}/conflicts", headers=wrong) as response:
        assert response.status == 401
        assert "not valid" in await response.text()
    right = {"Authorization": f"Bearer {TOKEN}"}
    async with client.get(f"{url}/conflicts", headers=right) as response:
        assert response.status == 200
        assert "SKU-1" in await response.text()


async def test_sign_in_sets_a_strict_http_only_cookie_and_a_wrong_token_does_not(
    url: str, client: aiohttp.ClientSession
) -> None:
    async with client.get(f"{url}/login") as response:
        form_csrf = csrf_in(await response.text())
    async with client.post(
        f"{url}/login", data={"csrf": form_csrf, "name": "Ada", "token": "guess-guess-guess-1"}
    ) as response:
        assert response.status == 401
        assert "concord_session" not in response.cookies
    async with client.post(
        f"{url}/login",
        data={"csrf": form_csrf, "name": "Ada", "token": TOKEN},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        cookie = response.cookies["concord_session"]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
    async with client.get(f"{url}/conflicts") as response:
        assert response.status == 200
        assert "Ada" in await response.text()


async def test_sign_in_without_its_form_token_is_refused(
    url: str, client: aiohttp.ClientSession
) -> None:
    async with client.post(
        f"{url}/login", data={"name": "Ada", "token": TOKEN}, allow_redirects=False
    ) as response:
        assert response.status == 403
        assert "concord_session" not in response.cookies


async def test_sign_in_never_sends_anyone_to_another_site(
    url: str, client: aiohttp.ClientSession
) -> None:
    async with client.get(f"{url}/login") as response:
        form_csrf = csrf_in(await response.text())
    async with client.post(
        f"{url}/login",
        data={"csrf": form_csrf, "name": "Ada", "token": TOKEN, "next": "//evil.example/x"},
        allow_redirects=False,
    ) as response:
        assert response.headers["Location"] == "/conflicts"


@pytest.mark.parametrize("sent", [None, "", "wrong-token"])
async def test_an_action_without_the_right_csrf_token_is_refused_and_changes_nothing(
    url: str, client: aiohttp.ClientSession, store: Store, sent: str | None
) -> None:
    await sign_in(client, url)
    before = await open_ids(store)
    target = min(before)
    data = {"op": "erp", "id": str(target)}
    if sent is not None:
        data["csrf"] = sent
    async with client.post(
        f"{url}/conflicts/resolve", data=data, allow_redirects=False
    ) as response:
        assert response.status == 403
        assert "security token" in await response.text()
    assert await open_ids(store) == before


async def test_another_sessions_csrf_token_is_refused(url: str, store: Store) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession(cookie_jar=jar) as ada,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as bob,
    ):
        await sign_in(ada, url, "Ada")
        bobs = await sign_in(bob, url, "Bob")
        target = min(await open_ids(store))
        async with ada.post(
            f"{url}/conflicts/resolve", data={"csrf": bobs, "op": "erp", "id": str(target)}
        ) as response:
            assert response.status == 403
    assert target in await open_ids(store)


async def test_an_action_from_another_origin_is_refused_even_with_the_token(
    url: str, client: aiohttp.ClientSession, store: Store
) -> None:
    csrf = await sign_in(client, url)
    target = min(await open_ids(store))
    async with client.post(
        f"{url}/conflicts/resolve",
        data={"csrf": csrf, "op": "erp", "id": str(target)},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
    ) as response:
        assert response.status == 403
    assert target in await open_ids(store)


async def test_the_right_csrf_token_resolves_and_records_who(
    url: str, client: aiohttp.ClientSession, store: Store
) -> None:
    csrf = await sign_in(client, url, "Ada Lovelace")
    target = min(await open_ids(store))
    async with client.post(
        f"{url}/conflicts/resolve", data={"csrf": csrf, "op": "erp", "id": str(target)}
    ) as response:
        assert response.status == 200
        assert "Resolved 1" in await response.text()
    row = await store.get_conflict(target)
    assert row is not None
    assert (row.status, row.resolution, row.resolved_by) == ("resolved", "ERP", "Ada Lovelace")


async def test_a_bearer_client_acts_with_the_csrf_token_of_its_pages(
    url: str, client: aiohttp.ClientSession, store: Store
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Concord-User": "sync-bot"}
    target = min(await open_ids(store))
    async with client.post(
        f"{url}/conflicts/resolve", data={"op": "shop", "id": str(target)}, headers=headers
    ) as response:
        assert response.status == 403
    async with client.get(f"{url}/conflicts", headers=headers) as response:
        csrf = csrf_in(await response.text())
    async with client.post(
        f"{url}/conflicts/resolve",
        data={"op": "shop", "id": str(target)},
        headers={**headers, "X-CSRF-Token": csrf},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
    row = await store.get_conflict(target)
    assert row is not None and (row.resolution, row.resolved_by) == ("Shop", "sync-bot")


async def test_sign_out_ends_the_session(url: str, client: aiohttp.ClientSession) -> None:
    csrf = await sign_in(client, url)
    async with client.post(f"{url}/logout", data={"csrf": csrf}) as response:
        assert response.status == 200  # the sign-in form, after the redirect
    async with client.get(f"{url}/conflicts") as response:
        assert response.status == 401


async def test_values_from_the_platforms_are_shown_as_text_never_as_markup(
    url: str, client: aiohttp.ClientSession
) -> None:
    await sign_in(client, url)
    for path in ("/conflicts", "/conflicts?search=script", "/conflicts/export?format=html"):
        async with client.get(url + path) as response:
            body = await response.text()
        assert "<script>window.__pwned" not in body, path
        assert "<img src=x" not in body and "<b>bold</b>" not in body, path
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in body, path
        assert "&lt;b&gt;bold&lt;/b&gt;" in body, path


async def test_a_hostile_name_is_escaped_on_every_page_that_shows_names(
    url: str, client: aiohttp.ClientSession, store: Store
) -> None:
    """The product's key, a dead letter's key and reason, and the reviewer's own name (in the
    navigation bar and the trail) are shown as text, in content and in attributes alike."""
    await store.commit(
        CommitBatch(
            connection="main",
            kind="product",
            job="products",
            mode="full",
            started_at=datetime.now(UTC),
            status="partial",
            dead_letters=[
                NewDeadLetter(key=HOSTILE, side="shop", operation={}, reason=f"locked {HOSTILE}")
            ],
        )
    )
    hostile = next(r for r in await store.list_conflicts(status="open") if r.key == HOSTILE)
    csrf = await sign_in(client, url, HOSTILE)
    async with client.post(
        f"{url}/conflicts/resolve", data={"csrf": csrf, "op": "erp", "id": str(hostile.id)}
    ) as response:
        assert response.status == 200 and "Resolved 1" in await response.text()
    pages = (
        "/conflicts",
        "/conflicts?status=all",
        f"/conflicts/{hostile.id}",
        "/status",
        "/conflicts/export?format=html&status=all",
    )
    for path in pages:
        async with client.get(url + path) as response:
            assert response.status == 200, path
            body = await response.text()
        assert "<script>window.__pwned" not in body and '"><img' not in body, path
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;&#34;&gt;&lt;img" in body, path
    async with client.get(f"{url}/status") as response:
        body = await response.text()
    assert "locked &lt;script&gt;window.__pwned" in body  # the dead letter's reason
    assert body.count("&lt;script&gt;window.__pwned") >= 4  # nav, letter, reason, trail


async def test_every_response_carries_the_security_headers(
    url: str, client: aiohttp.ClientSession
) -> None:
    def check(response: aiohttp.ClientResponse) -> None:
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "'unsafe-inline'" not in policy
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"

    async with client.get(f"{url}/conflicts") as response:  # 401
        check(response)
    csrf = await sign_in(client, url)
    for path in ("/conflicts", "/status", "/conflicts/export?format=csv"):
        async with client.get(url + path) as response:
            assert response.status == 200
            check(response)
    async with client.post(
        f"{url}/conflicts/resolve", data={"op": "erp"}, allow_redirects=False
    ) as response:  # 403
        check(response)
    async with client.post(
        f"{url}/conflicts/resolve", data={"csrf": csrf, "op": "erp"}, allow_redirects=False
    ) as response:  # 303
        check(response)


async def test_the_inline_script_and_style_carry_the_responses_nonce(
    url: str, client: aiohttp.ClientSession
) -> None:
    await sign_in(client, url)
    async with client.get(f"{url}/conflicts") as response:
        body = await response.text()
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce is not None
    assert f'<script nonce="{nonce.group(1)}">' in body
    assert f'<style nonce="{nonce.group(1)}">' in body
    assert body.count("<script") == 1


async def test_extra_routes_are_protected_and_public_routes_are_not(store: Store) -> None:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text="concord_up 1\n")

    async def hook(request: web.Request) -> web.Response:
        return web.Response(text="received")

    app = create_app(
        store,
        token=TOKEN,
        extra_routes=[web.get("/metrics", metrics)],
        public_routes=[web.post("/hooks/shop", hook)],
    )
    async with running(app, "127.0.0.1", 0) as base, aiohttp.ClientSession() as client:
        async with client.get(f"{base}/metrics") as response:
            assert response.status == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        async with client.get(f"{base}/metrics", headers=bearer) as response:
            assert (response.status, await response.text()) == (200, "concord_up 1\n")
        async with client.post(f"{base}/hooks/shop", data=b"{}") as response:
            assert (response.status, await response.text()) == (200, "received")
            assert response.headers["X-Frame-Options"] == "DENY"


def test_a_short_token_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="at least 16 characters"):
        create_app(store, token="short")
