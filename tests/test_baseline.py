"""``--baseline``: only findings new relative to an earlier JSON report count."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from curvedoc.baseline import apply_baseline, finding_key, load_baseline, split_new
from curvedoc.errors import ConfigError
from curvedoc.model import Advice, Finding, Report, Span


def finding(
    rule: str = "overfitting",
    curves: tuple[str, ...] = ("val_loss", "loss"),
    start: float = 10.0,
    message: str = "val_loss rose 20%",
    severity: str = "warning",
) -> Finding:
    return Finding(
        code="CD201",
        rule=rule,
        severity=severity,
        confidence="high",
        curves=list(curves),
        span=Span(start=start, end=start + 5, x_unit="epoch"),
        message=message,
        evidence={},
        advice=[Advice(text=f"fix {rule}", param=rule, action="investigate", rule=rule)],
    )


def report(source: str = "runs/a.json", *findings: Finding) -> Report:
    return Report(
        curvedoc_version="0.1",
        source=source,
        findings=list(findings),
        advice=[a for f in findings for a in f.advice],
    )


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_key_is_source_rule_and_subject_curve_not_the_message() -> None:
    assert finding_key("./runs/a.json", "overfitting", ["val_loss", "loss"]) == (
        "runs/a.json",
        "overfitting",
        "val_loss",
    )
    assert finding_key("runs/a.json", "plateau", []) == ("runs/a.json", "plateau", "")


def test_load_baseline_reads_one_report_or_an_array(tmp_path: Path) -> None:
    one = report("runs/a.json", finding(), finding(start=30))
    single = write(tmp_path / "one.json", json.loads(one.to_json()))
    assert load_baseline(single) == Counter({("runs/a.json", "overfitting", "val_loss"): 2})
    two = [
        json.loads(one.to_json()),
        json.loads(report("./runs/b.json", finding("plateau", ("loss",))).to_json()),
    ]
    both = load_baseline(write(tmp_path / "two.json", two))
    assert both[("runs/b.json", "plateau", "loss")] == 1
    # A report from another curvedoc version (unknown keys) still works: read leniently.
    future = {
        "source": "runs/a.json",
        "schema_version": 9,
        "new": 1,
        "findings": [{"rule": "overfitting", "curves": ["val_loss"], "extra": True}],
    }
    assert (
        load_baseline(write(tmp_path / "future.json", future))[
            ("runs/a.json", "overfitting", "val_loss")
        ]
        == 1
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "baseline file not found"),
        ("{not json", "not JSON"),
        ("[]", "expected a curvedoc JSON report"),
        ("[1, 2]", "expected a curvedoc JSON report"),
        ('{"findings": []}', "needs 'source' and 'findings'"),
        ('{"source": "a", "findings": [{"curves": []}]}', "a finding without 'rule'"),
    ],
)
def test_bad_baseline_is_a_config_error_naming_the_file(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "base.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_baseline(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_known_findings_are_dropped_new_ones_kept() -> None:
    known = Counter({("runs/a.json", "overfitting", "val_loss"): 1})
    old = finding(message="val_loss rose 20%")
    new_rule = finding("plateau", ("loss",), start=3)
    other_curve = finding(curves=("val_acc",))
    current = report(
        "runs/a.json", old.model_copy(update={"message": "rose 31%"}), new_rule, other_curve
    )
    new, dropped = split_new(current, known)
    assert [f.rule for f in dropped] == ["overfitting"]
    assert dropped[0].curves[0] == "val_loss"  # matched despite the changed message
    assert [(f.rule, f.curves[0]) for f in new] == [("plateau", "loss"), ("overfitting", "val_acc")]


def test_extra_occurrences_beyond_the_baseline_count_are_new_latest_first() -> None:
    known = Counter({("runs/a.json", "plateau", "loss"): 1})
    early, late = finding("plateau", ("loss",), start=5), finding("plateau", ("loss",), start=50)
    new, old = split_new(report("runs/a.json", late, early), known)
    assert [f.span.start for f in old] == [5]
    assert [f.span.start for f in new] == [50]


def test_other_sources_do_not_match() -> None:
    known = Counter({("runs/a.json", "overfitting", "val_loss"): 1})
    new, old = split_new(report("runs/b.json", finding()), known)
    assert (len(new), len(old)) == (1, 0)


def test_apply_baseline_rewrites_findings_advice_and_notes() -> None:
    known = Counter({("runs/a.json", "overfitting", "val_loss"): 1})
    reports = [
        report("runs/a.json", finding(), finding("plateau", ("loss",))),
        Report(curvedoc_version="0", source="runs/x.csv", error="bad"),
        report("runs/c.json", finding()),
    ]
    out = apply_baseline(reports, known, "base.json")
    first = out[0]
    assert [f.rule for f in first.findings] == ["plateau"]
    assert [a.text for a in first.advice] == ["fix plateau"]
    assert first.notes[-1] == (
        "1 finding already in the baseline base.json not reported: overfitting on val_loss"
    )
    assert out[1] is reports[1]
    assert out[2] is reports[2]  # nothing known there: unchanged
