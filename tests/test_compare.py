"""``compare``: direction-aware metric deltas, gating, findings that appeared or went away."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from curvedoc.compare import (
    compare_reports,
    fmt_change,
    read_report_file,
    worse_by,
)
from curvedoc.compare_output import render_comparison
from curvedoc.errors import ConfigError, InputError
from curvedoc.model import CurveSummary, Finding, Report, Span


def summary(
    name: str, role: str, best: float | None, final: float | None, **kw: object
) -> CurveSummary:
    fields: dict[str, object] = {
        "name": name,
        "role": role,
        "split": "val" if role.startswith("val") else "train",
        "direction": "max" if role.endswith("metric") else "min",
        "x_unit": "epoch",
        "points": 30,
        "non_finite": 0,
        "x_start": 1.0,
        "x_end": 30.0,
        "first": 1.0,
        "best": best,
        "best_x": 10.0,
        "final": final,
    }
    fields.update(kw)
    return CurveSummary.model_validate(fields)


def finding(rule: str, curve: str, severity: str = "warning", start: float = 5.0) -> Finding:
    return Finding(
        code="CD999",
        rule=rule,
        severity=severity,
        confidence="high",
        curves=[curve],
        span=Span(start=start, end=start, x_unit="epoch"),
        message=f"{rule} on {curve}",
        evidence={},
    )


def run(
    source: str,
    val_loss: tuple[float | None, float | None],
    acc: tuple[float, float],
    loss: tuple[float, float] = (0.1, 0.1),
    findings: list[Finding] | None = None,
    lr: tuple[float, float] = (1e-3, 1e-3),
) -> Report:
    return Report(
        curvedoc_version="0.1",
        source=source,
        curves=[
            summary("loss", "train_loss", *loss),
            summary("val_loss", "val_loss", *val_loss),
            summary("val_acc", "val_metric", *acc),
            summary("lr", "lr", *lr),
        ],
        findings=findings or [],
    )


BASE = run("base.json", (0.40, 0.45), (0.90, 0.89))


def test_worse_by_is_relative_signed_and_direction_aware() -> None:
    assert worse_by(0.4, 0.42, "min") == pytest.approx(0.05)
    assert worse_by(0.4, 0.38, "min") == pytest.approx(-0.05)
    assert worse_by(0.9, 0.81, "max") == pytest.approx(0.1)
    assert worse_by(0.9, 0.99, "max") == pytest.approx(-0.1)
    assert worse_by(None, 1.0, "min") is None
    assert worse_by(1.0, None, "min") == math.inf  # the candidate never had a finite value
    assert worse_by(0.0, 0.0, "min") == 0
    assert worse_by(0.0, 0.1, "min") == math.inf
    assert worse_by(0.0, -0.1, "min") == -math.inf
    assert [fmt_change(v) for v in (0.0512, -0.12, math.inf, None)] == ["+5.12%", "-12%", "+∞", "–"]


def test_identical_runs_do_not_regress() -> None:
    c = compare_reports(BASE, run("cand.json", (0.40, 0.45), (0.90, 0.89)))
    assert not c.regressed
    assert all(not m.worse and not m.better for m in c.metrics)
    assert (c.appeared, c.resolved) == ([], [])


def test_within_tolerance_is_the_same_and_beyond_it_regresses() -> None:
    small = compare_reports(BASE, run("c.json", (0.405, 0.455), (0.895, 0.885)))
    assert not small.regressed
    big = compare_reports(BASE, run("c.json", (0.44, 0.45), (0.90, 0.89)))
    assert big.regressed
    assert big.regressions == ["val_loss: best 0.4 → 0.44 (+10% worse; tolerance 2%)"]
    loose = compare_reports(BASE, run("c.json", (0.44, 0.45), (0.90, 0.89)), tolerance=0.2)
    assert not loose.regressed


def test_accuracy_going_down_is_worse_and_going_up_better() -> None:
    down = compare_reports(BASE, run("c.json", (0.40, 0.45), (0.80, 0.89)))
    assert [r.split(":")[0] for r in down.regressions] == ["val_acc"]
    up = compare_reports(BASE, run("c.json", (0.40, 0.45), (0.95, 0.95)))
    acc = next(m for m in up.metrics if m.name == "val_acc")
    assert acc.better
    assert not up.regressed


def test_only_validation_curves_gate_by_default_and_metric_overrides() -> None:
    worse_train = run("c.json", (0.40, 0.45), (0.90, 0.89), loss=(0.5, 0.5), lr=(1, 1))
    c = compare_reports(BASE, worse_train)
    loss = next(m for m in c.metrics if m.name == "loss")
    assert loss.worse
    assert not loss.gates
    assert not c.regressed  # the training loss and the lr do not gate
    lr = next(m for m in c.metrics if m.name == "lr")
    assert (lr.judged, lr.worse, lr.better) == (False, False, False)  # a schedule, not a result
    assert lr.best_change == pytest.approx(999)
    gated = compare_reports(BASE, worse_train, metrics=["loss"])
    assert gated.regressed
    with pytest.raises(ConfigError, match="no curve named 'nope'"):
        compare_reports(BASE, worse_train, metrics=["nope"])


def test_without_validation_curves_the_training_ones_gate() -> None:
    base = Report(curvedoc_version="0", source="b", curves=[summary("loss", "train_loss", 1, 1)])
    cand = Report(curvedoc_version="0", source="c", curves=[summary("loss", "train_loss", 2, 2)])
    assert compare_reports(base, cand).regressed


def test_a_gating_metric_missing_from_the_candidate_is_a_regression() -> None:
    cand = Report(
        curvedoc_version="0",
        source="c",
        curves=[summary("loss", "train_loss", 0.1, 0.1), summary("acc2", "val_metric", 1, 1)],
    )
    c = compare_reports(BASE, cand)
    assert "val_loss: missing from the candidate" in c.regressions
    assert c.only_in_baseline == ["val_loss", "val_acc", "lr"]
    assert c.only_in_candidate == ["acc2"]


def test_findings_that_appeared_or_went_away_matched_by_rule_and_curve() -> None:
    base = run("b", (0.4, 0.45), (0.9, 0.89), findings=[finding("plateau", "loss")])
    cand = run(
        "c",
        (0.4, 0.45),
        (0.9, 0.89),
        findings=[finding("divergence", "loss", "error"), finding("overfitting", "val_loss")],
    )
    c = compare_reports(base, cand)
    assert [f.rule for f in c.appeared] == ["divergence", "overfitting"]
    assert [f.rule for f in c.resolved] == ["plateau"]
    assert c.regressions == ["new error: CD999 divergence on loss"]  # at or above --fail-on error
    warn = compare_reports(base, cand, fail_on="warning")
    assert len(warn.regressions) == 2
    assert not compare_reports(base, cand, fail_on="never").regressed


def test_bad_tolerance_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        compare_reports(BASE, BASE, tolerance=-0.1)


def test_outputs_say_the_same_thing() -> None:
    c = compare_reports(BASE, run("cand.json", (0.44, 0.50), (0.90, 0.89)))
    text = render_comparison("terminal", c, width=120)
    assert "Regression: 2 reasons" in text
    assert "val_loss: final 0.45 → 0.5" in text
    assert "+10%" in text
    md = render_comparison("markdown", c)
    assert md.startswith("### ❌ curvedoc compare: Regression: 2 reasons")
    assert "| **val\\_loss** | ↓ | 0.4 | 0.44 | +10% |" in md
    data = json.loads(render_comparison("json", c))
    assert data["regressed"] is True
    assert [m["name"] for m in data["metrics"]] == ["loss", "val_loss", "val_acc", "lr"]
    ok = compare_reports(BASE, BASE)
    assert "No regression (tolerance 2%" in render_comparison("terminal", ok)
    assert render_comparison("markdown", ok).startswith("### ✅")


def test_infinite_change_is_null_in_json() -> None:
    c = compare_reports(BASE, run("c.json", (None, None), (0.9, 0.89)))
    data = json.loads(render_comparison("json", c))
    val = next(m for m in data["metrics"] if m["name"] == "val_loss")
    assert val["best_change"] is None
    assert val["worse"] is True
    assert data["regressed"] is True


def test_read_report_file_recognises_reports_and_leaves_logs_alone(tmp_path: Path) -> None:
    rep = tmp_path / "report.json"
    rep.write_text(BASE.to_json(), encoding="utf-8")
    loaded = read_report_file(rep)
    assert loaded is not None
    assert loaded.source == "base.json"
    array = tmp_path / "one.json"
    array.write_text(f"[{BASE.to_json()}]", encoding="utf-8")
    assert read_report_file(array) is not None
    log = tmp_path / "history.json"
    log.write_text(json.dumps({"loss": [1, 0.5], "val_loss": [1, 0.6]}), encoding="utf-8")
    assert read_report_file(log) is None
    csv = tmp_path / "metrics.csv"
    csv.write_text("epoch,loss\n1,0.5\n", encoding="utf-8")
    assert read_report_file(csv) is None
    several = tmp_path / "many.json"
    several.write_text(f"[{BASE.to_json()},{BASE.to_json()}]", encoding="utf-8")
    with pytest.raises(InputError, match="compare takes one run"):
        read_report_file(several)
    broken = tmp_path / "broken.json"
    broken.write_text('{"curvedoc_version": "1", "findings": 3, "source": "x"}', encoding="utf-8")
    with pytest.raises(InputError, match="not a valid curvedoc report"):
        read_report_file(broken)
