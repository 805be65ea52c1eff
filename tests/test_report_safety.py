"""Titles and file names from a user render as text in both report formats, never as markup."""

from __future__ import annotations

import re
from html import unescape as _unescape
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt

import lfvsim
from lfvsim.reports import build_report
from lfvsim.reports.template import Code, Document, Paragraph, Section, Table, render_markdown
from tests.conftest import small_scenario_toml

HOSTILE_TITLES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "Q3 | plan\n# injected heading\n<script>alert(2)</script>",
    "```\n<script>alert(3)</script>\n```",
    "[click](javascript:alert(4)) **bold** _it_ &lt;b&gt;",
]


class _Tags(HTMLParser):
    """Every start tag and its attributes in a piece of HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _rendered(markdown: str) -> str:
    # CommonMark with raw HTML allowed, as GitHub and most viewers render it before sanitising.
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def _inert(page: str) -> None:
    tags = _tags(page)
    names = {t for t, _ in tags}
    assert "script" not in names
    assert not any(k.startswith("on") for _, attrs in tags for k in attrs)
    assert not any((a.get("href") or "").startswith("javascript") for _, a in tags)
    assert not any(t == "img" and a.get("src") == "x" for t, a in tags)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> lfvsim.Scenario:
    path = tmp_path_factory.mktemp("scenario") / "s.toml"
    path.write_text(small_scenario_toml(duration_h=1))
    return lfvsim.load_scenario(path)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_a_hostile_title_renders_as_its_own_text_in_markdown_and_html(scenario, title):
    report = build_report(scenario, title=title, source="<img src=x onerror=alert(5)>.toml")
    markdown, _ = report.to_markdown("r")
    page = _rendered(markdown)
    _inert(page)
    # The title is one heading, shown as the text the user typed (line breaks as spaces).
    h1 = re.findall(r"<h1>(.*?)</h1>", page, re.S)
    assert len(h1) == 1
    shown = re.sub(r"<[^>]+>", "", h1[0])
    assert _unescape(shown) == " ".join(title.splitlines())
    assert len(re.findall(r"<h1>", page)) == 1 and "injected heading</h" not in page
    html_page = report.to_html()
    _inert(html_page)
    assert "&lt;script&gt;" in html_page or "<script" not in title


def test_code_fences_are_longer_than_any_backtick_run_inside():
    text = "a ```` b\n```\n<script>alert(1)</script>"
    doc = Document("t", "s", (Section("x", "X", (Code(text, "sh"),)),))
    page = _rendered(render_markdown(doc, {}))
    _inert(page)
    code = re.findall(r"<pre><code[^>]*>(.*?)</code></pre>", page, re.S)
    assert len(code) == 1 and _unescape(code[0]).rstrip("\n") == text


def test_an_output_name_with_backticks_pipes_and_brackets_links_its_images(scenario, tmp_path):
    report = build_report(scenario, title="t")
    out = tmp_path / "a`b|c) [x] <y>.md"
    written = report.write(out)
    page = _rendered(out.read_text())
    _inert(page)
    sources = [unquote(a["src"] or "") for t, a in _tags(page) if t == "img"]
    assert sorted(sources) == sorted(p.name for p in written if p.suffix == ".png")
    assert all((tmp_path / s).is_file() for s in sources)


def test_navigation_links_to_every_section_in_both_formats(scenario):
    report = build_report(scenario, title="t")
    ids = [s.id for s in report.document.sections]
    html_page = report.to_html()
    nav = html_page[html_page.index("<nav>") : html_page.index("</nav>")]
    assert re.findall(r'href="#([^"]+)"', nav) == ids
    assert all(f'<section id="{i}">' in html_page for i in ids)
    markdown, _ = report.to_markdown("r")
    assert re.findall(r"\]\(#([^)]+)\)", markdown) == ids
    assert all(f'<a id="{i}"></a>' in markdown for i in ids)


# Figures and names as reports print them, and text that would be markup if left alone.
PLAIN_TEXTS = [
    "1.49%", "-USD 12", "86.3% of the throttling", "0.727 / 1.480 / 1.995 s", "2026-01-05 05:33",
    "autoscaler.target_percent=30,50", "--min 2..3", "1,234,567", "3",
]  # fmt: skip
MARKUP_TEXTS = [
    "1. not a list", "2) nor this", "- nor a bullet", "+ nor this", "# nor a heading", "---",
    "*not emphasis*", "_nor this_", "**nor bold**", "`not code`", "a | b", "~~not struck~~",
    "[not](a-link)", "a\\b",
]  # fmt: skip


def _paragraph_and_cell(text: str) -> tuple[str, str, str]:
    """The raw Markdown of ``text`` as a paragraph, and what a paragraph and a cell show."""
    doc = Document("t", "s", (Section("x", "X", (Paragraph(text), Table(("h",), ((text,),)))),))
    markdown = render_markdown(doc, {})
    raw = markdown.split("## X\n\n", 1)[1].split("\n", 1)[0]
    page = _rendered(markdown)
    paragraph = re.findall(r"<p>(.*?)</p>", page, re.S)[-1]
    cell = re.findall(r"<td>(.*?)</td>", page, re.S)[0]
    return raw, _unescape(paragraph), _unescape(cell)


@pytest.mark.parametrize("text", PLAIN_TEXTS)
def test_figures_read_plainly_in_raw_and_rendered_markdown(text):
    raw, paragraph, cell = _paragraph_and_cell(text)
    assert raw == text  # no backslash before '.', '-', '_' or a digit
    assert paragraph == cell == text


@pytest.mark.parametrize("text", MARKUP_TEXTS)
def test_markup_characters_still_render_as_text(text):
    _, paragraph, cell = _paragraph_and_cell(text)
    assert paragraph == cell == text


def test_a_report_in_markdown_has_no_backslash_in_its_figures(scenario):
    markdown, _ = build_report(scenario, title="t").to_markdown("r")
    assert re.findall(r"\d\\\.|\\-\d|\w\\_\w", markdown) == []
