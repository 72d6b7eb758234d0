"""CI formats on hand-built reports: GitHub commands, JUnit XML, SARIF, GitLab Code Quality.

SARIF is validated with jsonschema against ``tests/data/sarif-2.1.0-subset.schema.json``: a
hand-written subset of the OASIS SARIF 2.1.0 schema (the official file is not downloadable at test
time) that encodes the official structure for the parts curvedoc writes plus what GitHub code
scanning requires on top (non-empty rule descriptions and help, at least one location, a
fingerprint, 1-based lines).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from curvedoc.formatters import RenderContext, RuleRef, render
from curvedoc.formatters.github import (
    MAX_PER_LEVEL,
    escape_data,
    escape_property,
    render_github,
)
from curvedoc.formatters.gitlab import render_gitlab
from curvedoc.formatters.junit import render_junit
from curvedoc.formatters.locations import artifact_uri, fingerprint, repo_path
from curvedoc.formatters.sarif import render_sarif
from curvedoc.model import Advice, CurveSummary, DetectorError, Finding, Report, Skip, Span

DATA = Path(__file__).resolve().parent / "data"
HOSTILE = '<script>alert(1)</script> a,b:c %25 & "q"\r\nnext\x1b[31m'

RULES = (
    RuleRef("CD101", "non-finite", "NaN or Inf in a curve", "Long help.", "error"),
    RuleRef("CD201", "overfitting", "Validation worsens", "What it detects: ...", "warning"),
    RuleRef("CD301", "divergence", "The loss blows up", "Long help.", "error"),
    RuleRef("CD401", "plateau", "Learning stalled", "Long help.", "warning"),
)
CONTEXT = RenderContext(rules=RULES)


def curve(name: str, role: str = "val_loss") -> CurveSummary:
    return CurveSummary(
        name=name,
        role=role,
        split="val",
        direction="min",
        x_unit="epoch",
        points=3,
        non_finite=0,
        x_start=1.0,
        x_end=3.0,
        first=1.0,
        best=0.5,
        best_x=2.0,
        final=0.7,
        sketch=[1.0, 0.5, 0.7],
    )


def finding(
    rule: str = "overfitting",
    code: str = "CD201",
    severity: str = "warning",
    curves: tuple[str, ...] = ("val_loss", "loss"),
    message: str = "val_loss rose 38% from its best at epoch 2",
    start: float = 2.0,
) -> Finding:
    return Finding(
        code=code,
        rule=rule,
        severity=severity,
        confidence="high",
        curves=list(curves),
        span=Span(start=start, end=3.0, x_unit="epoch"),
        message=message,
        evidence={"best_x": 2.0, "rise": 0.38, "odd": float("nan")},
        advice=[
            Advice(text="Stop at epoch 2.", param="early_stopping", action="enable", rule=rule)
        ],
    )


def report(source: str = "runs/exp1/history.json", **kw: object) -> Report:
    fields: dict[str, object] = {
        "curvedoc_version": "0.1.0",
        "source": source,
        "format": "keras-history",
        "curves": [curve("val_loss"), curve("loss", "train_loss")],
        "findings": [
            finding("divergence", "CD301", "error", ("loss",), "loss blew up"),
            finding(),
        ],
        "skipped": [Skip(rule="plateau", code="CD401", reason="needs 10 points")],
        "errors": [DetectorError(rule="non-finite", code="CD101", error="ValueError: boom")],
    }
    fields.update(kw)
    return Report.model_validate(fields)


def unreadable(source: str = "runs/broken.csv") -> Report:
    return Report(curvedoc_version="0.1.0", source=source, error="line 3: not a number")


# --- locations ------------------------------------------------------------------------------


def test_repo_path_is_relative_posix_without_dot_slash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert repo_path("./runs/a.csv") == "runs/a.csv"
    assert repo_path(str(tmp_path / "runs" / "a.csv")) == "runs/a.csv"
    outside = "/definitely/elsewhere/a.csv"
    assert repo_path(outside) == outside
    assert artifact_uri("runs/my run#1.csv") == "runs/my%20run%231.csv"
    assert artifact_uri(outside) == "file:///definitely/elsewhere/a.csv"


def test_fingerprint_depends_on_rule_path_curve_and_occurrence_only() -> None:
    base = fingerprint("overfitting", "runs/a.csv", "val_loss")
    assert len(base) == 32
    assert base == fingerprint("overfitting", "runs/a.csv", "val_loss")
    others = {
        fingerprint("plateau", "runs/a.csv", "val_loss"),
        fingerprint("overfitting", "runs/b.csv", "val_loss"),
        fingerprint("overfitting", "runs/a.csv", "loss"),
        fingerprint("overfitting", "runs/a.csv", "val_loss", 1),
    }
    assert base not in others
    assert len(others) == 4


# --- github ---------------------------------------------------------------------------------


def test_github_escaping_follows_the_actions_toolkit() -> None:
    assert escape_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_github_one_annotation_per_finding_with_level_file_and_title() -> None:
    out = render_github([report()])
    lines = out.splitlines()
    assert lines[0].startswith(
        "::error file=runs/exp1/history.json,title=curvedoc CD301 divergence (loss)::loss blew up"
    )
    assert lines[1].startswith(
        "::warning file=runs/exp1/history.json,title=curvedoc CD201 overfitting (val_loss)::"
    )
    # Message, span and advice are one annotation: line breaks are %0A.
    assert "%0Aepochs 2–3 · high confidence%0ATry: Stop at epoch 2." in lines[1]
    assert any(
        line.startswith("::warning") and "non-finite (CD101) crashed" in line for line in lines
    )
    assert lines[-1] == "curvedoc: runs/exp1/history.json: 2 findings: 1 error, 1 warning"


def test_github_info_is_a_notice_and_unreadable_input_an_error() -> None:
    info = report(findings=[finding(severity="info")], errors=[])
    out = render_github([info, unreadable()])
    assert "::notice file=runs/exp1/history.json,title=curvedoc CD201" in out
    assert "::error file=runs/broken.csv,title=curvedoc%3A cannot read this log::" in out
    assert out.splitlines()[-1] == "curvedoc: 2 runs: 1 unreadable, 1 with info only"


def test_github_hostile_text_cannot_break_out_of_the_command() -> None:
    hostile = report(
        source=f"runs/{HOSTILE}.json",
        findings=[finding(curves=(HOSTILE,), message=HOSTILE)],
        errors=[],
    )
    out = render_github([hostile])
    for line in out.splitlines():
        # Every line is either a command or a plain line that starts with "curvedoc:".
        assert line.startswith(("::warning ", "curvedoc: ")), line
        assert "\r" not in line
    command = out.splitlines()[0]
    props, _, message = command[len("::warning ") :].partition("::")
    # No unescaped property separator or colon inside the property values.
    assert props.count(",") == 1
    assert ":" not in props
    assert "a%2Cb%3Ac %2525" in props
    assert message.startswith('<script>alert(1)</script> a,b:c %2525 & "q"%0D%0Anext')


def test_github_caps_annotations_per_level_and_says_how_many_were_left_out() -> None:
    many = [finding(start=float(i), message=f"w{i}") for i in range(13)]
    many += [finding(severity="info", start=float(i), message=f"i{i}") for i in range(12)]
    out = render_github([report(findings=many, errors=[])])
    lines = out.splitlines()
    warnings = [line for line in lines if line.startswith("::warning")]
    notices = [line for line in lines if line.startswith("::notice")]
    assert len(warnings) == MAX_PER_LEVEL
    assert len(notices) == MAX_PER_LEVEL  # 9 findings + the note about the others
    note = notices[-1]
    assert "3 warning, 3 notice annotation(s) not shown" in note
    assert "job summary" in note
    assert "::warning" not in "\n".join(lines[lines.index(note) :])


def test_github_under_the_cap_has_no_omission_note() -> None:
    out = render_github([report(findings=[finding(start=float(i)) for i in range(10)], errors=[])])
    assert "not shown" not in out


# --- junit ----------------------------------------------------------------------------------


def cases(xml_text: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml_text.encode("utf-8"))
    return {c.get("name", ""): c for c in root.iter("testcase")}


def test_junit_one_case_per_selected_rule_with_pass_fail_skip_error() -> None:
    out = render_junit([report()], fail_on="warning", context=CONTEXT)
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(out.encode("utf-8"))
    by_name = cases(out)
    assert list(by_name) == [
        "CD101 non-finite",
        "CD201 overfitting",
        "CD301 divergence",
        "CD401 plateau",
    ]
    for case in by_name.values():
        assert case.get("classname") == "curvedoc.runs/exp1/history.json"
        assert case.get("file") == "runs/exp1/history.json"
    assert by_name["CD101 non-finite"].find("error") is not None
    failure = by_name["CD201 overfitting"].find("failure")
    assert failure is not None
    assert failure.get("type") == "warning"
    assert "val_loss rose 38%" in (failure.text or "")
    assert by_name["CD301 divergence"].find("failure") is not None
    skipped = by_name["CD401 plateau"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "needs 10 points"
    suite = root.find("testsuite")
    assert suite is not None
    assert (
        suite.get("tests"),
        suite.get("failures"),
        suite.get("errors"),
        suite.get("skipped"),
    ) == ("4", "2", "1", "1")
    assert root.get("failures") == "2"


def test_junit_findings_below_fail_on_pass_but_are_kept_in_system_out() -> None:
    out = render_junit([report(errors=[])], fail_on="error", context=CONTEXT)
    by_name = cases(out)
    overfitting = by_name["CD201 overfitting"]
    assert overfitting.find("failure") is None
    out_el = overfitting.find("system-out")
    assert out_el is not None
    assert "val_loss rose 38%" in (out_el.text or "")
    assert by_name["CD301 divergence"].find("failure") is not None
    assert by_name["CD101 non-finite"].find("error") is None  # no crash this time: passes
    never = cases(render_junit([report(errors=[])], fail_on="never", context=CONTEXT))
    assert not any(c.find("failure") is not None for c in never.values())


def test_junit_without_context_uses_the_rules_the_report_mentions() -> None:
    by_name = cases(render_junit([report()]))
    assert set(by_name) == {
        "CD101 non-finite",
        "CD201 overfitting",
        "CD301 divergence",
        "CD401 plateau",
    }


def test_junit_unreadable_input_is_an_error_case_and_hostile_text_is_escaped() -> None:
    hostile = report(
        source="runs/<x>&.json",
        findings=[finding(message=HOSTILE, curves=(HOSTILE,))],
        errors=[],
    )
    out = render_junit([hostile, unreadable()], fail_on="warning", context=CONTEXT)
    assert "<script>" not in out
    assert "\x1b" not in out
    root = ET.fromstring(out.encode("utf-8"))  # well-formed despite the hostile text
    suites = root.findall("testsuite")
    assert suites[0].get("name") == "curvedoc runs/<x>&.json"
    broken = suites[1].find("testcase")
    assert broken is not None
    assert broken.get("name") == "read"
    assert broken.find("error") is not None
    failure = cases(out)["CD201 overfitting"].find("failure")
    assert failure is not None
    assert "<script>alert(1)</script>" in (failure.text or "")


# --- sarif ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (DATA / "sarif-2.1.0-subset.schema.json").read_text(encoding="utf-8")
    )
    jsonschema.Draft7Validator.check_schema(data)
    return data


def test_sarif_is_valid_and_has_what_github_requires(sarif_schema: dict[str, object]) -> None:
    doc = json.loads(render_sarif([report(), unreadable()], context=CONTEXT))
    jsonschema.validate(doc, sarif_schema)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["CD101", "CD201", "CD301", "CD401"]
    assert rules[1]["defaultConfiguration"] == {"level": "warning"}
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"CD301": "error", "CD201": "warning"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "runs/exp1/history.json"
        assert result["partialFingerprints"]["primaryLocationLineHash"].endswith(":1")
    overfit = next(r for r in run["results"] if r["ruleId"] == "CD201")
    assert overfit["properties"]["evidence"]["odd"] is None  # NaN is not JSON
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert "line 3: not a number" in notes
    assert any("non-finite crashed" in n for n in notes)


def test_sarif_fingerprints_ignore_message_text() -> None:
    def hashes(message: str) -> list[str]:
        doc = json.loads(render_sarif([report(findings=[finding(message=message)])]))
        return [
            r["partialFingerprints"]["primaryLocationLineHash"] for r in doc["runs"][0]["results"]
        ]

    assert hashes("val_loss rose 38%") == hashes("val_loss rose 41%")


def test_sarif_info_is_a_note_and_empty_runs_are_valid(sarif_schema: dict[str, object]) -> None:
    info = json.loads(render_sarif([report(findings=[finding(severity="info")], errors=[])]))
    jsonschema.validate(info, sarif_schema)
    assert info["runs"][0]["results"][0]["level"] == "note"
    clean = json.loads(render_sarif([report(findings=[], skipped=[], errors=[])]))
    jsonschema.validate(clean, sarif_schema)
    assert clean["runs"][0]["results"] == []
    assert clean["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_the_subset_schema_rejects_what_github_would_reject(
    sarif_schema: dict[str, object],
) -> None:
    good = json.loads(render_sarif([report()], context=CONTEXT))
    broken = [
        lambda d: d.pop("version"),
        lambda d: d.update(version="2.0.0"),
        lambda d: d.update(extra=1),
        lambda d: d["runs"][0]["tool"]["driver"]["rules"][0].pop("help"),
        lambda d: d["runs"][0]["tool"]["driver"]["rules"][0]["shortDescription"].update(text=""),
        lambda d: d["runs"][0]["results"][0].update(locations=[]),
        lambda d: d["runs"][0]["results"][0].update(level="fatal"),
        lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"].update(
            startLine=0
        ),
        lambda d: d["runs"][0]["results"][0].pop("message"),
    ]
    for breaker in broken:
        doc = json.loads(json.dumps(good))
        breaker(doc)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(doc, sarif_schema)


# --- gitlab ---------------------------------------------------------------------------------


def test_gitlab_code_quality_has_the_required_fields() -> None:
    out = render_gitlab([report(), unreadable()])
    assert not out.startswith("\ufeff")
    issues = json.loads(out)
    assert isinstance(issues, list)
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert not issue["location"]["path"].startswith(("./", "/"))
        assert issue["location"]["lines"]["begin"] >= 1
    by_check = {i["check_name"]: i for i in issues}
    assert by_check["curvedoc/divergence"]["severity"] == "major"
    assert by_check["curvedoc/overfitting"]["severity"] == "minor"
    assert by_check["curvedoc/unreadable"]["severity"] == "critical"
    assert by_check["curvedoc/unreadable"]["location"]["path"] == "runs/broken.csv"
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_gitlab_fingerprints_are_stable_across_runs_and_distinct_per_occurrence() -> None:
    first = json.loads(render_gitlab([report(findings=[finding(message="rose 10%")])]))
    second = json.loads(render_gitlab([report(findings=[finding(message="rose 12%")])]))
    assert first[0]["fingerprint"] == second[0]["fingerprint"]
    twice = json.loads(render_gitlab([report(findings=[finding(start=1.0), finding(start=2.0)])]))
    assert twice[0]["fingerprint"] != twice[1]["fingerprint"]
    assert twice[0]["fingerprint"] == first[0]["fingerprint"]  # the first occurrence keeps its id


# --- registry -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["github", "junit", "sarif", "gitlab"])
def test_ci_formats_are_registered_and_handle_no_reports(fmt: str) -> None:
    assert isinstance(render(fmt, [report()], fail_on="warning", context=CONTEXT), str)
    assert isinstance(render(fmt, []), str)
