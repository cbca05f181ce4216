"""Text of an HTML page that a reader does not see: comments and elements hidden by markup or style."""

from __future__ import annotations

import re

from rlm_desktop.library.pages import HiddenText

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden"
                           r"|font-size\s*:\s*0(?:\.0*)?(?:px|pt|em)?\s*(?:;|$)"
                           r"|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$)", re.IGNORECASE)
MAX_FOUND = 200


def hidden_html_text(data: bytes) -> list[HiddenText]:
    """Comments and hidden elements (``hidden``, ``display:none``, ``visibility:hidden``, zero size or
    opacity) of a page, in order; [] for a page the tree builder cannot read."""
    from bs4 import BeautifulSoup, Comment

    try:
        soup = BeautifulSoup(data, "html.parser")
    except RecursionError:
        return []
    found: list[HiddenText] = []
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        text = " ".join(str(comment).split())
        if len(text) >= 3:
            found.append(HiddenText(text, "an HTML comment"))
    for tag in soup.find_all(True):
        if tag.name in ("script", "style", "template", "head", "noscript"):
            continue
        style = tag.get("style") or ""
        if tag.has_attr("hidden") or _HIDDEN_STYLE.search(style if isinstance(style, str) else " ".join(style)):
            if any(parent is not None and _is_hidden(parent) for parent in tag.parents):
                continue  # reported with its hidden ancestor
            text = " ".join(tag.get_text(" ").split())
            if len(text) >= 3:
                found.append(HiddenText(text, "a hidden HTML element"))
        if len(found) >= MAX_FOUND:
            break
    return found


def _is_hidden(tag: object) -> bool:
    get = getattr(tag, "get", None)
    if get is None or getattr(tag, "name", None) in (None, "[document]"):
        return False
    style = get("style") or ""
    return bool(getattr(tag, "has_attr", lambda _: False)("hidden")
                or _HIDDEN_STYLE.search(style if isinstance(style, str) else " ".join(style)))
