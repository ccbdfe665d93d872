"""A tiny HTML builder that escapes by default.

Every value shown on the pages comes from a platform (a shop's product names, an ERP's
descriptions) and is untrusted. Text is therefore escaped wherever it goes, in content and in
attributes alike; only :class:`Markup` — HTML this package built itself — passes through as is.
There is no way to splice a plain ``str`` into a page unescaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Union

Child = Union["Markup", str, int, float, None, Iterable["Child"]]
"""What an element may contain: text (escaped), markup, numbers, nothing, or a list of these."""

Attribute = str | int | float | bool | None
"""An attribute's value: ``True`` writes the bare name, ``False``/``None`` leaves it out."""

# Elements that never have content or a closing tag.
_VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "col"})


class Markup(str):
    """HTML built by this module: inserted as is, never escaped again."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """``value`` as text that HTML shows literally (quotes included, for attributes)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def render(child: Child) -> Markup:
    """One child, or a nested list of them, as markup."""
    if child is None:
        return Markup("")
    if isinstance(child, Markup):
        return child
    if isinstance(child, str | int | float):
        return escape(child)
    return Markup("".join(render(c) for c in child))


def attribute_name(name: str) -> str:
    """A Python keyword argument as an attribute name: ``class_`` → ``class``,
    ``data_id`` → ``data-id``, ``aria_label`` → ``aria-label``."""
    return name.rstrip("_").replace("_", "-")


def el(tag: str, *children: Child, **attributes: Attribute) -> Markup:
    """The element ``tag`` with escaped ``attributes`` and ``children``."""
    parts = [f"<{tag}"]
    for name, value in attributes.items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(f" {attribute_name(name)}")
        else:
            parts.append(f' {attribute_name(name)}="{escape(value)}"')
    parts.append(">")
    if tag in _VOID:
        return Markup("".join(parts))
    return Markup("".join(parts) + render(children) + f"</{tag}>")


def join(children: Iterable[Child], separator: Child = "") -> Markup:
    """Children rendered with ``separator`` between them."""
    sep = render(separator)
    return Markup(sep.join(render(c) for c in children))
