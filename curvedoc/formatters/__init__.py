"""Output formatters: one module per format, and the registry the CLI picks from.

Every formatter has the same call shape (:class:`Formatter`) and returns the whole output as a
string, so the CLI can send the same reports to stdout and to any number of ``--output`` files.
The registry entries import their module on first use: ``curvedoc diagnose --format json`` should
not pay for importing rich. Formatters import nothing of curvedoc's but :mod:`curvedoc.model`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from curvedoc.model import Report


class Formatter(Protocol):
    def __call__(
        self,
        reports: Sequence[Report],
        *,
        fail_on: str = "error",
        color: bool = False,
        width: int | None = None,
    ) -> str: ...


def _terminal(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
) -> str:
    from curvedoc.formatters.terminal import render_terminal

    return render_terminal(reports, fail_on=fail_on, color=color, width=width)


def _json(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
) -> str:
    from curvedoc.formatters.json import render_json

    return render_json(reports, fail_on=fail_on, color=color, width=width)


def _markdown(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
) -> str:
    from curvedoc.formatters.markdown import render_markdown

    return render_markdown(reports, fail_on=fail_on, color=color, width=width)


FORMATTERS: dict[str, Formatter] = {
    "terminal": _terminal,
    "json": _json,
    "markdown": _markdown,
}


def render(
    fmt: str,
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
) -> str:
    """Render ``reports`` in format ``fmt``, a key of :data:`FORMATTERS` (ValueError otherwise)."""
    try:
        formatter = FORMATTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATTERS)}") from None
    return formatter(reports, fail_on=fail_on, color=color, width=width)


__all__ = ["FORMATTERS", "Formatter", "render"]
