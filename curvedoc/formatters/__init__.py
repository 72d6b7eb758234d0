"""Output formatters: one module per format, and the registry the CLI picks from.

Every formatter has the same call shape (:class:`Formatter`) and returns the whole output as a
string, so the CLI can send the same reports to stdout and to any number of ``--output`` files.
The registry names each formatter's module and function and imports the module on first use:
``curvedoc diagnose --format json`` should not pay for importing rich. Formatters import nothing
of curvedoc's but :mod:`curvedoc.model`.

A few formats need more than the reports, and get it through :class:`RenderContext`: the HTML
report plots the loaded curves (``histories``), JUnit writes one test case per *selected* rule
and SARIF lists the rules with their descriptions (``rules``). Every formatter still works
without a context (a plain ``render("junit", reports)`` from Python): it then falls back to what
the reports themselves say.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from typing import Protocol, cast

from curvedoc.formatters.common import RenderContext, RuleRef
from curvedoc.model import Report


class Formatter(Protocol):
    def __call__(
        self,
        reports: Sequence[Report],
        *,
        fail_on: str = "error",
        color: bool = False,
        width: int | None = None,
        context: RenderContext | None = None,
    ) -> str: ...


#: format name → (module, function). The order is the order ``--help`` lists them in.
_REGISTRY: dict[str, tuple[str, str]] = {
    "terminal": ("curvedoc.formatters.terminal", "render_terminal"),
    "json": ("curvedoc.formatters.json", "render_json"),
    "markdown": ("curvedoc.formatters.markdown", "render_markdown"),
    "html": ("curvedoc.formatters.html", "render_html"),
    "github": ("curvedoc.formatters.github", "render_github"),
    "junit": ("curvedoc.formatters.junit", "render_junit"),
    "sarif": ("curvedoc.formatters.sarif", "render_sarif"),
    "gitlab": ("curvedoc.formatters.gitlab", "render_gitlab"),
}


class _Lazy:
    """A registry entry that imports its module when first called."""

    def __init__(self, module: str, function: str) -> None:
        self.module = module
        self.function = function

    def __call__(
        self,
        reports: Sequence[Report],
        *,
        fail_on: str = "error",
        color: bool = False,
        width: int | None = None,
        context: RenderContext | None = None,
    ) -> str:
        formatter = cast(Formatter, getattr(import_module(self.module), self.function))
        return formatter(reports, fail_on=fail_on, color=color, width=width, context=context)


FORMATTERS: dict[str, Formatter] = {name: _Lazy(*entry) for name, entry in _REGISTRY.items()}


def render(
    fmt: str,
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
    context: RenderContext | None = None,
) -> str:
    """Render ``reports`` in format ``fmt``, a key of :data:`FORMATTERS` (ValueError otherwise)."""
    try:
        formatter = FORMATTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATTERS)}") from None
    return formatter(reports, fail_on=fail_on, color=color, width=width, context=context)


__all__ = ["FORMATTERS", "Formatter", "RenderContext", "RuleRef", "render"]
