"""The page shell: head, navigation, messages, and the package's only style sheet and script.

Everything is inline and carries the response's CSP nonce, so the policy can forbid every other
source (no CDN, no file from outside the package, no injected script). The script only makes
the page faster to drive from the keyboard; every action also works without it.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from web.html import Child, Markup, el

STYLE = Markup("""
:root { --line: #d9dde4; --muted: #5f6b7a; --bg: #f5f6f8; --erp: #1d4ed8; --shop: #7e22ce;
  --ok: #15803d; --warn: #b45309; --bad: #b91c1c; --top: 2.25rem; --bar: 2.6rem; }
* { box-sizing: border-box; }
body { margin: 0; color: #1f2328; background: #fff;
  font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--erp); }
h1 { font-size: 1.15rem; margin: .6rem .8rem .3rem; }
h2 { font-size: .95rem; margin: 1rem .8rem .3rem; display: flex; gap: .5rem;
  align-items: baseline; }
h2 small, .muted { color: var(--muted); font-weight: normal; }
.top { position: sticky; top: 0; z-index: 4; height: var(--top); display: flex; gap: 1.2rem;
  align-items: center; padding: 0 .8rem; background: #161b22; color: #e6edf3; }
.top a { color: #c9d1d9; text-decoration: none; padding: .45rem 0; }
.top a.here { color: #fff; font-weight: 600; box-shadow: inset 0 -2px #58a6ff; }
.top .who { margin-left: auto; display: flex; gap: .6rem; align-items: center; color: #8b949e; }
.top button { background: none; border: 1px solid #30363d; color: #c9d1d9; }
.badge { display: inline-block; min-width: 1.4em; padding: 0 .4em; border-radius: 1em;
  background: #30363d; color: #fff; font-size: .8em; text-align: center; }
.badge.hot { background: var(--bad); }
form.filters { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center;
  padding: .5rem .8rem; background: var(--bg); border-bottom: 1px solid var(--line); }
form.filters input[type=search] { width: 16rem; }
.bar { position: sticky; top: var(--top); z-index: 3; height: var(--bar); display: flex;
  gap: .4rem; align-items: center; padding: 0 .8rem; white-space: nowrap; overflow-x: auto;
  background: #fff; border-bottom: 1px solid var(--line); box-shadow: 0 1px 2px #0001; }
.bar .sep { width: 1px; height: 1.4rem; background: var(--line); margin: 0 .3rem; }
.offscreen { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
button, select, input, textarea { font: inherit; }
button { cursor: pointer; padding: .15rem .55rem; border: 1px solid #b8bfca; border-radius: 4px;
  background: #f6f8fa; color: #1f2328; }
button:hover { background: #eaeef2; }
button:focus-visible, a:focus-visible, input:focus-visible { outline: 2px solid #0969da; }
button.erp { border-color: #9db4f0; color: var(--erp); }
button.shop { border-color: #cfa8ee; color: var(--shop); }
button.sug { font-weight: 700; box-shadow: inset 0 0 0 1px currentColor; }
button.primary { background: #1f883d; border-color: #1a7f37; color: #fff; }
input[type=text], input[type=search], input[type=password], select, textarea {
  padding: .15rem .35rem; border: 1px solid #b8bfca; border-radius: 4px; background: #fff; }
.notice { margin: .5rem .8rem; padding: .4rem .6rem; border-radius: 4px; border: 1px solid; }
.notice.ok { background: #dafbe1; border-color: #8ddb9e; }
.notice.error { background: #ffebe9; border-color: #f5a8a3; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { padding: .2rem .4rem; border-bottom: 1px solid #eceff3; vertical-align: top;
  text-align: left; overflow-wrap: anywhere; }
thead th { position: sticky; top: calc(var(--top) + var(--bar)); z-index: 2;
  background: #eef1f5; font-weight: 600; border-bottom: 1px solid var(--line); }
table.plain { table-layout: auto; }
table.plain thead th { top: var(--top); }
th:first-child, td:first-child { padding-left: .8rem; }
tbody tr:hover { background: #f6f8fa; }
tr.cur { background: #fff8c5 !important; box-shadow: inset 3px 0 #d4a72c; }
tr.picked { background: #ddf4ff; }
col.pick { width: 1.8rem; } col.key { width: 11%; } col.field { width: 8%; }
col.why { width: 14%; } col.act { width: 10.5rem; } col.decision { width: 14%; }
.act { white-space: nowrap; }
.v { white-space: pre-wrap; max-height: 2.7em; overflow: hidden; }
.v.full { max-height: none; }
.v .none, .none { color: var(--muted); font-style: italic; }
td.erp .v { border-left: 3px solid #c7d5f7; padding-left: .3rem; }
td.shop .v { border-left: 3px solid #e3cdf5; padding-left: .3rem; }
td.sug .v { border-left-color: var(--ok); background: #f0fbf2; }
.tag { display: inline-block; font-size: .75em; padding: 0 .35em; border-radius: 3px;
  background: #eef1f5; color: var(--muted); margin-right: .2rem; }
.tag.ok { background: #dafbe1; color: var(--ok); }
.tag.warn { background: #fff1c2; color: var(--warn); }
.tag.bad { background: #ffebe9; color: var(--bad); }
.keys { color: var(--muted); font-size: .85em; }
kbd { font: .85em ui-monospace, monospace; padding: 0 .25em; border: 1px solid var(--line);
  border-radius: 3px; background: var(--bg); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem;
  margin: .5rem .8rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.panel { margin: .5rem .8rem; }
.login { max-width: 22rem; margin: 4rem auto; padding: 1.2rem; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); }
.login label { display: block; margin: .6rem 0 .2rem; }
.login input { width: 100%; }
.login button { margin-top: 1rem; }
textarea { width: 100%; min-height: 5rem; }
.empty { margin: 2rem .8rem; color: var(--muted); }
""")

SCRIPT = Markup("""
(() => {
  const rows = [...document.querySelectorAll("tr[data-id]")];
  const counter = document.getElementById("selected");
  let cur = -1, last = null;
  const pick = r => r.querySelector("input.pick");
  const update = () => {
    let n = 0;
    for (const r of rows) {
      const on = !!(pick(r) && pick(r).checked);
      n += on;
      r.classList.toggle("picked", on);
    }
    if (counter) counter.textContent = n;
  };
  const focusRow = i => {
    if (!rows.length) return;
    cur = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, j) => r.classList.toggle("cur", j === cur));
    rows[cur].scrollIntoView({ block: "nearest" });
  };
  document.addEventListener("click", e => {
    const box = e.target.closest("input.pick");
    if (box) {
      const i = rows.indexOf(box.closest("tr"));
      if (e.shiftKey && last !== null) {
        for (let j = Math.min(last, i); j <= Math.max(last, i); j++) {
          if (pick(rows[j])) pick(rows[j]).checked = box.checked;
        }
      }
      last = i; cur = i; focusRow(i);
    }
    const all = e.target.closest("input.pick-all");
    if (all) {
      const boxes = all.closest("table").querySelectorAll("input.pick");
      boxes.forEach(b => { b.checked = all.checked; });
    }
    if (box || all) update();
  });
  document.addEventListener("keydown", e => {
    const t = e.target;
    if (t.matches("input[type=text], input[type=search], input[type=password], textarea, select")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    // Enter and space keep their meaning on a focused button, link or checkbox.
    if ((e.key === "Enter" || e.key === " ") && t.matches("button, a, input")) return;
    const row = rows[cur];
    const click = sel => { const b = row && row.querySelector(sel); if (b) b.click(); };
    switch (e.key) {
      case "j": case "ArrowDown": focusRow(cur + 1); break;
      case "k": case "ArrowUp": focusRow(cur - 1); break;
      case "x": case " ":
        if (row && pick(row)) { pick(row).checked = !pick(row).checked; update(); }
        break;
      case "e": click("button.erp"); break;
      case "s": click("button.shop"); break;
      case "o": case "Enter": click("a.open"); break;
      case "/": { const s = document.getElementById("search"); if (s) s.focus(); break; }
      default: return;
    }
    e.preventDefault();
  });
  update();
})();
""")


class Nav(msgspec.Struct, frozen=True, kw_only=True):
    """What the navigation bar shows: where we are, who is signed in, the counts."""

    here: str
    user: str
    csrf: str
    open_conflicts: int = 0
    dead_letters: int = 0


def page(
    title: str,
    body: Child,
    *,
    nonce: str,
    nav: Nav | None,
    notices: Sequence[tuple[str, str]] = (),
    script: bool = False,
) -> Markup:
    """A whole page: ``body`` under the navigation bar and the messages (kind, text)."""
    return document(
        title,
        [
            _nav(nav) if nav else None,
            [el("div", text, class_=f"notice {kind}", role="status") for kind, text in notices],
            body,
        ],
        style=el("style", STYLE, nonce=nonce),
        script=el("script", SCRIPT, nonce=nonce) if script else None,
    )


def document(
    title: str, body: Child, *, style: Markup, script: Markup | None = None, head: Child = None
) -> Markup:
    """An HTML document with the given (already tagged) style and script."""
    return Markup(
        "<!doctype html>"
        + el(
            "html",
            el(
                "head",
                el("meta", charset="utf-8"),
                el("meta", name="viewport", content="width=device-width, initial-scale=1"),
                el("meta", name="referrer", content="same-origin"),
                head,
                el("title", title),
                style,
            ),
            el("body", body, script),
            lang="en",
        )
    )


def _nav(nav: Nav) -> Markup:
    def link(path: str, label: str, count: int) -> Markup:
        return el(
            "a",
            label,
            " ",
            el("span", count, class_="badge hot" if count else "badge"),
            href=path,
            class_="here" if nav.here == path else None,
        )

    return el(
        "nav",
        el("strong", "Concord"),
        link("/conflicts", "Conflicts", nav.open_conflicts),
        link("/status", "Status", nav.dead_letters),
        el(
            "form",
            el("span", nav.user),
            el("input", type="hidden", name="csrf", value=nav.csrf),
            el("button", "Sign out"),
            method="post",
            action="/logout",
            class_="who",
        ),
        class_="top",
    )
