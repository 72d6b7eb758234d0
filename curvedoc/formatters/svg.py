"""Hand-written SVG for the panels of a :class:`~curvedoc.formatters.figure.Figure`.

Why hand-written SVG rather than a plotting library: the HTML report must be one offline file and
the core install must not grow. Inline SVG needs no dependency and no script, stays crisp at any
zoom and in print, is small (a few kilobytes per panel after downsampling), keeps its text as text
(selectable, searchable, escaped like the rest of the page), takes the page's colours (dark mode
included) through CSS classes, and gives native hover tooltips through ``<title>``. What a
plotting library adds beyond that — label collision avoidance, many chart types — a learning
curve does not need. matplotlib is used only for PNG output (``curvedoc plot -o x.png``), an
optional extra, and draws the same :class:`Figure`.

Everything from a log is escaped with :func:`esc` (XML-safe too, so a standalone ``.svg`` file is
well-formed). Colours come from classes: ``s0``…``s6`` for curves (the Okabe–Ito palette, which
colour-blind readers can tell apart; validation curves are also dashed), ``sev-error`` /
``sev-warning`` / ``sev-info`` for findings. :data:`STYLE` defines them for standalone files; the
HTML report defines the same classes with light and dark variants.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from curvedoc.formatters.common import fmt_num, fmt_x
from curvedoc.formatters.figure import Figure, Line, Panel

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#666666")
SEVERITY_COLORS = {"error": "#cf222e", "warning": "#b07800", "info": "#0969da"}
FONT = 'system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif'

#: Styles for a standalone SVG file (the HTML report ships the same classes with dark variants).
STYLE = (
    f".cd{{font:11px {FONT};fill:#24292f}}"
    ".cd .bg{fill:#fff}.cd .area{fill:#fff;stroke:#d0d7de}"
    ".cd .grid{stroke:#eaeef2;stroke-width:1}.cd .tick{fill:#57606a}"
    ".cd .title{font-weight:600;font-size:12px}"
    ".cd .curve{fill:none;stroke-width:1.6;stroke-linejoin:round;stroke-linecap:round}"
    ".cd .dashed{stroke-dasharray:5 3}"
    + "".join(f".cd .s{i}{{stroke:{c}}}.cd .f{i}{{fill:{c}}}" for i, c in enumerate(PALETTE))
    + "".join(
        f".cd .sev-{s} .band{{fill:{c};fill-opacity:.13}}.cd .sev-{s} .edge{{stroke:{c}}}"
        f".cd .sev-{s} .mark{{stroke:{c};fill:#fff}}.cd .sev-{s} .solid{{fill:{c}}}"
        for s, c in SEVERITY_COLORS.items()
    )
    + ".cd .edge{stroke-width:1.2;stroke-dasharray:3 3;fill:none}.cd .mark{stroke-width:1.8}"
    ".cd .nan{stroke:#cf222e;stroke-width:1.5}"
)

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def esc(text: str) -> str:
    """Escape text from a log for HTML and XML (markup, both quotes, ``&``; control characters
    XML cannot hold become U+FFFD)."""
    return html.escape(_NOT_XML.sub("\ufffd", text), quote=True)


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- ticks -----------------------------------------------------------------------------------


def tick_label(v: float) -> str:
    """A compact axis label: ``0.25``, ``1e-4``, ``25k``, ``1.5M``."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e4 and a < 1e9 and float(v).is_integer():
        for div, suffix in ((1e6, "M"), (1e3, "k")):
            if a >= div:
                return f"{v / div:.4g}{suffix}"
    if a >= 1e5 or a < 1e-3:
        mantissa, exp = f"{v:.1e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exp)}"
    return f"{v:.4g}"


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round-numbered ticks (1, 2, 2.5, 5 × 10^k) inside ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    step = next((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), 10 * mag)
    first = math.ceil(lo / step - 1e-9) * step
    count = math.floor((hi - first) / step + 1e-9) + 1
    return [round(first + i * step, 12) for i in range(max(0, min(count, 50)))]


def log_ticks(lo: float, hi: float) -> list[float]:
    """Decades inside ``[lo, hi]`` (every few when there are many)."""
    a, b = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    if b < a:
        return nice_ticks(lo, hi)
    step = max(1, math.ceil((b - a + 1) / 6))
    return [10.0**k for k in range(a, b + 1, step)]


# --- geometry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """A panel's pixel box and the mapping from data to pixels."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    x0: float
    x1: float
    y0: float
    y1: float
    log_y: bool

    def px(self, x: float) -> float:
        span = self.x1 - self.x0
        return self.left + (x - self.x0) / span * (self.width - self.left - self.right)

    def py(self, y: float) -> float:
        if self.log_y:
            lo, hi, v = math.log10(self.y0), math.log10(self.y1), math.log10(max(y, 1e-300))
        else:
            lo, hi, v = self.y0, self.y1, y
        frac = (v - lo) / (hi - lo) if hi > lo else 0.5
        return self.height - self.bottom - frac * (self.height - self.top - self.bottom)

    @property
    def inner(self) -> tuple[float, float, float, float]:
        return (
            self.left,
            self.top,
            self.width - self.left - self.right,
            self.height - self.top - self.bottom,
        )


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _points(frame: Frame, xs: object, ys: object) -> str:
    # xs, ys are numpy arrays; clamp to a little outside the box so huge values stay drawable.
    lo, hi = frame.top - 50.0, frame.height - frame.bottom + 50.0
    pts = []
    for x, y in zip(xs, ys, strict=True):  # type: ignore[call-overload]
        py = min(hi, max(lo, frame.py(float(y))))
        pts.append(f"{_f(frame.px(float(x)))},{_f(py)}")
    return " ".join(pts)


def _legend(panel: Panel, width: int, left: int) -> tuple[list[str], int]:
    """Legend entries laid out in rows (names truncated); returns the elements and row count."""
    parts: list[str] = []
    x, row = float(left), 0
    for line in panel.lines:
        label = short(line.name, 40)
        w = 26 + 6.2 * len(label)
        if x + w > width - 8 and x > left:
            x, row = float(left), row + 1
        y = 32 + 14 * row
        dash = " dashed" if line.dashed else ""
        parts.append(
            f"<g><title>{esc(line.name)} ({line.points} points)</title>"
            f'<line class="curve s{line.slot % len(PALETTE)}{dash}" x1="{_f(x)}" y1="{y - 4}" '
            f'x2="{_f(x + 18)}" y2="{y - 4}"/>'
            f'<text x="{_f(x + 22)}" y="{y}">{esc(label)}</text></g>'
        )
        x += w + 10
    return parts, row + 1


def panel_svg(
    panel: Panel,
    *,
    width: int = 560,
    height: int = 280,
    standalone: bool = False,
    offset: tuple[int, int] | None = None,
    uid: str = "p0",
) -> str:
    """One panel as an ``<svg>`` element (``offset`` nests it at x, y inside a larger SVG).

    ``uid`` makes the panel's element ids unique within a page (ids must not repeat).
    """
    legend, rows = _legend(panel, width, 52)
    top = 26 + 14 * rows
    x0, x1 = panel.x_range()
    y0, y1 = panel.y_range()
    frame = Frame(width, height, 56, top, 14, 30, x0, x1, y0, y1, panel.log_y)
    ax, ay, aw, ah = frame.inner
    out: list[str] = []
    title = panel.title + (" (log scale)" if panel.log_y else "")
    attrs = f'viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
    if offset is not None:
        attrs += f' x="{offset[0]}" y="{offset[1]}"'
    if standalone:
        attrs = 'xmlns="http://www.w3.org/2000/svg" ' + attrs
    out.append(f'<svg class="cd" {attrs} role="img" aria-label="{esc(title)}">')
    out.append(f"<title>{esc(title)}</title>")
    if standalone:
        out.append(f"<style>{STYLE}</style>")
    out.append(f'<rect class="bg" width="{width}" height="{height}"/>')
    out.append(f'<text class="title" x="8" y="16">{esc(short(title, 80))}</text>')
    out += legend
    out.append(f'<rect class="area" x="{ax}" y="{ay}" width="{aw}" height="{ah}"/>')
    out += _grid(frame, panel)
    clip = "clip-" + re.sub(r"[^A-Za-z0-9_-]", "_", uid)
    out.append(
        f'<clipPath id="{clip}"><rect x="{ax}" y="{ay}" width="{aw}" height="{ah}"/></clipPath>'
    )
    out.append(f'<g clip-path="url(#{clip})">')
    out += _bands(frame, panel)
    for line in panel.lines:
        out += _line(frame, line)
    out += _marks(frame, panel)
    out.append("</g>")
    out.append(
        f'<text class="tick" x="{width - 14}" y="{height - 4}" text-anchor="end">'
        f"{esc(panel.x_unit)}</text>"
    )
    out.append("</svg>")
    return "".join(out)


def _grid(frame: Frame, panel: Panel) -> list[str]:
    ax, ay, aw, ah = frame.inner
    out = []
    yt = log_ticks(frame.y0, frame.y1) if panel.log_y else nice_ticks(frame.y0, frame.y1)
    for v in yt:
        y = frame.py(v)
        out.append(f'<line class="grid" x1="{ax}" y1="{_f(y)}" x2="{ax + aw}" y2="{_f(y)}"/>')
        out.append(
            f'<text class="tick" x="{ax - 4}" y="{_f(y + 3.5)}" text-anchor="end">'
            f"{tick_label(v)}</text>"
        )
    for v in nice_ticks(frame.x0, frame.x1, 6):
        x = frame.px(v)
        out.append(f'<line class="grid" x1="{_f(x)}" y1="{ay}" x2="{_f(x)}" y2="{ay + ah}"/>')
        out.append(
            f'<text class="tick" x="{_f(x)}" y="{ay + ah + 13}" text-anchor="middle">'
            f"{tick_label(v)}</text>"
        )
    return out


def _bands(frame: Frame, panel: Panel) -> list[str]:
    ax, ay, aw, ah = frame.inner
    out = []
    for band in panel.bands:
        a, b = frame.px(band.start), frame.px(band.end)
        out.append(f'<g class="sev-{band.severity}"><title>{esc(band.label)}</title>')
        if b - a >= 1:
            out.append(
                f'<rect class="band" x="{_f(a)}" y="{ay}" width="{_f(b - a)}" height="{ah}"/>'
            )
        out.append(f'<line class="edge" x1="{_f(a)}" y1="{ay}" x2="{_f(a)}" y2="{ay + ah}"/>')
        out.append("</g>")
    for lvl in panel.levels:
        out.append(f'<g class="sev-{lvl.severity}"><title>{esc(lvl.label)}</title>')
        if not frame.y0 <= lvl.y <= frame.y1:  # far off the data: a label at the edge
            below = lvl.y < frame.y0
            y = ay + ah - 4 if below else ay + 12
            out.append(
                f'<text class="tick" x="{ax + aw - 4}" y="{_f(y)}" text-anchor="end">'
                f"asymptote {fmt_num(lvl.y)} {'↓' if below else '↑'}</text></g>"
            )
            continue
        if lvl.low is not None and lvl.high is not None:
            top, bottom = frame.py(max(lvl.low, lvl.high)), frame.py(min(lvl.low, lvl.high))
            out.append(
                f'<rect class="band" x="{ax}" y="{_f(top)}" width="{aw}" '
                f'height="{_f(max(1.0, bottom - top))}"/>'
            )
        y = frame.py(lvl.y)
        out.append(f'<line class="edge" x1="{ax}" y1="{_f(y)}" x2="{ax + aw}" y2="{_f(y)}"/>')
        out.append(
            f'<text class="tick" x="{ax + aw - 4}" y="{_f(y - 4)}" text-anchor="end">'
            f"asymptote {fmt_num(lvl.y)}</text></g>"
        )
    return out


def _line(frame: Frame, line: Line) -> list[str]:
    cls = f"curve s{line.slot % len(PALETTE)}" + (" dashed" if line.dashed else "")
    out = [f"<g><title>{esc(line.name)}</title>"]
    for xs, ys in line.segments:
        if xs.size == 1:
            x, y = frame.px(float(xs[0])), frame.py(float(ys[0]))
            out.append(
                f'<circle class="f{line.slot % len(PALETTE)}" cx="{_f(x)}" cy="{_f(y)}" r="2"/>'
            )
        else:
            out.append(f'<polyline class="{cls}" points="{_points(frame, xs, ys)}"/>')
    out.append("</g>")
    if line.bad_x.size:
        columns = sorted({round(frame.px(float(x))) for x in line.bad_x})
        _, ay, _, _ = frame.inner
        ticks = "".join(f"M{c} {ay}v8" for c in columns)
        where = fmt_x(float(line.bad_x[0]))
        out.append(
            f"<g><title>{esc(line.name)}: {line.bad_x.size} non-finite value(s) (NaN/Inf), "
            f"the first at {where}</title>"
            f'<path class="nan" d="{ticks}"/></g>'
        )
    return out


_SHAPES: dict[str, Callable[[float, float], str]] = {
    "best": lambda x, y: f'<circle class="mark" cx="{_f(x)}" cy="{_f(y)}" r="4.5"/>',
    "checkpoint": lambda x, y: (
        f'<path class="mark" d="M{_f(x)} {_f(y - 5.5)}l5.5 5.5l-5.5 5.5l-5.5 -5.5z"/>'
    ),
    "spike": lambda x, y: (
        f'<path class="mark" d="M{_f(x)} {_f(y - 9)}l5 -8h-10z"/>'
        f'<line class="edge" x1="{_f(x)}" y1="{_f(y - 9)}" x2="{_f(x)}" y2="{_f(y)}"/>'
    ),
}


def _marks(frame: Frame, panel: Panel) -> list[str]:
    _, ay, _, ah = frame.inner
    out = []
    for m in panel.marks:
        x = frame.px(m.x)
        out.append(f'<g class="sev-{m.severity}"><title>{esc(m.label)}</title>')
        shape = _SHAPES.get(m.kind)
        if m.y is None or shape is None:
            out.append(
                f'<line class="edge" x1="{_f(x)}" y1="{ay}" x2="{_f(x)}" y2="{ay + ah}"/>'
                f'<text class="tick" x="{_f(x + 3)}" y="{ay + 11}">{esc(m.kind)}</text>'
            )
        else:
            y = min(ay + ah, max(ay + 10.0, frame.py(m.y)))
            out.append(shape(x, y))
        out.append("</g>")
    return out


def figure_svg(figure: Figure, *, columns: int = 2, width: int = 560, height: int = 280) -> str:
    """Every panel of a figure in one standalone SVG document, ``columns`` panels a row."""
    n = len(figure.panels)
    cols = max(1, min(columns, n))
    rows = max(1, math.ceil(n / cols))
    head = 30
    total_w, total_h = cols * width, head + rows * height
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cd" viewBox="0 0 {total_w} {total_h}" '
        f'width="{total_w}" height="{total_h}" role="img" aria-label="{esc(figure.source)}">',
        f"<title>curvedoc: {esc(figure.source)}</title>",
        f"<style>{STYLE}</style>",
        f'<rect class="bg" width="{total_w}" height="{total_h}"/>',
        f'<text class="title" x="8" y="20">{esc(short(figure.source, 120))}</text>',
    ]
    if not figure.panels:
        out.append('<text class="tick" x="8" y="44">no curves to draw</text>')
    for i, panel in enumerate(figure.panels):
        ox, oy = (i % cols) * width, head + (i // cols) * height
        out.append(panel_svg(panel, width=width, height=height, offset=(ox, oy), uid=f"p{i}"))
    out.append("</svg>")
    return "\n".join(out) + "\n"
