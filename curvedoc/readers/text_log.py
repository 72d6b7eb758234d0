"""Plain-text console logs, read with a regular expression (``--pattern``).

Where no structured log exists, the console output often is one: nanoGPT prints
``iter 100: loss 3.4563, time 12.34ms, mfu 5.00%``, Keras prints ``Epoch 3/10`` and then
``... - loss: 0.31 - accuracy: 0.90 - val_loss: 0.35``, XGBoost ``[0]\teval-logloss:0.48``.

A *user pattern* is a regex with named groups, searched in every line: a group named ``step``,
``iter``, ``iteration``, ``epoch`` or ``round`` is the x value; every other named group is a
curve of that name (``(?P<val_loss>...)``). Lines that do not match are ignored; a group that
did not take part in a match leaves that curve without a point. Without an x group, x counts the
matching lines from 1.

*Shipped patterns* (:data:`PATTERNS`, by name) cover the common consoles; each is a few line
rules: a rule may set x for the lines after it (Keras' ``Epoch 3/10`` line), and may read
``key: value`` pairs from the rest of the line (Keras, XGBoost, LightGBM), since those consoles
print whatever metrics were configured. XGBoost and LightGBM curves are named
``<data set>-<metric>`` and classified as the ``evals_result`` reader does (the first data set
is the training data; see :mod:`.boosting`).

Lines are split at ``\\n`` and ``\\r`` (progress bars redraw with ``\\r``); a repeated x keeps the
last value written (a Keras progress bar's final update is the epoch's value). A file of several
runs (fits printed one after another, a search restarting its boosting rounds) is read as
several, ``<file>#run1``, ``#run2``...: a run ends where a curve's x goes back to where it began.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from curvedoc.errors import ConfigError, InputError
from curvedoc.model import History
from curvedoc.readers._assemble import RunSpan, Series, assemble, read_each_run
from curvedoc.readers.boosting import dataset_splits, metric_role

NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|NaN|inf|-inf|Inf)"
_X_GROUPS = ("step", "iter", "iteration", "epoch", "round")


@dataclass(frozen=True)
class LineRule:
    """One kind of line: ``line`` is searched; ``pairs`` (groups ``key``, ``value``) is applied
    to the rest of the line; ``sets_x`` rules only set x for the following lines."""

    line: re.Pattern[str]
    pairs: re.Pattern[str] | None = None
    sets_x: bool = False


@dataclass(frozen=True)
class Pattern:
    name: str
    description: str
    rules: tuple[LineRule, ...]
    x_unit: str = "step"
    boosting: bool = False
    x_offset: float = 0.0  # added to x when the first x is 0 (Python's XGBoost; R's starts at 1)


def _rule(line: str, pairs: str | None = None, *, sets_x: bool = False) -> LineRule:
    return LineRule(re.compile(line), re.compile(pairs) if pairs else None, sets_x)


# (a value ends where the number does, and Keras' "ETA: 5s" or "ETA: 1:23" is a time, not a curve)
_PAIR = rf"(?<![\w/.@-])(?P<key>(?!ETA:)[A-Za-z_][\w/.@-]*): (?P<value>{NUMBER})(?![\w.])"

#: The shipped patterns, by name (``--pattern nanogpt``).
PATTERNS: dict[str, Pattern] = {
    p.name: p
    for p in (
        Pattern(
            "nanogpt",
            "nanoGPT: 'iter 100: loss 3.4563, time ...', 'step 500: train loss 2.1, val loss 2.3'",
            (
                _rule(rf"\biter (?P<iter>\d+): loss (?P<loss>{NUMBER})"),
                _rule(
                    rf"\bstep (?P<step>\d+): train loss (?P<train_loss>{NUMBER})(?: [A-Za-z]+)?,? "
                    rf"val loss (?P<val_loss>{NUMBER})"
                ),
            ),
        ),
        Pattern(
            "keras",
            "Keras progress: 'Epoch 3/10' then '... - loss: 0.31 - accuracy: 0.9 - val_loss: ...'",
            (
                _rule(r"^\s*Epoch (?P<epoch>\d+)/\d+\s*$", sets_x=True),
                _rule(r"\d+/\d+ .*? - (?=[A-Za-z_][\w/.]*: )", _PAIR),
            ),
            x_unit="epoch",
        ),
        Pattern(
            "xgboost",
            "XGBoost console: '[0]\\teval-logloss:0.48039\\ttrain-logloss:...' (rounds from 0)",
            (_rule(r"^\[(?P<round>\d+)\]\t", rf"(?P<key>[^\s:]+-[^\s:]+):(?P<value>{NUMBER})"),),
            boosting=True,
            x_offset=1.0,
        ),
        Pattern(
            "lightgbm",
            'LightGBM console: "[10]\\tvalid_0\'s l2: 0.23" (rounds from 1)',
            (_rule(r"^\[(?P<round>\d+)\]\t", rf"(?P<key>[^\t']+'s [^\t:]+): (?P<value>{NUMBER})"),),
            boosting=True,
        ),
    )
}


def user_pattern(regex: str) -> Pattern:
    """A :class:`Pattern` from a user regex (see the module docstring); ConfigError if bad."""
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise ConfigError(f"invalid regular expression: {exc}", field="pattern") from None
    names = list(compiled.groupindex)
    if not [n for n in names if n.lower() not in _X_GROUPS]:
        raise ConfigError(
            "the pattern needs a named group per curve, e.g. 'loss (?P<loss>[0-9.]+)'",
            field="pattern",
        )
    x_groups = [n for n in names if n.lower() in _X_GROUPS]
    unit = "epoch" if x_groups and x_groups[0].lower() == "epoch" else "step"
    return Pattern("user", regex, (LineRule(compiled),), x_unit=unit)


def resolve(pattern: str | Pattern) -> Pattern:
    """A shipped pattern by name, or a user regex."""
    if isinstance(pattern, Pattern):
        return pattern
    return PATTERNS.get(pattern) or user_pattern(pattern)


@dataclass
class _Points:
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)


def _x_of(m: re.Match[str]) -> float | None:
    for name, value in m.groupdict().items():
        if name.lower() in _X_GROUPS and value is not None:
            return float(value)
    return None


@dataclass
class _Run:
    """The points of one run of a console log, and the lines (1-based) it spans."""

    curves: dict[str, _Points] = field(default_factory=dict)
    count: int = 0
    first_line: int = 0
    last_line: int = 0
    why: str = ""


def scan_runs(text: str, pattern: Pattern) -> list[_Run]:
    """The runs found in ``text``: usually one; a new one starts where a curve's x goes back to
    (or below) where its run began after moving on (a second ``fit()`` printing ``Epoch 1/50``
    again, a hyperparameter search restarting its boosting rounds). An x going back to a later
    point is a resume: the same run, whose repeated x keep the last value (as in CSV logs)."""
    runs = [_Run()]
    state_x: float | None = None
    offset: float | None = None
    for lineno, physical in enumerate(text.split("\n"), start=1):
        for line in re.split(r"\r", physical):
            for rule in pattern.rules:
                m = rule.line.search(line)
                if m is None:
                    continue
                x = _x_of(m)
                if rule.sets_x:
                    state_x = x
                    break
                run = runs[-1]
                if x is None:
                    x = state_x if state_x is not None else float(run.count + 1)
                if offset is None:  # Python's XGBoost prints round 0 first, R's round 1
                    offset = pattern.x_offset if x == 0 else 0.0
                x += offset
                found: list[tuple[str, str]] = [
                    (k, v)
                    for k, v in m.groupdict().items()
                    if k.lower() not in _X_GROUPS and v is not None
                ]
                if rule.pairs is not None:
                    found += [(p["key"], p["value"]) for p in rule.pairs.finditer(line, m.end())]
                restart = next((k for k, _ in found if _went_back(run.curves.get(k), x)), None)
                if restart is not None:
                    run = _Run(why=f"{restart} went back to {x:g}")
                    runs.append(run)
                run.count += 1
                run.first_line = run.first_line or lineno
                run.last_line = lineno
                for key, value in found:
                    pts = run.curves.get(key)
                    if pts is None:
                        pts = run.curves[key] = _Points()
                    pts.x.append(x)
                    pts.y.append(float(value))
                break
    return [r for r in runs if r.curves]


def _went_back(points: _Points | None, x: float) -> bool:
    """A curve that had moved on from its first x is back at (or below) it."""
    return points is not None and points.x[-1] > points.x[0] and x <= points.x[0]


def _boosting_name(key: str) -> tuple[str, str]:
    """(data set, metric) of ``eval-logloss`` or ``valid_0's l2``."""
    if "'s " in key:
        ds, metric = key.split("'s ", 1)
    else:
        ds, metric = key.split("-", 1)
    return ds.strip(), metric.strip()


def read_with_pattern(
    text: str,
    pattern: str | Pattern,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> list[History]:
    """Every run of a console log (see :func:`scan_runs`); several are named ``<file>#run<k>``."""
    pat = resolve(pattern)
    runs = scan_runs(text, pat)
    if not runs:
        shown = pat.name if pat.name != "user" else repr(pat.description)
        raise InputError(f"no line matches the pattern {shown}", path=source)
    count = sum(r.count for r in runs)
    read = f"console log read with the {pat.name!r} pattern: {count} matching line(s)"
    if len(runs) == 1:
        return [_history(runs[0].curves, pat, [read], source, columns, directions)]
    spans = [RunSpan(r.first_line, r.last_line, r.why) for r in runs]
    return read_each_run(
        spans,
        source,
        lambda k, run_source, notes: _history(
            runs[k].curves, pat, [*notes, read], run_source, columns, directions
        ),
    )


def _history(
    curves: dict[str, _Points],
    pat: Pattern,
    notes: list[str],
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> History:
    series: list[Series] = []
    notes = list(notes)
    splits: dict[str, str] = {}
    if pat.boosting:
        sets = list(dict.fromkeys(_boosting_name(k)[0] for k in curves))
        splits = dataset_splits(sets)
        train = next((d for d, sp in splits.items() if sp == "train"), None)
        if train is not None:
            notes.append(f"{train!r} is taken as the training data")
        notes.append("x is the boosting round, from 1")
    seen: set[str] = set()
    for key, pts in curves.items():
        x = np.asarray(pts.x, dtype=np.float64)
        y = np.asarray(pts.y, dtype=np.float64)
        if pat.boosting:
            ds, metric = _boosting_name(key)
            split = splits[ds]
            role, direction = metric_role(metric, split, first=ds not in seen)
            seen.add(ds)
            series.append(
                Series(f"{ds}-{metric}", x, y, role=role, split=split, direction=direction)
            )
        else:
            series.append(Series(key, x, y))
    return assemble(
        source=source,
        fmt="text-log",
        series=series,
        x_unit=pat.x_unit,
        notes=notes,
        columns=columns,
        directions=directions,
    )


def sniff_pattern(text: str) -> Pattern | None:
    """The shipped pattern that matches most lines of ``text`` (at least 2), if any."""
    head = text[:200_000]
    best: tuple[int, Pattern] | None = None
    for pat in PATTERNS.values():
        count = sum(r.count for r in scan_runs(head, pat))
        if count >= 2 and (best is None or count > best[0]):
            best = (count, pat)
    return None if best is None else best[1]
