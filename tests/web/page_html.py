"""Reading the pages in tests without a browser: one element by id, its text,
a field's value, with the standard library's HTML parser."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Finder(HTMLParser):
    def __init__(self, wanted: str) -> None:
        super().__init__(convert_charrefs=False)
        self.wanted, self.depth, self.start, self.end = wanted, 0, None, None

    def handle_starttag(self, tag, attrs):
        if self.end is not None:
            return
        if self.start is None:
            if dict(attrs).get("id") == self.wanted:
                self.start = self.getpos()
                self.tag = tag
                self.depth = 0 if tag in VOID else 1
                if tag in VOID:
                    self.end = self.getpos()
        elif tag not in VOID:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.start is not None and self.end is None and tag not in VOID:
            self.depth -= 1
            if self.depth == 0:
                self.end = self.getpos()


def _offset(text: str, pos: tuple[int, int]) -> int:
    line, col = pos
    lines = text.splitlines(keepends=True)
    return sum(len(x) for x in lines[:line - 1]) + col


def element(page: str, element_id: str) -> str:
    """The HTML of the element with ``id`` (its own tags included)."""
    f = _Finder(element_id)
    f.feed(page)
    assert f.start is not None, f"no element with id {element_id!r}"
    assert f.end is not None, f"element {element_id!r} is not closed"
    start = _offset(page, f.start)
    end = page.index(">", _offset(page, f.end)) + 1
    return page[start:end]


def has_id(page: str, element_id: str) -> bool:
    return f'id="{element_id}"' in page


def text(fragment: str) -> str:
    """The visible-ish text: tags stripped, entities decoded, spaces collapsed."""
    no_tags = re.sub(r"<[^>]+>", " ", fragment)
    joined = " ".join(html.unescape(no_tags).split())
    return re.sub(r" ([,.;:])", r"\1", joined)  # "</a>," reads as ","


def value(page: str, element_id: str) -> str | None:
    """The ``value`` of an input, the text of a textarea, or the selected option."""
    el = element(page, element_id)
    if el.startswith("<textarea"):
        return html.unescape(re.sub(r"^<textarea[^>]*>|</textarea>$", "", el))
    if el.startswith("<select"):
        m = re.search(r'<option value="([^"]*)" selected', el)
        return html.unescape(m.group(1)) if m else None
    m = re.search(r'\svalue="([^"]*)"', el)
    return html.unescape(m.group(1)) if m else None


def checked(page: str, element_id: str) -> bool:
    return " checked" in element(page, element_id)
