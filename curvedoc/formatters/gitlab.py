"""GitLab Code Quality: a single JSON array of CodeClimate-style issues (FORMATS.md B6).

Each finding becomes ``{description, check_name, fingerprint, severity, location}`` with
``location.path`` relative to the repository (no leading ``./``) and ``location.lines.begin`` 1.
The merge-request widget compares the head and base pipelines' reports by fingerprint, so the
fingerprint hashes rule, path and curve only — not the message, whose numbers drift from run to
run. Severities: error → ``major``, warning → ``minor``, info → ``info``; an unreadable input is a
``critical`` issue (``check_name`` ``curvedoc/unreadable``) so it cannot pass unnoticed. The text
is plain JSON (no byte-order mark), as GitLab requires.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from curvedoc.formatters.common import RenderContext, fmt_span
from curvedoc.formatters.locations import fingerprint, fingerprinted, repo_path
from curvedoc.model import Report

SEVERITIES: dict[str, str] = {"error": "major", "warning": "minor", "info": "info"}


def _location(path: str) -> dict[str, Any]:
    return {"path": path, "lines": {"begin": 1}}


def code_quality_issues(reports: Sequence[Report]) -> list[dict[str, Any]]:
    """The Code Quality issues of every report, in report order."""
    issues: list[dict[str, Any]] = []
    for report in reports:
        path = repo_path(report.source)
        if report.error is not None:
            issues.append(
                {
                    "description": f"curvedoc could not read this log: {report.error}",
                    "check_name": "curvedoc/unreadable",
                    "fingerprint": fingerprint("unreadable", path, ""),
                    "severity": "critical",
                    "location": _location(path),
                }
            )
            continue
        for f, print_ in fingerprinted(report):
            where = fmt_span(f.span.start, f.span.end, f.span.x_unit)
            issues.append(
                {
                    "description": f"{f.code} {f.rule}: {f.message} ({where})",
                    "check_name": f"curvedoc/{f.rule}",
                    "fingerprint": print_,
                    "severity": SEVERITIES[f.severity],
                    "location": _location(path),
                    "categories": ["Bug Risk"],
                }
            )
    return issues


def render_gitlab(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
    context: RenderContext | None = None,
) -> str:
    """The report as the JSON array GitLab's ``artifacts:reports:codequality`` reads."""
    return json.dumps(code_quality_issues(reports), indent=2, ensure_ascii=False) + "\n"
