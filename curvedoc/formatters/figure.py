"""What to draw for one run, decided once for every drawing backend (SVG, and PNG via matplotlib).

A :class:`Figure` is a list of :class:`Panel` objects, one per *quantity*: the training and
validation curves of the same quantity share a panel (``loss`` with ``val_loss``,
``train/box_loss`` with ``val/box_loss``), the learning rate and the gradient norm get panels of
their own, and so does every other curve. A panel uses a log y axis when its values are positive
and span more than two decades (a divergence to 1e6 would otherwise flatten the whole run).

Each finding is drawn on the panel of the curve it is about: its span shaded (a line for a
point), and the positions its evidence names marked — the best checkpoint (``best_x``), spikes
(``*spike_x``), the onset of a divergence (``onset_x``), the last good checkpoint
(``checkpoint_x``), the projected asymptote of ``not-converged`` (``asymptote``, with
``asymptote_low``/``asymptote_high`` as a band). Evidence is read defensively: a key that is
missing, not a number or not finite is simply not drawn, so new rules never break a plot.

Long curves are downsampled to the min and max of each pixel column (:func:`downsample`): the
envelope, spikes included, looks the same as with every point, and a 10^6-point log becomes a few
thousand points. NaN/Inf break the line and are marked where they occur.

Without a :class:`~curvedoc.model.History` (a report read back from JSON), the curves' 48-bucket
sketches are drawn instead.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from curvedoc.formatters.common import fmt_num, fmt_span, fmt_x, subject_curve
from curvedoc.formatters.sparkline import bucket_positions
from curvedoc.model import SEVERITY_RANK, CurveSummary, FloatArray, History, Report

#: Values spanning more than this ratio (two decades) get a log axis.
LOG_RATIO = 100.0
#: Default number of pixel columns a panel's plot area is downsampled to.
COLUMNS = 1000

_SPLIT_WORDS = r"(?:train|training|tr|val|valid|validation|eval|evaluation|test|dev)"
#: ``val/``, ``eval_``, and numbered sets as XGBoost names them (``validation_0-logloss``).
_PREFIX = re.compile(rf"^{_SPLIT_WORDS}(?:_?\d+)?[_/.\-]", re.IGNORECASE)
_SUFFIX = re.compile(rf"[_/.\-]{_SPLIT_WORDS}$", re.IGNORECASE)
_GRANULARITY = re.compile(r"[_/.\-](?:epoch|step)$", re.IGNORECASE)
_ORDER = {"loss": 0, "metric": 1, "other": 2, "lr": 3, "grad_norm": 4}


@dataclass(frozen=True)
class Line:
    """One curve, as polylines (NaN/Inf split it) in data coordinates."""

    name: str
    role: str
    split: str
    segments: tuple[tuple[FloatArray, FloatArray], ...]
    bad_x: FloatArray  # x positions of non-finite values
    points: int  # how many points the log has (before downsampling)
    slot: int = 0  # colour slot within its panel

    @property
    def dashed(self) -> bool:
        return self.split in ("val", "test")


@dataclass(frozen=True)
class Band:
    """A finding's span: shaded from ``start`` to ``end`` (a line when they are equal)."""

    start: float
    end: float
    severity: str
    label: str


@dataclass(frozen=True)
class Mark:
    """A point a finding names: ``best``, ``checkpoint``, ``spike`` or ``onset`` (a vertical line
    when ``y`` is None)."""

    kind: str
    x: float
    y: float | None
    severity: str
    label: str


@dataclass(frozen=True)
class Level:
    """A horizontal reference, e.g. the projected asymptote, with an optional band around it."""

    y: float
    low: float | None
    high: float | None
    severity: str
    label: str


@dataclass(frozen=True)
class Panel:
    title: str
    kind: str  # loss | metric | other | lr | grad_norm
    x_unit: str
    lines: tuple[Line, ...]
    log_y: bool
    bands: tuple[Band, ...] = ()
    marks: tuple[Mark, ...] = ()
    levels: tuple[Level, ...] = ()

    def x_range(self) -> tuple[float, float]:
        xs = [a for line in self.lines for xs, _ in line.segments for a in (xs[0], xs[-1])]
        xs += [float(x) for line in self.lines for x in line.bad_x[:1]]
        xs += [float(x) for line in self.lines for x in line.bad_x[-1:]]
        if not xs:
            return 0.0, 1.0
        lo, hi = float(min(xs)), float(max(xs))
        return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)

    def y_range(self) -> tuple[float, float]:
        """The y extent of the lines and marks, padded; positive for a log axis.

        A reference level (an asymptote) widens the axis only when it lies near the data — by at
        most half the data's span, or one decade on a log axis. A projection far away (an
        asymptote of 1e-20 under a loss of 1e-3) would squash the curves into a line; it is
        labelled at the edge of the plot instead.
        """
        values = [v for line in self.lines for _, ys in line.segments for v in (ys.min(), ys.max())]
        values += [m.y for m in self.marks if m.y is not None]
        finite = [float(v) for v in values if self._drawable(v)]
        refs = [
            float(v)
            for lvl in self.levels
            for v in (lvl.y, lvl.low, lvl.high)
            if v is not None and self._drawable(v)
        ]
        if not finite:
            finite, refs = refs, []
        if not finite:
            return (1.0, 10.0) if self.log_y else (0.0, 1.0)
        lo, hi = min(finite), max(finite)
        scale = math.log10 if self.log_y else (lambda v: v)
        slo, shi = scale(lo), scale(hi)
        reach = 1.0 if self.log_y else 0.5 * (shi - slo)
        near = [v for v in refs if slo - reach <= scale(v) <= shi + reach]
        lo, hi = min([lo, *near]), max([hi, *near])
        if self.log_y:
            llo, lhi = math.log10(lo), math.log10(hi)
            pad = max(0.05 * (lhi - llo), 0.05)
            return 10 ** (llo - pad), 10 ** (lhi + pad)
        if hi == lo:
            pad = abs(hi) * 0.1 or 1.0
            return lo - pad, hi + pad
        pad = 0.05 * (hi - lo)
        return lo - pad, hi + pad

    def _drawable(self, v: float) -> bool:
        return math.isfinite(v) and (v > 0 or not self.log_y)


@dataclass(frozen=True)
class Figure:
    source: str
    panels: tuple[Panel, ...] = field(default_factory=tuple)


# --- downsampling ----------------------------------------------------------------------------


def downsample(
    x: FloatArray, y: FloatArray, columns: int = COLUMNS
) -> tuple[FloatArray, FloatArray]:
    """Keep, per pixel column, the points holding the minimum and the maximum (in x order).

    ``x`` must be sorted and ``y`` finite. At most ``2 * columns`` points remain, plus the first
    and last; the drawn envelope is that of the full series, so a one-step spike survives.
    """
    n = x.size
    if n <= 2 * columns or columns < 1:
        return x, y
    lo, hi = float(x[0]), float(x[-1])
    if hi <= lo:
        return x[[0, -1]], y[[0, -1]]
    with np.errstate(all="ignore"):
        pos = (x / 2 - lo / 2) / (hi / 2 - lo / 2)
    col = np.clip(np.nan_to_num(pos * columns), 0, columns - 1).astype(np.int64)
    order = np.lexsort((y, col))  # by column, then by value within a column
    sorted_cols = col[order]
    starts = np.flatnonzero(np.r_[True, sorted_cols[1:] != sorted_cols[:-1]])
    ends = np.r_[starts[1:], order.size] - 1
    keep = np.unique(np.concatenate((order[starts], order[ends], [0, n - 1])))
    return x[keep], y[keep]


def _segments(
    x: FloatArray, y: FloatArray, columns: int
) -> tuple[tuple[tuple[FloatArray, FloatArray], ...], FloatArray]:
    finite = np.isfinite(y) & np.isfinite(x)
    bad_x = x[~np.isfinite(y) & np.isfinite(x)]
    if not finite.any():
        return (), bad_x
    # Runs of consecutive finite points; a log with NaN every other point is drawn as dots
    # joined anyway (thousands of one-point segments would be unreadable and huge).
    edges = np.flatnonzero(np.diff(finite.astype(np.int8)))
    bounds = np.r_[0, edges + 1, finite.size]
    runs = [(a, b) for a, b in itertools.pairwise(bounds) if finite[a]]
    if len(runs) > columns // 4:
        return (downsample(x[finite], y[finite], columns),), bad_x
    out = []
    for a, b in runs:
        share = max(8, int(columns * (b - a) / max(1, finite.sum())))
        out.append(downsample(x[a:b], y[a:b], min(columns, share)))
    return tuple(out), bad_x


# --- grouping --------------------------------------------------------------------------------


def quantity(name: str) -> str:
    """The quantity a curve measures, without its split: ``val/box_loss`` → ``box_loss``."""
    key = _GRANULARITY.sub("", name.strip())
    stripped = _PREFIX.sub("", key)
    stripped = _SUFFIX.sub("", stripped)
    return stripped or key


def _kind(role: str) -> str:
    if role in ("train_loss", "val_loss"):
        return "loss"
    if role in ("train_metric", "val_metric"):
        return "metric"
    return role if role in ("lr", "grad_norm") else "other"


@dataclass(frozen=True)
class _Source:
    """A curve to draw: from the history (every point) or from the report (its sketch)."""

    name: str
    role: str
    split: str
    x_unit: str
    x: FloatArray
    y: FloatArray


def _from_history(history: History) -> list[_Source]:
    return [_Source(c.name, c.role, c.split, c.x_unit, c.x, c.y) for c in history.curves]


def _from_sketch(curves: Sequence[CurveSummary]) -> list[_Source]:
    out = []
    for c in curves:
        xs = np.asarray(bucket_positions(c), dtype=np.float64)
        ys = np.array([math.nan if v is None else v for v in c.sketch], dtype=np.float64)
        if xs.size == ys.size and xs.size:
            out.append(_Source(c.name, c.role, c.split, c.x_unit, xs, ys))
    return out


def _group(sources: Sequence[_Source]) -> list[tuple[str, str, str, list[_Source]]]:
    """Group curves into (title, kind, x_unit, curves), losses first, then metrics, others,
    the learning rate and the gradient norm."""
    kinds = [_kind(s.role) for s in sources]
    pairs: dict[str, str] = {}
    for kind in ("loss", "metric"):
        members = [s for s, k in zip(sources, kinds, strict=True) if k == kind]
        splits = [s.split for s in members]
        # One training and one validation curve of a kind always share a panel, whatever
        # their names (``loss`` and a ``my_objective`` mapped to val_loss with --column).
        if len(members) == 2 and sorted(splits) == ["train", "val"]:
            title = quantity(next(s.name for s in members if s.split == "train"))
            pairs.update({s.name: title for s in members})
    groups: dict[tuple[str, str, str], list[_Source]] = {}
    titles: dict[tuple[str, str, str], str] = {}
    for s, kind in zip(sources, kinds, strict=True):
        if kind in ("lr", "grad_norm"):
            title = "learning rate" if kind == "lr" else "gradient norm"
        else:
            title = pairs.get(s.name) or quantity(s.name)
        groups.setdefault((kind, title.lower(), s.x_unit), []).append(s)
        titles.setdefault((kind, title.lower(), s.x_unit), title)
    ordered = sorted(groups.items(), key=lambda item: _ORDER[item[0][0]])
    return [(titles[key], key[0], key[2], members) for key, members in ordered]


def _wants_log(ys: Sequence[FloatArray]) -> bool:
    finite = [y[np.isfinite(y)] for y in ys]
    values = np.concatenate(finite) if finite else np.empty(0)
    if values.size == 0 or values.min() <= 0:
        return False
    return bool(values.max() / values.min() > LOG_RATIO)


# --- findings --------------------------------------------------------------------------------


def _num(evidence: Mapping[str, object], key: str) -> float | None:
    value = evidence.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _value_at(line: Line | None, x: float) -> float | None:
    """The curve's drawn value nearest to ``x`` (None when it has no finite point there)."""
    if line is None:
        return None
    best: tuple[float, float] | None = None
    for xs, ys in line.segments:
        i = int(np.clip(np.searchsorted(xs, x), 0, xs.size - 1))
        for j in (i - 1, i):
            if 0 <= j < xs.size:
                d = abs(float(xs[j]) - x)
                if best is None or d < best[0]:
                    best = (d, float(ys[j]))
    return best[1] if best else None


def _finding_overlays(
    report: Report, panel_of: dict[str, int], lines_of: dict[str, Line], unit_of: dict[str, str]
) -> dict[int, tuple[list[Band], list[Mark], list[Level]]]:
    """Bands, marks and levels per panel index. A span or position in another x unit than the
    curve's (an epoch span over a per-step curve) would land in the wrong place: not drawn."""
    out: dict[int, tuple[list[Band], list[Mark], list[Level]]] = {}
    for f in sorted(report.findings, key=lambda f: SEVERITY_RANK[f.severity]):
        subject = subject_curve(f.curves)
        where = fmt_span(f.span.start, f.span.end, f.span.x_unit)
        label = f"{f.severity} {f.code} {f.rule} · {where}\n{f.message}"
        # The span is shaded on the panel of every curve the finding names (an overfitting
        # shows on the accuracy panel too); the marks go on the subject curve's panel only.
        if math.isfinite(f.span.start) and math.isfinite(f.span.end):
            start, end = sorted((f.span.start, f.span.end))
            same_unit = [c for c in f.curves if unit_of.get(c) == f.span.x_unit]
            for i in dict.fromkeys(panel_of[c] for c in same_unit if c in panel_of):
                out.setdefault(i, ([], [], []))[0].append(Band(start, end, f.severity, label))
        index = panel_of.get(subject)
        if index is None:
            continue
        _, marks, levels = out.setdefault(index, ([], [], []))
        if unit_of.get(subject) != f.span.x_unit:
            marks = []  # positions in another unit: keep only the levels (y values)
        line = lines_of.get(subject)
        ev = dict(f.evidence)
        unit = f.span.x_unit
        for key, kind, what in (
            ("best_x", "best", "best checkpoint"),
            ("checkpoint_x", "checkpoint", "last good checkpoint"),
            ("onset_x", "onset", "onset"),
        ):
            x = _num(ev, key)
            if x is None:
                continue
            y = _num(ev, "best_value") if kind == "best" else None
            if kind != "onset" and y is None:
                y = _value_at(line, x)
            where = f"{what} at {unit} {fmt_x(x)}" + (f" ({fmt_num(y)})" if y is not None else "")
            marks.append(Mark(kind, x, y, f.severity, f"{where} · {f.code} {f.rule}"))
        spikes = sorted(
            {x for k in ev if "spike" in k and k.endswith("_x") and (x := _num(ev, k)) is not None}
        )
        for x in spikes:
            y = _num(ev, "max_spike_value") if x == _num(ev, "max_spike_x") else None
            y = y if y is not None else _value_at(line, x)
            marks.append(Mark("spike", x, y, f.severity, f"spike at {unit} {fmt_x(x)} · {f.code}"))
        asymptote = _num(ev, "asymptote")
        if asymptote is not None:
            low, high = _num(ev, "asymptote_low"), _num(ev, "asymptote_high")
            text = f"projected asymptote {fmt_num(asymptote)}"
            if low is not None and high is not None:
                text += f" ({fmt_num(low)}–{fmt_num(high)})"
            levels.append(Level(asymptote, low, high, f.severity, f"{text} · {f.code} {f.rule}"))
    return out


# --- building --------------------------------------------------------------------------------


def build_figure(report: Report, history: History | None = None, columns: int = COLUMNS) -> Figure:
    """The panels of one run (see the module docstring); empty for an unreadable input."""
    if report.error is not None:
        return Figure(report.source)
    sources = _from_history(history) if history is not None else _from_sketch(report.curves)
    panels: list[Panel] = []
    panel_of: dict[str, int] = {}
    lines_of: dict[str, Line] = {}
    unit_of = {s.name: s.x_unit for s in sources}
    for title, kind, unit, members in _group(sources):
        lines = []
        for slot, s in enumerate(members):
            segments, bad_x = _segments(s.x, s.y, columns)
            line = Line(s.name, s.role, s.split, segments, bad_x, int(s.y.size), slot)
            lines.append(line)
            lines_of[s.name] = line
            panel_of[s.name] = len(panels)
        panels.append(Panel(title, kind, unit, tuple(lines), _wants_log([s.y for s in members])))
    for index, (bands, marks, levels) in _finding_overlays(
        report, panel_of, lines_of, unit_of
    ).items():
        p = panels[index]
        panels[index] = Panel(
            p.title, p.kind, p.x_unit, p.lines, p.log_y, tuple(bands), tuple(marks), tuple(levels)
        )
    return Figure(report.source, tuple(panels))
