"""Tables on the learning pages stay readable on a phone: no word is broken across lines inside
a cell, no cell overflows, and the page does not scroll sideways; at desktop width they stay
ordinary tables."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import DESKTOP, PHONE, phone_screenshot

PAGES_WITH_TABLES = ["/learn/evidence/", "/learn/routes/"]

# For every visible cell: each word measured on its own (a word that wraps inside itself has
# more than one line box), and the cell's own overflow.
CELL_REPORT = """() => [...document.querySelectorAll('.prose table th, .prose table td')]
  .filter(cell => cell.getClientRects().length > 0 && getComputedStyle(cell).visibility !== 'hidden'
                  && cell.closest('thead')?.getBoundingClientRect().height !== 1)
  .map(cell => {
    const split = [];
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /\\S+/g;
      for (let m = re.exec(node.data); m; m = re.exec(node.data)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) split.push(m[0]);
      }
    }
    return {text: cell.textContent.trim(), split, overflow: cell.scrollWidth - cell.clientWidth};
  })"""


def check_tables(page: Page, path: str) -> list[str]:
    page.goto(path)
    cells = page.evaluate(CELL_REPORT)
    assert cells, f"{path}: no table cells found"
    problems = [f"{path}: '{c['text']}' splits {c['split']}" for c in cells if c["split"]]
    problems += [f"{path}: '{c['text']}' overflows by {c['overflow']}px" for c in cells if c["overflow"] > 1]
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > page.viewport_size["width"] + 1:  # type: ignore[index]
        problems.append(f"{path}: the page is {width}px wide")
    return problems


def test_learn_tables_keep_whole_words_on_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    problems = []
    for path in PAGES_WITH_TABLES:
        problems += check_tables(page, path)
        page.locator(".prose table").first.scroll_into_view_if_needed()
        phone_screenshot(page, "table-" + path.strip("/").replace("/", "-"))
    assert not problems, "\n".join(problems)
    # Each stacked row still says which column each value belongs to.
    page.goto("/learn/evidence/")
    first_row = page.locator(".prose table tbody tr").first
    labels = first_row.locator("td").evaluate_all(
        "tds => tds.map(td => getComputedStyle(td, '::before').content)"
    )
    assert labels == ['"Result at 24 hours"', '"Ketamine"', '"Midazolam"', '"How sure?"']


def test_learn_tables_are_ordinary_tables_on_a_desktop(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    problems = []
    for path in PAGES_WITH_TABLES:
        problems += check_tables(page, path)
        assert page.locator(".prose table td").first.evaluate("td => getComputedStyle(td).display") == (
            "table-cell"
        )
        assert page.locator(".prose table thead").first.is_visible()
    assert not problems, "\n".join(problems)
