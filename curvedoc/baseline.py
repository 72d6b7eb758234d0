"""``--baseline OLD.json``: report (and fail on) only the findings that are new since a baseline.

A project adopting the gate on a log that already has findings records them once::

    curvedoc diagnose runs/ --format json --fail-on never > curvedoc-baseline.json

and from then on runs ``curvedoc diagnose runs/ --baseline curvedoc-baseline.json``: findings
already in the baseline are dropped from every output and from the exit code; new ones fail as
usual.

Matching is by (source, rule, subject curve) — the input path as given (normalised to a relative
POSIX path), the rule name and the curve the finding is about (the first it names) — never by the
message, whose numbers change from run to run. When one rule flags the same curve several times
(two plateaus), the baseline's count of them is known and only the extra ones, the latest along the
x axis, are new. The baseline file is any curvedoc JSON report: one object or an array of them;
it is read leniently (only ``source`` and each finding's ``rule`` and ``curves`` are used) so a
baseline written by an older or newer curvedoc still works.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curvedoc.advice import merge_advice
from curvedoc.errors import ConfigError
from curvedoc.formatters.common import plural, subject_curve
from curvedoc.formatters.locations import repo_path
from curvedoc.model import Finding, Report

Key = tuple[str, str, str]


def finding_key(source: str, rule: str, curves: Sequence[str]) -> Key:
    """The identity a baseline matches on: (normalised source, rule, subject curve)."""
    return repo_path(source), rule, subject_curve(curves)


def _entries(data: Any, where: str) -> list[dict[str, Any]]:
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(d, dict) for d in items):
        raise ConfigError("expected a curvedoc JSON report (an object or an array)", path=where)
    return items


def load_baseline(path: str | Path) -> Counter[Key]:
    """How many findings the baseline holds per (source, rule, curve); raises ConfigError."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("baseline file not found", path=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the baseline: {exc}", path=where) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc.msg}", path=where, line=exc.lineno) from None
    known: Counter[Key] = Counter()
    for i, entry in enumerate(_entries(data, where)):
        source, findings = entry.get("source"), entry.get("findings", [])
        if not isinstance(source, str) or not isinstance(findings, list):
            raise ConfigError(
                "not a curvedoc report (needs 'source' and 'findings')",
                path=where,
                field=f"[{i}]" if isinstance(data, list) else None,
            )
        for f in findings:
            if not isinstance(f, dict) or not isinstance(f.get("rule"), str):
                raise ConfigError("a finding without 'rule'", path=where, field="findings")
            curves = f.get("curves", [])
            names = [c for c in curves if isinstance(c, str)] if isinstance(curves, list) else []
            known[finding_key(source, f["rule"], names)] += 1
    return known


def split_new(report: Report, known: Counter[Key]) -> tuple[list[Finding], list[Finding]]:
    """(new, already known) findings of ``report``, each list in the report's order."""
    budget = Counter(known)
    old_ids: set[int] = set()
    for f in sorted(report.findings, key=lambda f: (f.span.start, f.span.end)):
        key = finding_key(report.source, f.rule, f.curves)
        if budget[key] > 0:
            budget[key] -= 1
            old_ids.add(id(f))
    new = [f for f in report.findings if id(f) not in old_ids]
    old = [f for f in report.findings if id(f) in old_ids]
    return new, old


def apply_baseline(reports: Sequence[Report], known: Counter[Key], label: str) -> list[Report]:
    """The reports without the findings the baseline already has, their advice re-merged from
    the findings that remain and a note saying what was left out."""
    out = []
    for report in reports:
        if report.error is not None:
            out.append(report)
            continue
        new, old = split_new(report, known)
        if not old:
            out.append(report)
            continue
        _, stale_notes = merge_advice(report.findings)
        advice, conflict_notes = merge_advice(new)
        listed = ", ".join(f"{f.rule} on {subject_curve(f.curves)}" for f in old)
        note = (
            f"{len(old)} {plural('finding', len(old))} already in the baseline {label} "
            f"not reported: {listed}"
        )
        notes = [n for n in report.notes if n not in stale_notes] + conflict_notes + [note]
        out.append(report.model_copy(update={"findings": new, "advice": advice, "notes": notes}))
    return out
