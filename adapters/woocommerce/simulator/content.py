"""What WordPress does to a product's texts on save and on display.

On save (the REST products controller): the name, description and short description go through
``wp_filter_post_kses`` (tags and attributes outside the "post" allow-list removed, ``javascript:``
links dropped, a bare ``&`` written ``&amp;``); the title is then trimmed by ``title_save_pre``;
the SKU goes through ``wc_clean`` (tags stripped, whitespace runs collapsed, trimmed).
On display (``context=view``, the default): the description is passed through ``wpautop``
(paragraphs wrapped in ``<p>``, a trailing newline), the short description through the
``woocommerce_short_description`` filters (``wpautop`` among them). ``context=edit`` answers
the stored texts.
"""

from __future__ import annotations

import re

POST_TAGS = frozenset(
    [
        "a",
        "abbr",
        "acronym",
        "address",
        "area",
        "article",
        "aside",
        "audio",
        "b",
        "bdo",
        "big",
        "blockquote",
        "br",
        "button",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "fieldset",
        "figcaption",
        "figure",
        "font",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "label",
        "legend",
        "li",
        "main",
        "map",
        "mark",
        "menu",
        "nav",
        "object",
        "p",
        "pre",
        "q",
        "rb",
        "rp",
        "rt",
        "rtc",
        "ruby",
        "s",
        "samp",
        "section",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "textarea",
        "tfoot",
        "th",
        "thead",
        "title",
        "tr",
        "track",
        "tt",
        "u",
        "ul",
        "ol",
        "var",
        "video",
    ]
)
"""``$allowedposttags``: what ``wp_kses_post`` keeps (``script``, ``style``, ``iframe``, ``form``,
``input`` are not in it)."""
_URL_ATTRIBUTES = frozenset({"href", "src", "cite", "action", "poster"})
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ATTRIBUTE = re.compile(r"""([A-Za-z_:][-A-Za-z0-9_:.]*)(\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_BARE_AMPERSAND = re.compile(r"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
_BLOCK = re.compile(
    r"^\s*<(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|"
    r"form|map|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|"
    r"aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary)[\s/>]",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[\r\n\t ]+")
_ANY_TAG = re.compile(r"<[^>]*>")


def _attributes(text: str) -> str:
    kept: list[str] = []
    for match in _ATTRIBUTE.finditer(text):
        name = match.group(1).lower()
        value = match.group(3) or ""
        if name.startswith("on") or (name == "style" and "expression(" in value.lower()):
            continue
        bare = value.strip("\"'").strip().lower()
        if name in _URL_ATTRIBUTES and re.match(r"(javascript|vbscript|data):", bare):
            continue
        kept.append(match.group(0))
    return "".join(f" {attribute}" for attribute in kept)


def _tag(match: re.Match[str]) -> str:
    closing, name, rest = match.group(1), match.group(2).lower(), match.group(3)
    if name not in POST_TAGS:
        return ""
    slash = " /" if rest.rstrip().endswith("/") else ""
    attributes = "" if closing else _attributes(rest.rstrip().rstrip("/"))
    return f"<{closing}{name}{attributes}{slash}>"


def kses_post(text: str) -> str:
    """``wp_filter_post_kses``: what the shop keeps of an HTML text sent to it."""
    text = text.replace("\x00", "")
    text = _BARE_AMPERSAND.sub("&amp;", text)
    return _TAG.sub(_tag, text)


def title(text: str) -> str:
    """A product name as saved: kses, then ``title_save_pre`` trims it."""
    return kses_post(text).strip()


def wc_clean(text: str) -> str:
    """``wc_clean`` (``sanitize_text_field``) as applied to a SKU."""
    return _SPACES.sub(" ", _ANY_TAG.sub("", text)).strip()


def wpautop(text: str) -> str:
    """Paragraphs as WordPress displays them: blocks separated by a blank line each wrapped in
    ``<p>`` unless already a block element, single line breaks as ``<br />``, a final newline."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return ""
    out: list[str] = []
    for chunk in re.split(r"\n\s*\n", text):
        chunk = chunk.strip()
        if _BLOCK.match(chunk):
            out.append(chunk)
        else:
            out.append("<p>" + chunk.replace("\n", "<br />\n") + "</p>")
    return "\n".join(out) + "\n"
