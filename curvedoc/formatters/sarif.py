"""SARIF 2.1.0, with what GitHub code scanning requires filled in (FORMATS.md B3).

One SARIF ``run`` (one tool invocation) holds the results of every input. ``tool.driver.rules``
lists the selected rules with non-empty short and full descriptions and help text (GitHub
requires all three); each result has ``ruleId``/``ruleIndex``, ``level`` (error → ``error``,
warning → ``warning``, info → ``note``), ``message.text``, one location (the log file, line 1:
a finding is about a curve, not a line) and a ``primaryLocationLineHash`` fingerprint built from
rule, path and curve only, so it is stable across runs (the REST upload does not compute one).
Unreadable inputs and crashed rules become ``toolExecutionNotifications`` of the invocation, with
``executionSuccessful`` false for an unreadable input.

Caveat: code scanning attaches alerts to files in the repository; a log that is a CI artifact
rather than a committed file still shows in the alert list but not in a file view.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from curvedoc.formatters.common import RenderContext, RuleRef, fmt_span, rules_of
from curvedoc.formatters.locations import artifact_uri, finding_title, fingerprinted
from curvedoc.model import Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS: dict[str, str] = {"error": "error", "warning": "warning", "info": "note"}
#: GitHub truncates descriptions beyond this many characters.
MAX_DESCRIPTION = 1024


def _clip(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rule(rule: RuleRef) -> dict[str, Any]:
    summary = rule.summary or f"curvedoc rule {rule.name}"
    entry: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _clip(summary)},
        "fullDescription": {"text": _clip(rule.help or summary)},
        "help": {
            "text": (rule.help or summary).strip() + f"\n\n(curvedoc explain {rule.name})",
        },
        "properties": {"tags": ["training", "learning-curve"]},
    }
    if rule.severity in LEVELS:
        entry["defaultConfiguration"] = {"level": LEVELS[rule.severity]}
    return entry


def _finite(value: Any) -> Any:
    """JSON has no NaN/Infinity: such evidence values are written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _location(source: str) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(source)},
            "region": {"startLine": 1},
        }
    }


def sarif_document(
    reports: Sequence[Report], *, context: RenderContext | None = None
) -> dict[str, Any]:
    """The SARIF log as a dict (see the module docstring for the mapping)."""
    rules = rules_of(reports, context)
    known = {r.code for r in rules}
    for report in reports:  # a finding of a rule not in the list still needs its descriptor
        for f in report.findings:
            if f.code not in known:
                rules.append(RuleRef(f.code, f.rule, severity=f.severity))
                known.add(f.code)
    index = {r.code: i for i, r in enumerate(rules)}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for report in reports:
        if report.error is not None:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": report.error},
                    "locations": [_location(report.source)],
                }
            )
            continue
        for f, print_ in fingerprinted(report):
            where = fmt_span(f.span.start, f.span.end, f.span.x_unit)
            text = f"{f.message} ({where}, {f.confidence} confidence)"
            if f.advice:
                text += " Try: " + " ".join(a.text for a in f.advice)
            results.append(
                {
                    "ruleId": f.code,
                    "ruleIndex": index[f.code],
                    "level": LEVELS[f.severity],
                    "message": {"text": text},
                    "locations": [_location(report.source)],
                    "partialFingerprints": {"primaryLocationLineHash": f"{print_}:1"},
                    "properties": {
                        "rule": f.rule,
                        "title": finding_title(f),
                        "curves": list(f.curves),
                        "span": f.span.model_dump(),
                        "confidence": f.confidence,
                        "evidence": {k: _finite(v) for k, v in f.evidence.items()},
                    },
                }
            )
        for crash in report.errors:
            notifications.append(
                {
                    "level": "warning",
                    "message": {"text": f"rule {crash.rule} crashed: {crash.error}"},
                    "locations": [_location(report.source)],
                }
            )
    invocation: dict[str, Any] = {
        "executionSuccessful": all(r.error is None for r in reports),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    driver: dict[str, Any] = {"name": "curvedoc"}
    version = next((r.curvedoc_version for r in reports if r.curvedoc_version), None)
    if version:
        driver.update(version=version, semanticVersion=version)
    driver["rules"] = [_rule(r) for r in rules]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [invocation],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render_sarif(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
    context: RenderContext | None = None,
) -> str:
    """The SARIF log as JSON text (every result is written, whatever ``fail_on`` is)."""
    return json.dumps(sarif_document(reports, context=context), indent=2, allow_nan=False) + "\n"
