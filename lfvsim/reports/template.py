"""The report as a small document of blocks, rendered to self-contained HTML or Markdown.

:mod:`lfvsim.reports.content` decides what a report says; this module only lays it out.
The HTML has inline CSS, images as ``data:`` URIs, no scripts and no links, so it opens
offline and survives being mailed; its only links are the navigation bar's, to its own
sections. The Markdown refers to images written beside it.

Titles, file names and captions can come from a user or a file, so neither format lets
them through as markup: HTML escapes them, Markdown escapes them as text (``<`` as
``&lt;``, Markdown punctuation with a backslash, a line break as a space) and fences code
with more backticks than any run inside it.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "Block",
    "Callout",
    "Code",
    "Document",
    "Figure",
    "KeyFigures",
    "Paragraph",
    "Section",
    "Table",
    "render_html",
    "render_markdown",
]


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text; ``strong`` text is shown bold before it."""

    text: str
    strong: str = ""


@dataclass(frozen=True)
class Callout:
    """A highlighted paragraph; ``kind`` is ``note``, ``good`` or ``warn``."""

    text: str
    kind: str = "note"
    strong: str = ""


@dataclass(frozen=True)
class KeyFigures:
    """Headline numbers: ``(label, value, detail)`` each."""

    items: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Table:
    """A table of text; rows in ``highlight`` (indexes) are marked."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    highlight: frozenset[int] = frozenset()
    numeric: frozenset[int] = frozenset()
    """Column indexes aligned right."""


@dataclass(frozen=True)
class Code:
    """Preformatted text; lines containing ``mark`` are highlighted in HTML."""

    text: str
    language: str = ""
    caption: str = ""
    mark: str = ""


@dataclass(frozen=True)
class Figure:
    """A PNG picture with a title and a caption."""

    name: str
    title: str
    caption: str
    png: bytes
    alt: str


Block = Paragraph | Callout | KeyFigures | Table | Code | Figure


@dataclass(frozen=True)
class Section:
    """A titled part of the report; ``id`` becomes the HTML element id."""

    id: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """A title, a line under it, and sections."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]
    footer: str = ""


# --- HTML --------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1d232a; background: #ffffff; margin: 0; line-height: 1.45; font-size: 15px; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1.5rem 3rem; }
header { border-bottom: 3px solid #2b6cb0; margin-bottom: 1.2rem; padding-bottom: 0.6rem; }
h1 { font-size: 1.7rem; margin: 0 0 0.3rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 0.7rem; padding-bottom: 0.25rem;
  border-bottom: 1px solid #d5dbe3; }
h3 { font-size: 1.05rem; margin: 1.6rem 0 0.4rem; }
.subtitle { color: #4a5563; margin: 0; }
nav { font-size: 0.9rem; color: #4a5563; margin: 0.5rem 0 0; }
nav span + span::before { content: " \\00b7  "; }
p { margin: 0.5rem 0; }
.callout { border-left: 4px solid #2b6cb0; background: #eef4fb; padding: 0.6rem 0.9rem;
  margin: 0.8rem 0; border-radius: 0 4px 4px 0; }
.callout.good { border-color: #2f855a; background: #edf7f1; }
.callout.warn { border-color: #c05621; background: #fdf3ea; }
.figures-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr));
  gap: 0.7rem; margin: 0.8rem 0; }
.kf { border: 1px solid #d5dbe3; border-radius: 6px; padding: 0.55rem 0.8rem;
  background: #fafbfc; }
.kf .label { font-size: 0.8rem; color: #4a5563; text-transform: uppercase;
  letter-spacing: 0.03em; }
.kf .value { font-size: 1.35rem; font-weight: 600; margin: 0.1rem 0; }
.kf .detail { font-size: 0.82rem; color: #4a5563; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.9rem;
  width: 100%; }
th, td { border-bottom: 1px solid #e2e7ee; padding: 0.3rem 0.55rem; text-align: left;
  vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.hl td { background: #fff7d6; font-weight: 600; }
pre { background: #f6f8fa; border: 1px solid #e2e7ee; border-radius: 4px;
  padding: 0.6rem 0.8rem; font-size: 0.82rem; line-height: 1.35;
  white-space: pre-wrap; overflow-wrap: break-word; }
pre .mark { background: #fff1b8; display: inline-block; min-width: 100%; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.code-caption { font-size: 0.85rem; color: #4a5563; margin: 0.8rem 0 0.2rem; }
figure { margin: 0.8rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #e2e7ee; }
figcaption { font-size: 0.88rem; color: #4a5563; margin-top: 0.3rem; }
footer { margin-top: 2.5rem; font-size: 0.82rem; color: #66707c;
  border-top: 1px solid #d5dbe3; padding-top: 0.6rem; }
@media print { main { max-width: none; } h2 { break-after: avoid; }
  figure { break-inside: avoid; } }
"""


def render_html(doc: Document) -> str:
    """One self-contained HTML page: inline CSS, images as data URIs, no scripts.

    The only links are the navigation bar's, to the page's own sections.
    """
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(doc.title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{e(doc.title)}</h1>",
        f'<p class="subtitle">{e(doc.subtitle)}</p>',
        "<nav>"
        + "".join(f'<span><a href="#{e(s.id)}">{e(s.title)}</a></span>' for s in doc.sections)
        + "</nav>",
        "</header>",
    ]
    for section in doc.sections:
        parts.append(f'<section id="{e(section.id)}">')
        parts.append(f"<h2>{e(section.title)}</h2>")
        parts += [_html_block(b) for b in section.blocks]
        parts.append("</section>")
    if doc.footer:
        parts.append(f"<footer>{e(doc.footer)}</footer>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _html_block(block: Block) -> str:
    e = html.escape
    if isinstance(block, Paragraph):
        strong = f"<strong>{e(block.strong)}</strong> " if block.strong else ""
        return f"<p>{strong}{e(block.text)}</p>"
    if isinstance(block, Callout):
        strong = f"<strong>{e(block.strong)}</strong> " if block.strong else ""
        return f'<div class="callout {e(block.kind)}">{strong}{e(block.text)}</div>'
    if isinstance(block, KeyFigures):
        cards = "".join(
            f'<div class="kf"><div class="label">{e(label)}</div>'
            f'<div class="value">{e(value)}</div><div class="detail">{e(detail)}</div></div>'
            for label, value, detail in block.items
        )
        return f'<div class="figures-grid">{cards}</div>'
    if isinstance(block, Table):
        head = "".join(f"<th>{e(h)}</th>" for h in block.header)
        rows = []
        for i, row in enumerate(block.rows):
            cls = ' class="hl"' if i in block.highlight else ""
            cells = "".join(
                f'<td class="num">{e(c)}</td>' if j in block.numeric else f"<td>{e(c)}</td>"
                for j, c in enumerate(row)
            )
            rows.append(f"<tr{cls}>{cells}</tr>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    if isinstance(block, Code):
        lines = []
        for line in block.text.rstrip("\n").split("\n"):
            text = e(line)
            if block.mark and block.mark in line:
                text = f'<span class="mark">{text}</span>'
            lines.append(text)
        caption = f'<p class="code-caption">{e(block.caption)}</p>' if block.caption else ""
        return f"{caption}<pre><code>{chr(10).join(lines)}</code></pre>"
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return (
            f'<figure id="figure-{e(block.name)}"><h3>{e(block.title)}</h3>'
            f'<img src="data:image/png;base64,{data}" alt="{e(block.alt)}">'
            f"<figcaption>{e(block.caption)}</figcaption></figure>"
        )
    raise TypeError(f"unknown block {type(block).__name__}")


# --- Markdown ----------------------------------------------------------------------------------


def render_markdown(doc: Document, images: dict[str, str]) -> str:
    """Markdown; ``images`` maps each figure's name to the file name it is written to."""
    nav = " · ".join(f"[{_md_text(s.title)}](#{s.id})" for s in doc.sections)
    parts = [f"# {_md_text(doc.title)}", "", f"_{_md_text(doc.subtitle)}_", "", nav, ""]
    for section in doc.sections:
        parts += [
            f'<a id="{html.escape(section.id)}"></a>',
            "",
            f"## {_md_text(section.title)}",
            "",
        ]
        for block in section.blocks:
            parts += [_md_block(block, images), ""]
    if doc.footer:
        parts += ["---", "", _md_text(doc.footer), ""]
    return "\n".join(parts)


# Markdown punctuation that can open emphasis, code, links or a table cell anywhere; an
# underscore only where it can open or close emphasis (not inside a word, as in
# target_percent). Numbers need none of it: "1.49%" and "-USD 12" read plainly.
_MD_PUNCTUATION = re.compile(r"([\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# The starts of a line that make a heading, a list item or a rule: "# ", "- ", "+ ", "1. ",
# "2) ", "---". "1.5 units" or "-3%" start none of them and stay as they are.
_MD_LINE_START = re.compile(
    r"^(\s*)(#{1,6}(?=\s|$)|[-+](?=\s|$)|-(?=[-\s]*$)|\d{1,9}(?=[.)](?:\s|$)))"
)


def _md_text(text: str, line_start: bool = True) -> str:
    """Text that renders as itself: no HTML, no Markdown markup, on one line.

    ``&``, ``<`` and ``>`` become character references (inert in every renderer, unlike a
    backslash before ``<``, which some leave as raw HTML); punctuation that would be markup
    is escaped with a backslash, and nothing else, so figures read the same raw and
    rendered; line breaks, which would end a heading or a table row, become spaces.
    ``line_start`` False (a table cell) leaves the start alone: no list or heading begins
    inside a cell.
    """
    text = " ".join(str(text).splitlines())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_PUNCTUATION.sub(r"\\\1", text)
    if not line_start:
        return text
    return _MD_LINE_START.sub(lambda m: m.group(1) + _escape_start(m.group(2)), text)


def _escape_start(start: str) -> str:
    # "1." starts a list; "1\." does not. A single mark is escaped itself.
    return start + "\\" if start[0].isdigit() else "\\" + start


def _md_fence(text: str) -> str:
    """A backtick fence longer than any backtick run in ``text`` (at least three)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _md_block(block: Block, images: dict[str, str]) -> str:
    if isinstance(block, Paragraph):
        strong = f"**{_md_text(block.strong)}** " if block.strong else ""
        return strong + _md_text(block.text)
    if isinstance(block, Callout):
        strong = f"**{_md_text(block.strong)}** " if block.strong else ""
        return "> " + strong + _md_text(block.text)
    if isinstance(block, KeyFigures):
        return _md_table(
            ("figure", "value", ""),
            tuple((label, value, detail) for label, value, detail in block.items),
            frozenset(),
        )
    if isinstance(block, Table):
        return _md_table(block.header, block.rows, block.highlight)
    if isinstance(block, Code):
        caption = f"{_md_text(block.caption)}\n\n" if block.caption else ""
        fence = _md_fence(block.text)
        # The info string ends at the line; only a plain word is kept as the language.
        language = block.language if re.fullmatch(r"[A-Za-z0-9_+-]*", block.language) else ""
        return f"{caption}{fence}{language}\n{block.text.rstrip()}\n{fence}"
    if isinstance(block, Figure):
        # The file name is part of a link: percent-encoded, it cannot close the link or
        # carry markup whatever characters the user's output name has.
        return (
            f"### {_md_text(block.title)}\n\n"
            f"![{_md_text(block.alt)}]({quote(images[block.name])})\n\n"
            f"_{_md_text(block.caption)}_"
        )
    raise TypeError(f"unknown block {type(block).__name__}")


def _md_table(
    header: tuple[str, ...], rows: tuple[tuple[str, ...], ...], highlight: frozenset[int]
) -> str:
    lines = [
        "| " + " | ".join(_md_text(h, line_start=False) for h in header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
    ]
    for i, row in enumerate(rows):
        cells = [_md_text(c, line_start=False) for c in row]
        if i in highlight:
            cells = [f"**{c}**" if c else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
