"""The review and status pages in a real browser (headless Chromium): sign in, list, filter,
resolve one and many, then see the next cycle write the choice to both sides; the defences
(token, CSRF, escaping) as a browser meets them."""

from __future__ import annotations

import os
import shutil
from typing import Any

from browser_support import ROOT, TOKEN, Platforms, shot, sign_in

from engine.store.state import Store


def rows(page: Any) -> Any:
    return page.locator("tr[data-id]")


def row(page: Any, key: str, field: str) -> Any:
    return page.locator("tr[data-id]", has_text=key).filter(has_text=field)


async def test_the_token_is_required_and_a_wrong_one_is_refused(page: Any, url: str) -> None:
    response = await page.goto(f"{url}/conflicts")
    assert response.status == 401
    assert await page.locator("#token").is_visible()
    assert await rows(page).count() == 0
    await page.fill("#name", "Margaret")
    await page.fill("#token", "not-the-token-at-all")
    async with page.expect_navigation():
        await page.click("button:has-text('Sign in')")
    assert "that access token is not valid" in await page.inner_text("body")
    await shot(page, "sign-in-refused")

    await page.fill("#token", TOKEN)
    async with page.expect_navigation():
        await page.click("button:has-text('Sign in')")
    assert await rows(page).count() == 12
    assert page.problems == []


async def test_the_list_is_grouped_counted_and_filtered(page: Any, url: str) -> None:
    await sign_in(page, url)
    assert await page.locator("h1").inner_text() == "12 open conflicts — all connections"
    groups = await page.locator("h2").all_inner_texts()
    assert len(groups) == 2
    assert "main · product" in groups[0] and "10 shown" in groups[0]
    assert "main · stock" in groups[1] and "2 shown" in groups[1]
    assert await page.locator(".top .badge").first.inner_text() == "12"
    assert await page.locator("td.sug").count() == 1  # the one conflict with a suggestion
    await shot(page, "review-page")

    await page.select_option("select[name=field]", "description")
    async with page.expect_navigation():
        await page.click("button:has-text('Filter')")
    assert await rows(page).count() == 3
    assert await page.locator("select[name=field] option:checked").inner_text() == (
        "description (3)"
    )

    await page.goto(f"{url}/conflicts")
    await page.keyboard.press("/")
    await page.keyboard.type("sku-000011")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert await rows(page).count() == 1
    assert "35" in await rows(page).first.inner_text()
    await shot(page, "review-filtered")
    assert page.problems == []  # the page's own style and script pass its CSP


async def test_one_resolution_reaches_both_sides_after_the_next_cycle(
    page: Any, url: str, store: Store, platforms: Platforms
) -> None:
    await sign_in(page, url)
    target = row(page, "SKU-000001", "name")
    async with page.expect_navigation():
        await target.locator("button.shop").click()
    assert "Resolved 1" in await page.locator(".notice.ok").inner_text()
    await shot(page, "resolved-one")

    await platforms.cycle(store)

    assert platforms.both("product", "SKU-000001", "name") == (
        "Vintage linen cup 1 (new!)",
        "Vintage linen cup 1 (new!)",
    )
    await page.goto(f"{url}/conflicts")
    assert await rows(page).count() == 11
    assert await row(page, "SKU-000001", "name").count() == 0


async def test_many_resolutions_at_once_with_checkboxes_and_the_keyboard(
    page: Any, url: str, store: Store, platforms: Platforms
) -> None:
    await sign_in(page, url)
    boxes = page.locator("tr[data-id] input.pick")
    await boxes.nth(1).click()
    await boxes.nth(3).click(modifiers=["Shift"])  # a range: rows 2 to 4
    await page.keyboard.press("Escape")
    for _ in range(2):  # from row 4 on to row 6 (SKU-000006), and select it with x
        await page.keyboard.press("j")
    await page.keyboard.press("x")
    assert await page.locator("#selected").inner_text() == "4"
    await shot(page, "bulk-selected")
    async with page.expect_navigation():
        await page.click(".bar button:has-text('Take ERP')")
    assert "Resolved 4" in await page.locator(".notice.ok").inner_text()

    await platforms.cycle(store)

    for n in (2, 3, 4):
        erp, shop = platforms.both("product", f"SKU-00000{n}", "name")
        assert erp == shop and erp.endswith(" - 2025 range")
    assert platforms.both("product", "SKU-000006", "description") == (
        "Updated by the purchasing team.",
        "Updated by the purchasing team.",
    )
    await page.goto(f"{url}/conflicts")
    assert await rows(page).count() == 8


async def test_a_typed_value_on_the_conflicts_page_reaches_both_sides(
    page: Any, url: str, store: Store, platforms: Platforms
) -> None:
    await sign_in(page, url)
    async with page.expect_navigation():
        await row(page, "SKU-000009", "price").locator("a:has-text('Edit')").click()
    assert "140.59" in await page.locator("table.plain").first.inner_text()
    await page.fill("#value", "23.70")
    async with page.expect_navigation():
        await page.click("button:has-text('Save this value')")
    assert "Resolved 1" in await page.locator(".notice.ok").inner_text()

    await platforms.cycle(store)

    assert platforms.both("product", "SKU-000009", "price") == ("23.7", "23.7")
    await page.goto(f"{url}/status")
    decisions = await page.locator("table.plain").last.inner_text()
    assert "Margaret" in decisions and "applied" in decisions


async def test_a_forged_or_missing_csrf_token_is_refused_and_nothing_changes(
    page: Any, url: str, store: Store
) -> None:
    await sign_in(page, url)
    await page.evaluate("document.querySelector('#bulk input[name=csrf]').value = 'forged'")
    async with page.expect_navigation():
        await row(page, "SKU-000001", "name").locator("button.erp").click()
    assert await page.locator("h1").inner_text() == "Forbidden"
    await shot(page, "csrf-refused")

    await page.goto(f"{url}/conflicts")
    await page.evaluate("document.querySelector('#bulk input[name=csrf]').remove()")
    async with page.expect_navigation():
        await row(page, "SKU-000001", "name").locator("button.erp").click()
    assert await page.locator("h1").inner_text() == "Forbidden"
    assert len(await store.list_conflicts(status="open")) == 12


async def test_markup_from_the_shop_is_shown_as_text_and_never_runs(
    page: Any, url: str, store: Store, platforms: Platforms
) -> None:
    hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    platforms.erp.edit("product", "SKU-000011", name="Desk lamp")
    platforms.shop.edit("product", "SKU-000011", name=hostile)
    await platforms.cycle(store)
    await sign_in(page, url)
    await page.goto(f"{url}/conflicts?search=pwned")

    cell = row(page, "SKU-000011", "name").locator("td.shop")
    assert await cell.inner_text() == hostile
    assert await page.evaluate("window.__pwned") is None
    async with page.expect_navigation():
        await row(page, "SKU-000011", "name").locator("a.open").click()
    assert hostile in await page.locator("table.plain").first.inner_text()
    assert await page.evaluate("window.__pwned") is None
    await shot(page, "hostile-value-as-text")
    assert not [p for p in page.problems if p.startswith(("dialog", "page error"))]


async def test_a_dead_letter_is_shown_with_its_reason_and_a_retry_can_be_asked(
    page: Any, url: str, store: Store, platforms: Platforms
) -> None:
    platforms.refuse["SKU-000012"] = "product_locked: <b>the shop</b> locks it"
    platforms.erp.edit("product", "SKU-000012", weight="2.5")  # an ERP-owned field
    await platforms.cycle(store)
    await sign_in(page, url)
    await page.goto(f"{url}/status")
    letters = page.locator("tr[data-id]")
    assert await letters.count() == 1
    assert "product_locked: <b>the shop</b> locks it" in await letters.first.inner_text()
    async with page.expect_navigation():
        await letters.first.locator("button:has-text('Retry')").click()
    assert "Retry asked for 1" in await page.locator(".notice.ok").inner_text()
    assert "waits for the next cycle" in await letters.first.inner_text()
    await shot(page, "status-page", full_page=True)

    platforms.refuse.clear()
    await platforms.cycle(store)  # the shop accepts it now

    assert platforms.both("product", "SKU-000012", "weight") == ("2.5", "2.5")
    await page.reload()
    assert await page.locator("tr[data-id]").count() == 0


async def test_the_readme_screenshot(page: Any, url: str) -> None:
    """The page as the README shows it; ``CONCORD_UPDATE_DOCS=1`` refreshes docs/."""
    await page.set_viewport_size({"width": 1440, "height": 760})
    await sign_in(page, url)
    await page.locator("tr[data-id] input.pick").nth(2).click()
    await page.locator("tr[data-id] input.pick").nth(3).click()
    path = await shot(page, "readme-review-page")
    if os.environ.get("CONCORD_UPDATE_DOCS") == "1":
        shutil.copy(path, ROOT / "docs" / "review-page.png")
    assert path.stat().st_size > 10_000
