"""Docs as HTML with the entities highlighted, in displaCy's `ent` markup: a colour per type, the type
after each entity, its probability on hover, and a legend."""

from __future__ import annotations

import html
from collections.abc import Iterable

PALETTE = {
    "PER": "#aa9cfc",
    "ORG": "#7aecec",
    "LOC": "#feca74",
    "MISC": "#e4e7d2",
}
EXTRA_COLOURS = ("#bfe1d9", "#f0d0ff", "#ffeb80", "#c887fb", "#9cc9cc", "#ff8197")

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 60rem; color: #222; line-height: 2.4; }
.entities { white-space: pre-wrap; border-top: 1px solid #ddd; padding: 1rem 0; }
mark.entity { padding: 0.25em 0.35em; margin: 0 0.15em; border-radius: 0.35em; line-height: 1; }
mark.entity span { font-size: 0.75em; font-weight: bold; margin-left: 0.4rem; vertical-align: middle;
                   text-transform: uppercase; }
.legend mark.entity { margin-right: 0.6em; }
"""


def colours(labels: Iterable[str]) -> dict[str, str]:
    """A colour for each entity type: the usual four first, then others in turn."""
    extra = iter(EXTRA_COLOURS * 10)
    return {label: PALETTE.get(label) or next(extra) for label in labels}


def mark(text: str, label: str, score: float, colour: str) -> str:
    """One highlighted entity."""
    return (
        f'<mark class="entity" style="background: {colour}" title="{label} {score:.3f}">'
        f"{html.escape(text)}<span>{html.escape(label)}</span></mark>"
    )


def render_doc(doc: object, palette: dict[str, str]) -> str:
    """One Doc's text with its entities marked."""
    parts, position = [], 0
    for entity in doc.entities:
        parts.append(html.escape(doc.text[position : entity.start]))
        parts.append(mark(entity.text, entity.label, entity.score, palette[entity.label]))
        position = entity.end
    parts.append(html.escape(doc.text[position:]))
    return f'<div class="entities">{"".join(parts)}</div>'


TYPE_NAMES = {"PER": "person", "ORG": "organisation", "LOC": "location", "MISC": "other name"}


def legend(palette: dict[str, str]) -> str:
    """The entity types and their colours."""
    marks = (
        f'<mark class="entity" style="background: {c}">{html.escape(TYPE_NAMES.get(t, t.lower()))}'
        f"<span>{html.escape(t)}</span></mark>"
        for t, c in palette.items()
    )
    return '<p class="legend">' + "".join(marks) + "</p>"


def page_start(title: str, palette: dict[str, str]) -> str:
    """The head of a self-contained page, its legend included."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}'
        f"</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
        f"{legend(palette)}\n"
    )


PAGE_END = "</body>\n</html>\n"
