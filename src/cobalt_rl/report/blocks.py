"""What every page of the report is built from: tables, as markdown or as HTML, and PNGs
embedded in HTML (base64), so that a page is one file that reads offline."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Table", "embedded_png", "html_table", "markdown_rows"]


@dataclass(frozen=True)
class Table:
    """A table as its header and rows of cells (text), rendered as markdown or HTML."""

    head: list[str]
    rows: list[list[str]] = field(default_factory=list)


def markdown_rows(table: Table) -> list[str]:
    """A table as markdown lines."""
    lines = ["| " + " | ".join(table.head) + " |", "|" + "---|" * len(table.head)]
    return lines + ["| " + " | ".join(row) + " |" for row in table.rows]


def html_table(table: Table, caption: str | None = None) -> str:
    """A table as an HTML ``<table>`` (cells escaped)."""
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in table.head)
    parts += [f"<thead><tr>{head}</tr>", "</thead><tbody>"]
    for row in table.rows:
        parts.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def embedded_png(path: Path, alt: str | None = None) -> str:
    """An ``<img>`` holding the PNG at ``path`` (alt text: ``alt``, else the file's stem)."""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt or path.stem)}" src="data:image/png;base64,{data}">'
