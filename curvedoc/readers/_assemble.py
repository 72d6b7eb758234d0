"""The one place where raw columns become a :class:`~curvedoc.model.History`.

Every reader only finds ``(name, x, y, missing)`` series in its format; everything the detectors
rely on is enforced here, identically for all formats:

* user overrides (``columns``: role or ``ignore``; ``directions``: ``min``/``max``) win over names;
* bookkeeping columns (epoch, step, time, runtimes...) are dropped, since they are not curves;
* missing cells are dropped per curve, NaN/Inf values are kept (a detector reports them);
* ``x`` is sorted and made unique, the *last* write winning (a resumed run overwrites);
* a Lightning ``X_step``/``X_epoch`` pair keeps ``X_step`` as the curve and ``X_epoch`` as
  ``other``, so detectors see one training curve per quantity;
* every drop, merge and guess becomes a note that the report shows.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from curvedoc.errors import ConfigError, CurvedocError, InputError
from curvedoc.model import Curve, FloatArray, History, one_line
from curvedoc.readers import roles
from curvedoc.readers._numeric import BoolArray

IGNORE = "ignore"


def clean_error(err: CurvedocError) -> CurvedocError:
    """Make an error's message, path and field one line each (in place), and return it."""
    err.message = one_line(err.message)
    err.args = (err.message,)
    if err.path is not None:
        err.path = one_line(err.path)
    if err.field is not None:
        err.field = one_line(err.field)
    return err


_OVERRIDE_ROLES = (*roles.ROLE_NAMES, IGNORE)


@dataclass
class Series:
    """One column as a reader found it, before cleaning.

    ``role``/``split``/``direction`` are set only when the format knows better than the name
    (XGBoost's first data set is training data whatever it is called). ``classify_as`` names the
    column for classification when its display name would mislead.
    """

    name: str
    x: FloatArray
    y: FloatArray
    missing: BoolArray | None = None
    role: str | None = None
    split: str | None = None
    direction: str | None = None
    x_unit: str | None = None
    classify_as: str | None = None


@dataclass
class Overrides:
    """Validated user overrides."""

    columns: dict[str, str] = field(default_factory=dict)
    directions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(
        cls, columns: Mapping[str, str] | None, directions: Mapping[str, str] | None
    ) -> Overrides:
        cols = {str(k).strip(): str(v).strip() for k, v in (columns or {}).items()}
        dirs = {str(k).strip(): str(v).strip() for k, v in (directions or {}).items()}
        for name, role in cols.items():
            if role not in _OVERRIDE_ROLES:
                raise ConfigError(
                    f"unknown role {role!r} (expected one of {', '.join(_OVERRIDE_ROLES)})",
                    field=f"columns.{name}",
                )
        for name, direction in dirs.items():
            if direction not in ("min", "max"):
                raise ConfigError(
                    f"unknown direction {direction!r} (expected min or max)",
                    field=f"directions.{name}",
                )
        return cls(cols, dirs)


def _names(items: Iterable[str]) -> str:
    return ", ".join(items)


def _grouped(counts: Mapping[str, int], what: str) -> list[str]:
    """Notes like ``"loss, val_loss: 3 duplicate epochs merged (last value kept)"``.

    ``what`` has an ``{s}`` placeholder for the plural. Many different counts (a sparse Lightning
    file) collapse into one note rather than one per column.
    """
    by_count: dict[int, list[str]] = defaultdict(list)
    for name, k in counts.items():
        by_count[k].append(name)
    if len(by_count) <= 2:
        return [
            f"{_names(names)}: {k} {what.format(s='' if k == 1 else 's')}"
            for k, names in sorted(by_count.items())
        ]
    detail = ", ".join(f"{name} {k}" for name, k in counts.items())
    return [f"{what.format(s='s')}: {detail}"]


#: How a curve's y is cut down to its x: unchanged, a boolean mask, or an index array.
Selector = npt.NDArray[np.bool_] | npt.NDArray[np.intp] | None


@dataclass(frozen=True)
class _CleanX:
    """A cleaned x axis and how to select the matching y values."""

    keep: npt.NDArray[np.bool_] | None  # the rows this was made for (None: every row)
    x: FloatArray
    select: Selector
    dups: int


def _clean_x(x: FloatArray, keep: npt.NDArray[np.bool_] | None) -> _CleanX:
    """Drop the rows not in ``keep``, sort by x and keep the last-written value of each x (a
    stable sort keeps file order)."""
    xk = np.asarray(x if keep is None else x[keep], dtype=np.float64)
    if xk.shape[0] <= 1 or bool(np.all(xk[1:] > xk[:-1])):
        return _CleanX(keep, xk, keep, 0)
    if bool(np.all(xk[1:] >= xk[:-1])):
        # Sorted with repeats (Lightning logs a validation row at the last training step):
        # drop all but the last of each, without a sort or an index per row.
        repeat = np.flatnonzero(xk[1:] == xk[:-1])
        rows = np.ones(x.shape[0], dtype=np.bool_) if keep is None else keep.copy()
        rows[repeat if keep is None else np.flatnonzero(keep)[repeat]] = False
        return _CleanX(keep, np.delete(xk, repeat), rows, int(repeat.shape[0]))
    order = np.argsort(xk, kind="stable")
    xs = xk[order]
    last = np.ones(xs.shape[0], dtype=np.bool_)
    last[:-1] = xs[1:] != xs[:-1]
    rows = order[last] if keep is None else np.flatnonzero(keep)[order[last]]
    return _CleanX(keep, np.ascontiguousarray(xs[last]), rows, int(xs.shape[0] - last.sum()))


class _XCache:
    """Cleaned x axes, shared by the columns of one table that are blank in the same rows.

    The columns of a table share one x array; a million-row Lightning log's training columns
    are all blank in its validation rows. Cleaning that x once per distinct blank pattern keeps
    one copy instead of one per column.
    """

    def __init__(self) -> None:
        self._seen: dict[int, list[_CleanX]] = {}

    def get(self, x: FloatArray, keep: npt.NDArray[np.bool_] | None) -> _CleanX:
        same_x = self._seen.setdefault(id(x), [])
        for c in same_x:
            if (c.keep is None and keep is None) or (
                c.keep is not None and keep is not None and np.array_equal(c.keep, keep)
            ):
                return c
        clean = _clean_x(x, keep)
        same_x.append(clean)
        return clean


def _forked_epoch_names(names: Iterable[str]) -> set[str]:
    """``X_epoch`` names that have an ``X_step`` sibling (Lightning's forked logging)."""
    present = set(names)
    return {n for n in present if n.endswith("_epoch") and n[: -len("_epoch")] + "_step" in present}


def _unique_names(series: list[Series], notes: list[str]) -> None:
    seen: dict[str, int] = {}
    for s in series:
        if s.name in seen:
            seen[s.name] += 1
            new = f"{s.name} ({seen[s.name]})"
            notes.append(f"{s.name}: the name occurs more than once; renamed to {new!r}")
            s.name = new
        else:
            seen[s.name] = 1


def assemble(
    *,
    source: str,
    fmt: str,
    series: list[Series],
    x_unit: str,
    notes: Iterable[str] = (),
    meta: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """Clean, classify and validate ``series`` into a History (see the module docstring)."""
    over = Overrides.parse(columns, directions)
    out_notes = list(notes)
    _unique_names(series, out_notes)
    names = [s.name for s in series]
    unknown = [n for n in (*over.columns, *over.directions) if n not in names]
    if unknown:
        out_notes.append(
            f"overrides name columns not in this log: {_names(dict.fromkeys(unknown))}"
        )

    bookkeeping: list[str] = []
    ignored: list[str] = []
    forked = _forked_epoch_names(names)
    missing_counts: dict[str, int] = {}
    dup_counts: dict[str, int] = {}
    dup_unit = x_unit
    empty: list[str] = []
    guessed: list[str] = []
    curves: list[Curve] = []
    x_cache = _XCache()
    for s in series:
        role_override = over.columns.get(s.name)
        if role_override == IGNORE:
            ignored.append(s.name)
            continue
        bookkeeping_name = roles.is_bookkeeping(s.classify_as or s.name)
        if role_override is None and bookkeeping_name and s.role is None:
            bookkeeping.append(s.name)
            continue
        keep = np.isfinite(s.x)
        if s.missing is not None:
            keep &= ~s.missing
        n_missing = int(s.y.shape[0] - keep.sum())
        if n_missing:
            missing_counts[s.name] = n_missing
        # nothing to drop: no copy (columns of one table share their x array)
        clean = x_cache.get(s.x, keep if n_missing or not bool(keep.all()) else None)
        if clean.x.shape[0] == 0:
            empty.append(s.name)
            continue
        x, dups = clean.x, clean.dups
        y = np.asarray(s.y if clean.select is None else s.y[clean.select], dtype=np.float64)
        unit = s.x_unit or x_unit
        if dups:
            dup_counts[s.name] = dups
            dup_unit = unit
        role, split, direction = roles.classify(s.classify_as or s.name)
        if s.role is not None:
            role = s.role
        if s.split is not None:
            split = s.split
        if s.direction is not None:
            direction = s.direction
        if role_override is not None:
            split = roles.split_for_role(role_override, split)
            role = role_override
        elif s.name in forked and s.role is None:
            role = "other"
            out_notes.append(
                f"{s.name}: epoch aggregate of {s.name[: -len('_epoch')]}_step; "
                "kept as 'other' so the step curve is the training curve"
            )
        direction = over.directions.get(s.name, direction)
        # a loss, a rate or a norm has its direction by role; a metric, only if its name says
        # (classify() falls back to "min") or the reader or the user does
        known = (
            role not in ("val_metric", "train_metric")
            or s.direction is not None
            or s.name in over.directions
            or roles.direction_of(s.classify_as or s.name) is not None
        )
        if not known:
            guessed.append(s.name)
        # Names reach terminals, CI logs and workflow commands: control characters (ESC, CR,
        # LF) are written escaped, so no log can inject colours, lines or commands.
        curves.append(Curve(one_line(s.name), role, split, x, y, unit, direction, known))

    if bookkeeping:
        out_notes.append(f"not curves (bookkeeping columns): {_names(bookkeeping)}")
    if ignored:
        out_notes.append(f"ignored as asked: {_names(ignored)}")
    out_notes.extend(_grouped(missing_counts, "missing value{s} dropped"))
    out_notes.extend(_grouped(dup_counts, f"duplicate {dup_unit}{{s}} merged (last value kept)"))
    if empty:
        out_notes.append(f"no values at all, dropped: {_names(empty)}")
    if guessed:
        out_notes.append(
            f"which way is better is not in the name, lower assumed: {_names(guessed)} "
            "(--direction NAME=max says otherwise; no rule relies on the guess)"
        )

    if not any(len(c) >= 2 for c in curves):
        why = [n for n in out_notes if n.startswith(("not numeric", "no values at all"))]
        if curves:
            why.insert(0, f"{len(curves)} curve(s) of a single point")
        detail = f" ({'; '.join(why)})" if why else ""
        raise InputError(f"no numeric curve with at least 2 points{detail}", path=source)

    out_meta: dict[str, Any] = dict(meta or {})
    if "learning_rate" not in out_meta:
        # The configured learning rate is the schedule's peak: the first logged value of a
        # warmup (3e-5 ramping to 3e-4) would understate it in every piece of advice.
        for c in curves:
            if c.role == "lr":
                finite = np.isfinite(c.y)
                if finite.any():
                    out_meta["learning_rate"] = float(np.max(c.y, where=finite, initial=-math.inf))
                break
    return History(
        source=source,
        format=fmt,
        curves=tuple(curves),
        meta={k: v for k, v in out_meta.items() if _plain(v)},
        notes=tuple(one_line(n) for n in out_notes),
    )


def _plain(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int | bool)


def with_notes(history: History, notes: Iterable[str], *, first: bool = False) -> History:
    """``history`` with ``notes`` added (after its own, or before them with ``first``)."""
    extra = tuple(one_line(n) for n in notes)
    if not extra:
        return history
    return History(
        source=history.source,
        format=history.format,
        curves=history.curves,
        meta=history.meta,
        notes=(*extra, *history.notes) if first else (*history.notes, *extra),
    )


@dataclass(frozen=True)
class RunSpan:
    """One run of a file that holds several: the lines (1-based) it spans, and why it starts
    there ("" for the first)."""

    first_line: int
    last_line: int
    why: str = ""


def read_each_run(
    spans: Sequence[RunSpan], source: str, read: Callable[[int, str, list[str]], History]
) -> list[History]:
    """The runs of a file that holds several (an appended CSV log, a console log of several
    fits): ``read(k, source_k, notes)`` reads run ``k`` (from 0) as ``<file>#run<k+1>``, with a
    note that says where it is. A run that cannot be read is skipped and said in the others'
    notes; the file is an error only when none can be read (or its only run cannot)."""
    name = os.path.basename(source)
    runs: list[History] = []
    failed: list[str] = []
    for k, span in enumerate(spans):
        where = f"run {k + 1} of {len(spans)} in {name} (lines {span.first_line}-{span.last_line}"
        where += f": {span.why})" if span.why else ")"
        try:
            runs.append(read(k, f"{source}#run{k + 1}", [where]))
        except InputError as exc:
            if not runs and k == len(spans) - 1:
                raise
            failed.append(f"run {k + 1} (line {span.first_line}): {exc.message}")
    if not runs:
        raise InputError(f"none of the {len(spans)} runs in the file is readable", path=source)
    if failed:
        runs = [with_notes(h, [f"skipped: {f}" for f in failed]) for h in runs]
    return runs


def with_source(history: History, source: str) -> History:
    return History(
        source=source,
        format=history.format,
        curves=history.curves,
        meta=history.meta,
        notes=history.notes,
    )
