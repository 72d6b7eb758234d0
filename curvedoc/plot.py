"""``curvedoc plot``: one run's curves as an SVG or PNG file (READMEs, PR comments, slides).

SVG is drawn by curvedoc itself (:mod:`curvedoc.formatters.svg`) and needs nothing beyond the core
install. PNG needs a rasteriser, and the one worth depending on is matplotlib — an optional extra
(``pip install "curvedoc[plot]"``), imported only when a PNG is asked for. Both draw the same
:class:`~curvedoc.formatters.figure.Figure`: the same panels, scales, spans and marks.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from curvedoc.errors import ConfigError
from curvedoc.formatters.figure import Figure, Panel
from curvedoc.formatters.svg import PALETTE, SEVERITY_COLORS, figure_svg, short

PLOT_SUFFIXES = (".svg", ".png")
INSTALL_HINT = 'PNG output needs matplotlib: pip install "curvedoc[plot]" (or write a .svg file)'


def plot_format(path: Path) -> str:
    """``svg`` or ``png`` from the file name (ConfigError otherwise)."""
    suffix = path.suffix.lower()
    if suffix not in PLOT_SUFFIXES:
        raise ConfigError(
            f"cannot tell the image format from {path.name!r}: use a .svg or .png file name",
            field="--output",
        )
    return suffix[1:]


def _require_matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _y_scale(panel: Panel) -> tuple[float, float, float]:
    """The y limits, and 1 or a power of ten to divide every y by: an axis spanning more than a
    float holds (values of ±1e308) overflows matplotlib's transforms, which then raise."""
    y0, y1 = panel.y_range()
    if math.isfinite(y1 - y0) and max(abs(y0), abs(y1)) < 1e300:
        return y0, y1, 1.0
    ys = [
        float(v) for line in panel.lines for _, seg in line.segments for v in (seg.min(), seg.max())
    ]
    finite = [v for v in ys if math.isfinite(v)] or [0.0, 1.0]
    k = float(10.0 ** math.floor(math.log10(max(max(abs(v) for v in finite), 1e-300))))
    lo, hi = min(finite) / k, max(finite) / k
    pad = 0.05 * (hi - lo) or 1.0
    return lo - pad, hi + pad, k


def _draw_panel(ax: Any, panel: Panel) -> None:
    y0, y1, k = _y_scale(panel)
    for line in panel.lines:
        color = PALETTE[line.slot % len(PALETTE)]
        style = "--" if line.dashed else "-"
        for i, (xs, ys) in enumerate(line.segments):
            label = short(line.name, 40) if i == 0 else None
            ax.plot(xs, ys / k, style, color=color, lw=1.4, label=label)
        if line.bad_x.size:
            top = [1.0] * line.bad_x.size  # axes coordinates: a tick at the top edge
            ax.plot(line.bad_x, top, "|", color="#cf222e", transform=ax.get_xaxis_transform())
    for band in panel.bands:
        color = SEVERITY_COLORS.get(band.severity, "#888888")
        if band.end > band.start:
            ax.axvspan(band.start, band.end, color=color, alpha=0.13, lw=0)
        ax.axvline(band.start, color=color, lw=1, ls=":")
    for lvl in panel.levels:
        color = SEVERITY_COLORS.get(lvl.severity, "#888888")
        if not y0 <= lvl.y / k <= y1:  # far off the data (see Panel.y_range): noted, not drawn
            arrow = "↓" if lvl.y / k < y0 else "↑"
            ax.annotate(
                f"asymptote {lvl.y:.3g} {arrow}",
                (0.99, 0.03 if lvl.y / k < y0 else 0.92),
                xycoords="axes fraction",
                ha="right",
                fontsize=8,
                color=color,
            )
            continue
        if lvl.low is not None and lvl.high is not None:
            ax.axhspan(lvl.low / k, lvl.high / k, color=color, alpha=0.13, lw=0)
        ax.axhline(lvl.y / k, color=color, lw=1, ls=":")
    markers = {"best": "o", "checkpoint": "D", "spike": "v"}
    for m in panel.marks:
        color = SEVERITY_COLORS.get(m.severity, "#888888")
        if m.y is None or m.kind not in markers:
            ax.axvline(m.x, color=color, lw=1, ls="--")
        else:
            ax.plot([m.x], [m.y / k], markers[m.kind], mfc="white", mec=color, mew=1.8, ms=7)
    if panel.log_y:
        ax.set_yscale("log")
    ax.set_ylim(y0, y1)
    ax.set_xlim(*panel.x_range())
    if k != 1.0:
        ax.set_ylabel(f"× {k:.0e}", fontsize=9)
    ax.set_title(short(panel.title, 60), loc="left", fontsize=10, fontweight="bold")
    ax.set_xlabel(panel.x_unit, fontsize=9)
    ax.grid(True, color="#eaeef2", lw=0.8)
    ax.tick_params(labelsize=8)
    if panel.lines:
        ax.legend(fontsize=8, frameon=False, loc="best")


def figure_png(figure: Figure, path: Path, *, columns: int = 2) -> None:
    """Write the figure as a PNG with matplotlib (ConfigError with the install hint if absent)."""
    plt = _require_matplotlib()
    n = max(1, len(figure.panels))
    cols = max(1, min(columns, n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.6 * cols, 2.9 * rows + 0.4), squeeze=False)
    # An x axis of steps up to 1e308 overflows inside matplotlib's transforms: the PNG is still
    # right, but numpy would print RuntimeWarnings on the user's terminal.
    with np.errstate(over="ignore", invalid="ignore"):
        _draw(plt, fig, axes, figure, path)


def _draw(plt: Any, fig: Any, axes: Any, figure: Figure, path: Path) -> None:
    try:
        for i, ax in enumerate(axes.flat):
            if i < len(figure.panels):
                _draw_panel(ax, figure.panels[i])
            else:
                ax.set_axis_off()
        fig.suptitle(short(figure.source, 100), x=0.01, ha="left", fontsize=11)
        fig.tight_layout()
        fig.savefig(path, dpi=120, format="png")
    finally:
        plt.close(fig)


def write_plot(figure: Figure, path: Path) -> str:
    """Write ``figure`` to ``path`` in the format its suffix names; returns that format."""
    fmt = plot_format(path)
    if path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "svg":
        path.write_text(figure_svg(figure), encoding="utf-8")
    else:
        figure_png(figure, path)
    return fmt
