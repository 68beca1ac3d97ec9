"""The public learning pages: reviewed Markdown files in ``pages/``, rendered and sanitised.

Pure apart from reading the folder; rendered once per process (the files only change with a
deploy).
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from dataclasses import dataclass
from pathlib import Path

import markdown
import nh3

PAGES_DIR = Path(__file__).resolve().parent / "pages"

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "caption", "code", "div", "em", "h2", "h3", "h4", "hr", "li",
    "ol", "p", "section", "strong", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class", "id"},
    "div": {"class"},
    "li": {"id"},
    "sup": {"id"},
    "h2": {"id"},
    "h3": {"id"},
    "th": {"align"},
    "td": {"align"},
}


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    summary: str
    order: int
    reviewed: str
    html: str


def render_markdown(text: str) -> tuple[str, dict[str, list[str]]]:
    md = markdown.Markdown(extensions=["meta", "footnotes", "tables", "toc", "sane_lists"])
    raw_html = md.convert(text)
    # Sanitise even our own reviewed files: a page is content, and content never runs script.
    clean = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
    return label_table_cells(clean), getattr(md, "Meta", {})


_TABLE = re.compile(r"<table>(.*?)</table>", re.S)
_HEAD_CELL = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
_BODY_CELL = re.compile(r"<td\b")
_TAG = re.compile(r"<[^>]+>")


def label_table_cells(clean_html: str) -> str:
    """Give every body cell of a table its column's header as ``data-label``, and the table the
    class ``stack``: on a phone the stylesheet shows each row as "header: value" lines instead
    of columns squeezed until words break. Runs on sanitised HTML (the labels are escaped)."""

    def one_table(match: re.Match[str]) -> str:
        inner = match.group(1)
        labels = [html_lib.unescape(_TAG.sub("", cell)).strip() for cell in _HEAD_CELL.findall(inner)]

        def one_row(row: re.Match[str]) -> str:
            cells = iter(labels)

            def one_cell(_cell: re.Match[str]) -> str:
                label = next(cells, "")
                return f'<td data-label="{html_lib.escape(label, quote=True)}"' if label else "<td"

            return "<tr>" + _BODY_CELL.sub(one_cell, row.group(1)) + "</tr>"

        return '<table class="stack">' + _ROW.sub(one_row, inner) + "</table>"

    return _TABLE.sub(one_table, clean_html)


@functools.cache
def all_pages() -> tuple[Page, ...]:
    pages = []
    for path in sorted(PAGES_DIR.glob("*.md")):
        html, meta = render_markdown(path.read_text(encoding="utf-8"))
        pages.append(
            Page(
                slug=path.stem,
                title=" ".join(meta.get("title", [path.stem])),
                summary=" ".join(meta.get("summary", [""])),
                order=int(meta.get("order", ["99"])[0]),
                reviewed=" ".join(meta.get("reviewed", [""])),
                html=html,
            )
        )
    return tuple(sorted(pages, key=lambda p: (p.order, p.slug)))


def get_page(slug: str) -> Page | None:
    return next((p for p in all_pages() if p.slug == slug), None)
