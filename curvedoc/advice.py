"""Turn a rule's advice templates into concrete advice, then merge and rank it across findings.

Templates are filled from the finding's evidence, the run's hyperparameters (``History.meta``)
and a few context fields. A template whose placeholder the log cannot fill uses its ``fallback``
text (pack validation guarantees one exists). Merging keeps one piece of advice per
(param, action); when two findings pull the same knob in opposite directions, the more severe
finding wins and the report notes the conflict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

from curvedoc.model import CONFIDENCE_RANK, SEVERITY_RANK, Action, Advice, Finding, Severity
from curvedoc.packs import AdviceTemplate

OPPOSITE = {
    "increase": "decrease",
    "decrease": "increase",
    "enable": "disable",
    "disable": "enable",
}


class _Strict(dict[str, Any]):
    def __missing__(self, key: str) -> Any:
        raise KeyError(key)


def _fill(template: str, values: Mapping[str, Any]) -> str | None:
    try:
        return template.format_map(_Strict(values))
    except (KeyError, ValueError, TypeError, IndexError, AttributeError):
        return None


def _number(ref: float | str | None, values: Mapping[str, Any]) -> float | None:
    if ref is None:
        return None
    v = values.get(ref) if isinstance(ref, str) else ref
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def render_advice(
    templates: Sequence[AdviceTemplate],
    *,
    rule: str,
    severity: str,
    evidence: Mapping[str, Any],
    meta: Mapping[str, Any],
    context: Mapping[str, Any],
) -> list[Advice]:
    """Fill each template; skip one only when neither its text nor its fallback can be filled."""
    values = {**{k: v for k, v in meta.items() if v is not None}, **context}
    values.update({k: v for k, v in evidence.items() if v is not None})
    out: list[Advice] = []
    for t in templates:
        if t.when is not None and values.get(t.when) is None:
            continue
        if t.unless is not None and values.get(t.unless) is not None:
            continue
        # {suggested}: the logged value of the knob times the advice's factor, when both exist
        # (weight_decay 1e-4 and factor 3 → 3e-4).
        current, factor_now = values.get(t.param), _number(t.factor, values)
        values.pop("suggested", None)
        if (
            factor_now is not None
            and isinstance(current, (int, float))
            and not isinstance(current, bool)
        ):
            values["suggested"] = float(f"{current * factor_now:.3g}")
        text = _fill(t.text, values)
        used_fallback = False
        if text is None and t.fallback is not None:
            text = _fill(t.fallback, values)
            used_fallback = True
        if text is None:
            continue
        value = _number(t.value, values)
        factor = _number(t.factor, values)
        if used_fallback and isinstance(t.value, str) and t.value not in evidence:
            value = None
        out.append(
            Advice(
                text=text,
                param=t.param,
                action=cast(Action, t.action),  # both checked when the pack was loaded
                factor=factor,
                value=value,
                rule=rule,
                severity=cast(Severity, severity),
            )
        )
    return out


def merge_advice(findings: Sequence[Finding]) -> tuple[list[Advice], list[str]]:
    """One piece of advice per (param, action), most severe source first; opposite pulls on the
    same knob are settled by severity (then confidence). Returns the advice and notes on any
    conflict that was settled."""
    ranked: list[tuple[int, int, int, Advice]] = []
    for order, f in enumerate(findings):
        for a in f.advice:
            ranked.append((SEVERITY_RANK[f.severity], CONFIDENCE_RANK[f.confidence], -order, a))
    ranked.sort(key=lambda r: (r[0], r[1], r[2]), reverse=True)
    chosen: dict[tuple[str, str], Advice] = {}
    notes: list[str] = []
    for _, _, _, a in ranked:
        key = (a.param, a.action)
        if key in chosen:
            continue
        opposite = OPPOSITE.get(a.action)
        if opposite is not None and (a.param, opposite) in chosen:
            winner = chosen[(a.param, opposite)]
            note = (
                f"advice conflict on {a.param}: kept '{opposite}' from {winner.rule} "
                f"({winner.severity}) over '{a.action}' from {a.rule} ({a.severity})"
            )
            if note not in notes:  # two findings of one rule would repeat it word for word
                notes.append(note)
            continue
        chosen[key] = a
    return list(chosen.values()), notes
