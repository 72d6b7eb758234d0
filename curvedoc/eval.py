"""Measure how right the diagnoses are on a labelled corpus, next to a peer tool.

    python -m curvedoc.eval fixtures/              # the project's labelled real training runs
    python -m curvedoc.eval fixtures/ --markdown   # the table for the README
    python -m curvedoc.eval fixtures/ --no-peer    # without the sk-autod comparison

The corpus is a folder with a ``cases.toml`` whose ``[[case]]`` entries name a ``path`` (relative
to the folder), the ``scenario`` (``healthy`` runs must come back with no finding at all), the
rules that ``must_fire``, those that ``must_not_fire`` and optionally the grey zone ``may_fire``.
For every rule it prints recall (labelled cases where it fired), precision (of its firings on
labelled cases, how many were expected) and false alarms (firings where a label forbids it), and
the share of healthy runs that come back clean.

The peer is ``sk-autod`` (``pip install sk-autod``; not a dependency of curvedoc): it takes equal-
length lists of training and validation losses with no NaN, so each run is given to it as the
validation evaluations with the training loss read at the same x; runs it cannot take (no
validation curve, NaN, fewer than 5 points) count as "no finding" for it, as a user would
experience. Its detector names are mapped onto curvedoc's rules by :data:`PEER_RULES`.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curvedoc.detectors import DETECTORS
from curvedoc.errors import CurvedocError
from curvedoc.model import History

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: sk-autod detector name → the curvedoc rule it claims to diagnose.
PEER_RULES: dict[str, str] = {
    "Classic overfitting": "overfitting",
    "Missed early stopping": "overfitting",
    "Exploding gradient": "gradient-explosion",
    "LR too high": "divergence",
    "LR too low": "slow-convergence",
    "Underfitting": "underfitting",
    "Data leakage": "val-better-than-train",
}


@dataclass(frozen=True)
class Case:
    path: str
    scenario: str
    must_fire: frozenset[str]
    must_not_fire: frozenset[str]
    may_fire: frozenset[str] = frozenset()


@dataclass
class Tally:
    positives: int = 0
    hits: int = 0
    fired_labelled: int = 0
    expected_fired: int = 0
    false_alarms: int = 0
    false_alarm_cases: list[str] = field(default_factory=list)
    missed_cases: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.hits / self.positives if self.positives else math.nan

    @property
    def precision(self) -> float:
        return self.expected_fired / self.fired_labelled if self.fired_labelled else math.nan


def load_cases(folder: Path) -> list[Case]:
    table = folder / "cases.toml"
    try:
        data = tomllib.loads(table.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CurvedocError(f"cannot read the case table: {exc}", path=str(table)) from None
    known = {d.name for d in DETECTORS}
    cases = []
    for i, raw in enumerate(data.get("case", [])):
        sets = {}
        for key in ("must_fire", "must_not_fire", "may_fire"):
            names = frozenset(raw.get(key, []))
            unknown = names - known
            if unknown:
                raise CurvedocError(
                    f"unknown rule {sorted(unknown)[0]!r}",
                    path=str(table),
                    field=f"case[{i}].{key}",
                )
            sets[key] = names
        cases.append(
            Case(
                path=str(raw["path"]),
                scenario=str(raw.get("scenario", "")),
                must_fire=sets["must_fire"],
                must_not_fire=sets["must_not_fire"],
                may_fire=sets["may_fire"],
            )
        )
    return cases


def score(
    cases: Sequence[Case], fired: Sequence[set[str]], rules: Sequence[str]
) -> dict[str, Tally]:
    """Per-rule tallies of what fired against what the labels say."""
    tallies = {r: Tally() for r in rules}
    for case, got in zip(cases, fired, strict=True):
        for r in rules:
            t = tallies[r]
            if r in case.must_fire:
                t.positives += 1
                if r in got:
                    t.hits += 1
                else:
                    t.missed_cases.append(case.path)
            if r in got and (r in case.must_fire or r in case.must_not_fire):
                t.fired_labelled += 1
                if r in case.must_fire:
                    t.expected_fired += 1
                else:
                    t.false_alarms += 1
                    t.false_alarm_cases.append(case.path)
    return tallies


def peer_input(history: History) -> tuple[list[float], list[float]] | None:
    """The equal-length (train, val) loss lists sk-autod takes, or None when it cannot."""
    trains = [c for c in history.curves if c.role == "train_loss"]
    vals = [c for c in history.curves if c.role == "val_loss"]
    if not trains or not vals:
        return None
    t, v = trains[0], vals[0]
    if not (np.all(np.isfinite(t.y)) and np.all(np.isfinite(v.y))) or len(v) < 5 or len(t) < 2:
        return None
    train_at_val = np.interp(v.x, t.x, t.y)
    return [float(a) for a in train_at_val], [float(b) for b in v.y]


def run_peer(history: History) -> set[str] | None:
    """Rules the peer reports for this history (None when sk-autod is not installed)."""
    try:
        from sk_autod import diagnose as peer_diagnose
    except ImportError:
        return None
    pair = peer_input(history)
    if pair is None:
        return set()
    try:
        report: Any = peer_diagnose(*pair)
    except (ValueError, ZeroDivisionError, OverflowError):
        return set()
    return {PEER_RULES[f.detector_name] for f in report.findings if f.detector_name in PEER_RULES}


def evaluate(folder: Path, *, peer: bool = True) -> dict[str, Any]:
    """Diagnose every case; return per-rule tallies for curvedoc (and the peer) and the healthy
    share."""
    from curvedoc.api import diagnose, load

    cases = load_cases(folder)
    ours: list[set[str]] = []
    theirs: list[set[str]] = []
    peer_available = peer
    for case in cases:
        path = folder / case.path
        report = diagnose(path)
        ours.append({f.rule for f in report.findings})
        if peer_available:
            got = run_peer(load(path))
            if got is None:
                peer_available = False
            else:
                theirs.append(got)
    rules = [d.name for d in DETECTORS]
    healthy = [i for i, c in enumerate(cases) if c.scenario == "healthy"]
    result: dict[str, Any] = {
        "cases": len(cases),
        "ours": score(cases, ours, rules),
        "healthy": len(healthy),
        "healthy_clean": sum(1 for i in healthy if not ours[i]),
        "peer": None,
    }
    if peer_available:
        result["peer"] = score(cases, theirs, rules)
        result["peer_healthy_clean"] = sum(1 for i in healthy if not theirs[i])
    return result


def _fmt(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.2f}"


def render(result: dict[str, Any], *, markdown: bool = False) -> str:
    ours: dict[str, Tally] = result["ours"]
    peer: dict[str, Tally] | None = result["peer"]
    covered = set(PEER_RULES.values())
    header = ["rule", "cases", "recall", "precision", "false alarms"]
    if peer is not None:
        header += ["sk-autod recall", "sk-autod precision", "sk-autod false alarms"]
    rows = []
    for rule, t in ours.items():
        if t.positives == 0 and t.fired_labelled == 0:
            continue
        row = [rule, str(t.positives), _fmt(t.recall), _fmt(t.precision), str(t.false_alarms)]
        if peer is not None:
            p = peer[rule]
            row += (
                [_fmt(p.recall), _fmt(p.precision), str(p.false_alarms)]
                if rule in covered
                else ["(not covered)", "", ""]
            )
        rows.append(row)
    lines = []
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    clean = f"healthy runs with no finding: {result['healthy_clean']} of {result['healthy']}"
    if peer is not None:
        clean += f" (sk-autod: {result['peer_healthy_clean']} of {result['healthy']})"
    lines += ["", f"{result['cases']} labelled runs; {clean}"]
    if not markdown:
        for rule, t in ours.items():
            for path in t.missed_cases:
                lines.append(f"missed       {rule}: {path}")
            for path in t.false_alarm_cases:
                lines.append(f"false alarm  {rule}: {path}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m curvedoc.eval", description="Measure curvedoc on a labelled corpus."
    )
    parser.add_argument("folder", type=Path, help="a corpus folder with cases.toml")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--no-peer", action="store_true", help="skip the sk-autod comparison")
    args = parser.parse_args(argv)
    try:
        result = evaluate(args.folder, peer=not args.no_peer)
    except CurvedocError as exc:
        print(f"curvedoc.eval: error: {exc}", file=sys.stderr)
        return 2
    print(render(result, markdown=args.markdown))
    if result["peer"] is None and not args.no_peer:
        print("\n(sk-autod is not installed: pip install sk-autod to compare)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
