"""The JSON output: the stable machine-readable contract (DESIGN §4).

One input gives one report object; several inputs give a JSON array of report objects in input
order. The shape is exactly ``Report``'s JSON Schema (``curvedoc schema``). Non-finite floats are
written as ``null`` (pydantic's default), so the output is always strict RFC 8259 JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

from curvedoc.formatters.common import RenderContext
from curvedoc.model import Report


def render_json(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
    context: RenderContext | None = None,
) -> str:
    """An object for exactly one report, else an array; ``fail_on`` does not change the data."""
    if len(reports) == 1:
        return reports[0].model_dump_json(indent=2) + "\n"
    if not reports:
        return "[]\n"
    # Each report serialised by its own model, indented into the array by hand: a TypeAdapter
    # for list[Report] would build a second serializer at import (a tenth of a second of
    # start-up). JSON strings hold no raw newline, so every line of a report is indented.
    items = (_indent(r.model_dump_json(indent=2)) for r in reports)
    return "[\n" + ",\n".join(items) + "\n]\n"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.split("\n"))
