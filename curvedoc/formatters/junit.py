"""JUnit XML: one test case per run × selected rule, as CI test-report pages expect (B4).

For each run a ``<testsuite>``; in it, for every rule that was selected:

* ``<failure>`` when the rule found something at or above ``--fail-on`` (one failure element,
  listing every such finding of the rule; its ``type`` is the worst severity);
* ``<error>`` when the rule crashed (a curvedoc bug, not a problem with the run);
* ``<skipped>`` when the rule could not run on this log (e.g. no validation curve);
* otherwise it passed; findings below the threshold are kept in ``<system-out>``, so nothing is
  hidden, but they do not fail the case.

``classname`` is always set (``curvedoc.<path>``: GitLab shows it as the suite name and older
GitLab keyed cases by it), ``name`` is ``CODE rule`` and ``file`` the log path. An unreadable
input is one ``<error>`` case named ``read``. Text is written with :mod:`xml.etree`, which escapes
markup; characters XML 1.0 cannot hold at all (most control characters) are replaced first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from curvedoc.formatters.common import RenderContext, RuleRef, fmt_span, rules_of
from curvedoc.formatters.locations import finding_title, repo_path
from curvedoc.model import SEVERITY_RANK, Finding, Report

#: Characters outside XML 1.0's Char production (and lone surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text: str) -> str:
    """Text XML 1.0 can hold: forbidden characters become U+FFFD (markup is escaped later)."""
    return _NOT_XML.sub("\ufffd", text)


def _at_or_above(finding: Finding, fail_on: str) -> bool:
    return fail_on != "never" and SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[fail_on]


def _describe(f: Finding) -> str:
    where = fmt_span(f.span.start, f.span.end, f.span.x_unit)
    lines = [f"{f.severity} {finding_title(f)} · {where} · {f.confidence} confidence", f.message]
    lines += [f"  try: {a.text}" for a in f.advice]
    return "\n".join(lines)


def _case(suite: ET.Element, classname: str, name: str, file: str) -> ET.Element:
    return ET.SubElement(
        suite,
        "testcase",
        {"classname": xml_text(classname), "name": xml_text(name), "file": xml_text(file)},
        time="0",
    )


def _suite(report: Report, rules: Sequence[RuleRef], fail_on: str) -> ET.Element:
    path = repo_path(report.source)
    classname = f"curvedoc.{path}"
    suite = ET.Element("testsuite", name=xml_text(f"curvedoc {path}"), time="0")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if report.error is not None:
        case = _case(suite, classname, "read", path)
        ET.SubElement(
            case, "error", message=xml_text(report.error), type="unreadable"
        ).text = xml_text(report.error)
        counts.update(tests=1, errors=1)
    else:
        skipped = {s.rule: s.reason for s in report.skipped}
        crashed = {e.rule: e.error for e in report.errors}
        for rule in rules:
            counts["tests"] += 1
            case = _case(suite, classname, f"{rule.code} {rule.name}", path)
            found = [f for f in report.findings if f.rule == rule.name]
            failing = [f for f in found if _at_or_above(f, fail_on)]
            if rule.name in crashed:
                counts["errors"] += 1
                text = xml_text(crashed[rule.name])
                ET.SubElement(case, "error", message=text, type="crash").text = text
            elif failing:
                counts["failures"] += 1
                worst = max(failing, key=lambda f: SEVERITY_RANK[f.severity])
                ET.SubElement(
                    case, "failure", message=xml_text(worst.message), type=worst.severity
                ).text = xml_text("\n\n".join(_describe(f) for f in failing))
            elif rule.name in skipped:
                counts["skipped"] += 1
                reason = xml_text(skipped[rule.name])
                ET.SubElement(case, "skipped", message=reason).text = reason
            passing = [f for f in found if f not in failing]
            if passing:
                out = "below the --fail-on threshold:\n\n"
                out += "\n\n".join(_describe(f) for f in passing)
                ET.SubElement(case, "system-out").text = xml_text(out)
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


def render_junit(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
    context: RenderContext | None = None,
) -> str:
    """A ``<testsuites>`` document with a suite per report."""
    rules = rules_of(reports, context)
    root = ET.Element("testsuites", name="curvedoc", time="0")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for report in reports:
        suite = _suite(report, rules, fail_on)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
