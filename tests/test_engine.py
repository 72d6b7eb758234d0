"""The engine: skips, crash isolation, supersession, ordering, the report contract, summaries.

Supersession is tested twice: with stubbed detectors (exact spans, so the table itself is pinned
down) and with histories that make the real detectors fire (each such test first checks that
both rules do fire when the winner is switched off, so a detector change shows up as "this
history no longer triggers X" rather than as a supersession bug).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from conftest import build_history, make_curve

from curvedoc import engine
from curvedoc._version import __version__
from curvedoc.api import diagnose, diagnose_path, error_report
from curvedoc.context import Context
from curvedoc.detectors import DETECTORS
from curvedoc.detectors.base import Observation
from curvedoc.detectors.plateau import Plateau
from curvedoc.errors import ConfigError
from curvedoc.model import SCHEMA_VERSION, SEVERITY_RANK, History, Report
from curvedoc.packs import Settings, resolve_settings

MakeHistory = Callable[..., History]


def rng() -> np.random.Generator:
    """A fresh seeded generator per fixture, so a test's data does not depend on test order."""
    return np.random.default_rng(20240607)


def rules(report: Report) -> list[str]:
    return [f.rule for f in report.findings]


def run(history: History, **kw: Any) -> Report:
    return engine.run(history, resolve_settings(config=None, **kw))


# -- skips -----------------------------------------------------------------------------------
def test_rule_with_missing_curves_is_skipped_with_reason(
    make_history: MakeHistory, default_settings: Settings
) -> None:
    report = engine.run(make_history(loss=[1.0, 0.8, 0.6, 0.5]), default_settings)
    skipped = {s.rule: s for s in report.skipped}
    assert set(skipped) == {d.name for d in DETECTORS if d.missing_roles({"train_loss"})}
    assert "overfitting" in skipped
    assert skipped["overfitting"].code == "CD201"
    assert "val loss" in skipped["overfitting"].reason
    assert "train loss" not in skipped["overfitting"].reason  # only what is missing
    assert "overfitting" not in rules(report)
    assert report.errors == []


def test_skip_reason_names_each_alternative(
    make_history: MakeHistory, default_settings: Settings
) -> None:
    report = engine.run(make_history(val_accuracy=[0.5, 0.6, 0.7]), default_settings)
    reasons = {s.rule: s.reason for s in report.skipped}
    assert set(reasons) == {d.name for d in DETECTORS if d.missing_roles({"val_metric"})}
    assert {"overfitting", "divergence", "gradient-explosion", "plateau"} <= set(reasons)
    assert "train loss" in reasons["overfitting"]
    assert "val loss" in reasons["overfitting"]
    assert "train loss or val loss" in reasons["divergence"]
    assert "grad norm" in reasons["gradient-explosion"]
    # non-finite needs nothing: it ran (and found nothing).
    assert "non-finite" not in reasons


def test_unselected_rules_are_neither_run_nor_skipped(make_history: MakeHistory) -> None:
    report = run(make_history(loss=[1.0, math.nan, 0.5]), select=["overfitting"])
    assert [s.rule for s in report.skipped] == ["overfitting"]
    assert report.findings == []  # non-finite would have fired, but was not selected


# -- crash isolation -------------------------------------------------------------------------
def nan_and_plateau_history() -> History:
    """Epoch-level loss with a mid-run stall and one NaN at its very end."""
    y = np.concatenate(
        [
            np.linspace(3, 2, 5),
            np.full(8, 2.0) + rng().normal(0, 0.004, 8),
            np.linspace(1.95, 1.0, 12),
            [math.nan],
        ]
    )
    return build_history(loss=y)


def test_crashing_detector_lands_in_errors_and_others_still_report(
    monkeypatch: pytest.MonkeyPatch, default_settings: Settings
) -> None:
    history = nan_and_plateau_history()
    before = engine.run(history, default_settings)
    assert {"non-finite", "plateau"} <= set(rules(before)), "fixture no longer triggers both"

    def boom(self: object, ctx: Context, params: Any) -> Iterator[Observation]:
        raise RuntimeError("boom")

    monkeypatch.setattr(Plateau, "detect", boom)
    report = engine.run(history, default_settings)
    assert len(report.errors) == 1
    err = report.errors[0]
    assert (err.rule, err.code) == ("plateau", "CD401")
    assert "RuntimeError: boom" in err.error
    assert "test_engine.py" in err.error  # where it broke, for the bug report
    assert "plateau" not in rules(report)
    assert "non-finite" in rules(report)
    assert [f for f in report.findings if f.rule != "plateau"] == [
        f for f in before.findings if f.rule != "plateau"
    ]


def test_crash_after_yielding_discards_the_partial_output(
    monkeypatch: pytest.MonkeyPatch, make_history: MakeHistory, default_settings: Settings
) -> None:
    def half(self: object, ctx: Context, params: Any) -> Iterator[Observation]:
        yield Observation(("loss",), 1.0, 2.0, "epoch", "half-done", "high")
        raise ValueError("second observation failed")

    monkeypatch.setattr(Plateau, "detect", half)
    report = engine.run(make_history(loss=[1.0, 0.9, 0.8, 0.7]), default_settings)
    assert [e.rule for e in report.errors] == ["plateau"]
    assert "ValueError" in report.errors[0].error
    assert report.findings == []


# -- supersession with stubbed detectors -----------------------------------------------------
def obs(
    *curves: str, start: float, end: float, confidence: str = "medium", subject: str | None = None
) -> Observation:
    return Observation(
        curves=curves,
        start=start,
        end=end,
        x_unit="epoch",
        message=f"{'/'.join(curves)} {start}-{end}",
        confidence=confidence,
        subject=subject,
    )


def stub(monkeypatch: pytest.MonkeyPatch, **by_rule: list[Observation]) -> None:
    """Make every detector yield exactly the given observations (keyword: rule with _ for -)."""
    wanted = {k.replace("_", "-"): v for k, v in by_rule.items()}
    for det in DETECTORS:
        found = tuple(wanted.pop(det.name, []))

        def detect(
            self: object, ctx: Context, params: Any, _found: tuple[Observation, ...] = found
        ) -> Iterator[Observation]:
            yield from _found

        monkeypatch.setattr(det, "detect", detect)
    assert not wanted, f"unknown rules {wanted}"


def stub_history(nan_at: int | None = None) -> History:
    """loss / val_loss / grad_norm over epochs 1..60 (every rule can run); a NaN in ``loss``."""
    loss: list[float | None] = [1.0 / (1 + i) for i in range(60)]
    if nan_at is not None:
        loss[nan_at - 1] = None
    return build_history(
        loss=loss, val_loss=[1.1 / (1 + i) for i in range(60)], grad_norm=[1.0] * 60
    )


def kept(report: Report) -> set[tuple[str, float]]:
    return {(f.rule, f.span.start) for f in report.findings}


def test_stub_non_finite_hides_later_findings_on_the_same_curve(
    monkeypatch: pytest.MonkeyPatch, default_settings: Settings
) -> None:
    stub(
        monkeypatch,
        non_finite=[obs("loss", start=10, end=10)],
        plateau=[obs("loss", start=12, end=20), obs("loss", start=2, end=8)],
        gradient_explosion=[obs("loss", start=10, end=11), obs("grad_norm", start=30, end=30)],
        divergence=[obs("val_loss", start=40, end=41)],
    )
    report = engine.run(stub_history(nan_at=10), default_settings)
    assert kept(report) == {
        ("non-finite", 10),
        ("plateau", 2),  # before the NaN: its own problem
        ("gradient-explosion", 30),  # another curve
        ("divergence", 40),  # another curve
    }


def test_stub_without_non_finite_finding_nothing_is_hidden(
    monkeypatch: pytest.MonkeyPatch, default_settings: Settings
) -> None:
    # The NaN is there, but non-finite did not report it (e.g. not selected): nothing explains
    # the later findings, so they stay.
    stub(monkeypatch, plateau=[obs("loss", start=12, end=20)])
    report = engine.run(stub_history(nan_at=10), default_settings)
    assert kept(report) == {("plateau", 12)}


@pytest.mark.parametrize("loser", ["gradient-explosion", "plateau", "overfitting"])
def test_stub_divergence_hides_overlapping_losers(
    monkeypatch: pytest.MonkeyPatch, default_settings: Settings, loser: str
) -> None:
    curves = ("val_loss", "loss") if loser == "overfitting" else ("grad_norm",)
    stub(
        monkeypatch,
        divergence=[obs("loss", start=20, end=40)],
        **{
            loser.replace("-", "_"): [
                obs(*curves, start=35, end=50),  # overlaps
                obs(*curves, start=5, end=19),  # ends before the divergence starts
                obs(*curves, start=41, end=45),  # starts after it ends
            ]
        },
    )
    report = engine.run(stub_history(), default_settings)
    assert kept(report) == {("divergence", 20), (loser, 5), (loser, 41)}


def test_stub_divergence_does_not_hide_non_finite(
    monkeypatch: pytest.MonkeyPatch, default_settings: Settings
) -> None:
    stub(
        monkeypatch,
        divergence=[obs("loss", start=20, end=40)],
        non_finite=[obs("loss", start=30, end=30)],
    )
    report = engine.run(stub_history(nan_at=30), default_settings)
    assert kept(report) == {("divergence", 20), ("non-finite", 30)}


def test_stub_overfitting_hides_plateau_on_its_validation_curve(
    monkeypatch: pytest.MonkeyPatch, default_settings: Settings
) -> None:
    stub(
        monkeypatch,
        overfitting=[obs("val_loss", "loss", start=30, end=60)],
        plateau=[obs("val_loss", start=5, end=15)],
    )
    report = engine.run(stub_history(), default_settings)
    assert kept(report) == {("overfitting", 30)}


def test_stub_overfitting_keeps_plateau_on_other_curves(
    monkeypatch: pytest.MonkeyPatch, default_settings: Settings
) -> None:
    stub(
        monkeypatch,
        overfitting=[obs("val_loss", "loss", start=30, end=60)],
        plateau=[obs("loss", start=5, end=15), obs("aux_val_loss", start=35, end=45)],
    )
    report = engine.run(stub_history(), default_settings)
    assert kept(report) == {("overfitting", 30), ("plateau", 5), ("plateau", 35)}


def test_stub_losers_do_not_hide_winners(
    monkeypatch: pytest.MonkeyPatch, default_settings: Settings
) -> None:
    stub(
        monkeypatch,
        plateau=[obs("val_loss", start=1, end=60)],
        gradient_explosion=[obs("loss", start=1, end=60)],
        overfitting=[obs("val_loss", "loss", start=10, end=60)],
    )
    report = engine.run(stub_history(), default_settings)
    assert {"overfitting", "gradient-explosion"} <= set(rules(report))


# -- supersession on histories that trigger the real detectors -------------------------------
def spiky_step_loss(n: int = 3000, spikes: tuple[int, ...] = (1000, 2100)) -> np.ndarray:
    s = np.arange(n)
    y = (2.0 * np.exp(-s / (n / 6)) + 0.3) * np.exp(rng().normal(0, 0.05, n))
    y[list(spikes)] *= 8
    return y


def diverging_step_loss(spikes: tuple[int, ...]) -> np.ndarray:
    """Falls to a best at step ~1500, then climbs steadily to ~8× that; optional spikes."""
    s = np.arange(3000)
    y = np.where(s < 1500, 2.0 * np.exp(-s / 300) + 0.3, 0.3 + (s - 1500) / 1500 * 2.0)
    y = y * np.exp(rng().normal(0, 0.05, s.size))
    y[list(spikes)] *= 8
    return y


def steps(**curves: Any) -> History:
    return build_history(x_unit="step", start=0, **curves)


def test_real_non_finite_hides_a_later_plateau(default_settings: Settings) -> None:
    y = np.concatenate(
        [
            np.linspace(3, 2, 5),
            np.full(8, 2.0) + rng().normal(0, 0.004, 8),
            np.linspace(1.95, 1.0, 12),
        ]
    )
    y[1] = math.nan  # before the stall
    history = build_history(loss=y)
    assert "plateau" in rules(run(history, ignore=["non-finite"])), "fixture lost its plateau"
    assert rules(run(history, select=["non-finite", "plateau"])) == ["non-finite"]


def test_real_plateau_before_the_nan_is_kept(default_settings: Settings) -> None:
    report = run(nan_and_plateau_history(), select=["non-finite", "plateau"])
    assert sorted(rules(report)) == ["non-finite", "plateau"]


def test_real_non_finite_hides_later_spikes(default_settings: Settings) -> None:
    y = spiky_step_loss()
    y[500] = math.nan
    history = steps(loss=y)
    alone = run(history, ignore=["non-finite"])
    assert "gradient-explosion" in rules(alone), "fixture lost its spikes"
    assert rules(engine.run(history, default_settings)) == ["non-finite"]


def test_real_divergence_hides_overlapping_spikes(default_settings: Settings) -> None:
    history = steps(loss=diverging_step_loss(spikes=(2200, 2600)))
    assert "gradient-explosion" in rules(run(history, ignore=["divergence"])), "no spikes found"
    assert rules(engine.run(history, default_settings)) == ["divergence"]


def test_real_spike_before_divergence_is_kept(default_settings: Settings) -> None:
    report = engine.run(steps(loss=diverging_step_loss(spikes=(600,))), default_settings)
    assert sorted(rules(report)) == ["divergence", "gradient-explosion"]
    div = next(f for f in report.findings if f.rule == "divergence")
    spike = next(f for f in report.findings if f.rule == "gradient-explosion")
    assert spike.span.end < div.span.start


def test_real_overfitting_keeps_an_earlier_training_plateau(default_settings: Settings) -> None:
    train = np.concatenate(
        [
            np.linspace(3, 2, 5),
            np.full(8, 2.0) + rng().normal(0, 0.004, 8),
            np.linspace(1.95, 0.5, 27),
        ]
    )
    val = np.concatenate([train[:25] + 0.1, train[24] + 0.1 + np.linspace(0.05, 0.6, 15)])
    history = build_history(loss=train, val_loss=val)
    assert "plateau" in rules(run(history, ignore=["overfitting"])), "fixture lost its plateau"
    assert "overfitting" in rules(run(history, ignore=["plateau"])), "fixture is not overfitting"
    # A stall of the *training* loss long before validation turns up is a second problem.
    assert sorted(rules(engine.run(history, default_settings))) == ["overfitting", "plateau"]


# -- severity, advice and ordering -----------------------------------------------------------
def test_findings_sorted_by_severity_then_position_then_code_then_confidence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stub(
        monkeypatch,
        divergence=[obs("loss", start=200, end=210)],
        non_finite=[obs("val_loss", start=150, end=150)],
        overfitting=[obs("val_loss", "loss", start=1, end=60)],
        gradient_explosion=[
            obs("grad_norm", start=20, end=21, confidence="low"),
            obs("grad_norm", start=20, end=21, confidence="high"),
        ],
        plateau=[obs("aux_loss", start=20, end=30)],
    )
    settings = resolve_settings(
        config=None,
        set_params=[
            "divergence.severity=error",
            "non-finite.severity=error",
            "gradient-explosion.severity=warning",
            "plateau.severity=warning",
            "overfitting.severity=info",
        ],
    )
    report = engine.run(stub_history(), settings)
    got = [(f.rule, f.span.start, f.confidence) for f in report.findings]
    assert got == [
        ("non-finite", 150, "medium"),
        ("divergence", 200, "medium"),
        ("gradient-explosion", 20, "high"),
        ("gradient-explosion", 20, "low"),
        ("plateau", 20, "medium"),
        ("overfitting", 1, "medium"),
    ]
    ranks = [SEVERITY_RANK[f.severity] for f in report.findings]
    assert ranks == sorted(ranks, reverse=True)
    assert report.worst_severity == "error"


def test_severity_and_advice_come_from_the_pack(make_history: MakeHistory) -> None:
    history = make_history(loss=[1.0, 0.8, math.nan, math.nan], meta={"learning_rate": 0.01})
    report = run(history, set_params=["non-finite.severity=warning"])
    [f] = report.findings
    assert (f.rule, f.code, f.severity) == ("non-finite", "CD101", "warning")
    assert f.advice, "default pack advice was not rendered"
    assert all(a.severity == "warning" and a.rule == "non-finite" for a in f.advice)
    texts = " ".join(a.text for a in f.advice)
    assert "epoch 3" in texts  # the first NaN, from evidence
    assert "0.01" in texts  # the logged learning rate, from meta
    assert {(a.param, a.action) for a in report.advice} == {(a.param, a.action) for a in f.advice}


def test_conflicting_advice_is_settled_and_noted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pack = tmp_path / "pull.toml"
    pack.write_text(
        """
[pack]
extends = "default"
[[rules.divergence.advice]]
param = "learning_rate"
action = "decrease"
text = "lower it"
[[rules.plateau.advice]]
param = "learning_rate"
action = "increase"
text = "raise it"
"""
    )
    stub(
        monkeypatch,
        divergence=[obs("loss", start=20, end=40)],
        plateau=[obs("loss", start=1, end=8)],
    )
    report = engine.run(stub_history(), resolve_settings(rules=pack, config=None))
    assert sorted(rules(report)) == ["divergence", "plateau"]
    lr = [(a.action, a.rule) for a in report.advice if a.param == "learning_rate"]
    assert lr == [("decrease", "divergence")]
    assert [n for n in report.notes if "conflict" in n and "learning_rate" in n]


# -- the report contract ---------------------------------------------------------------------
def full_report(monkeypatch: pytest.MonkeyPatch) -> Report:
    """A report with findings, advice, skips, errors, notes and meta all filled."""

    def boom(self: object, ctx: Context, params: Any) -> Iterator[Observation]:
        raise KeyError("x")

    monkeypatch.setattr(Plateau, "detect", boom)
    y = spiky_step_loss()
    y[2900] = math.inf
    history = History(
        source="runs/exp1/log.csv",
        format="test",
        curves=(make_curve("loss", y, x_unit="step", start=0),),
        meta={"learning_rate": 3e-4, "optimizer": "adamw", "betas": [0.9, 0.95], "epochs": None},
        notes=("dropped 2 repeated header rows",),
    )
    return engine.run(history, resolve_settings(config=None))


def test_report_json_validates_against_its_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    report = full_report(monkeypatch)
    assert report.findings
    assert report.advice
    assert report.skipped
    assert report.errors
    data = json.loads(report.to_json())
    schema = Report.model_json_schema()
    jsonschema.validate(data, schema)
    assert Report.model_validate_json(report.to_json()) == report
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["curvedoc_version"] == __version__
    assert data["source"] == "runs/exp1/log.csv"
    for f in data["findings"]:
        assert f["rule"] in {d.name for d in DETECTORS}
        assert f["severity"] in SEVERITY_RANK
    # Non-finite numbers never reach the JSON (it would not be valid JSON).
    assert "NaN" not in report.to_json()
    assert "Infinity" not in report.to_json()


def test_report_keeps_history_notes_and_scalar_meta(monkeypatch: pytest.MonkeyPatch) -> None:
    report = full_report(monkeypatch)
    assert report.notes[0] == "dropped 2 repeated header rows"
    assert report.meta == {"learning_rate": 3e-4, "optimizer": "adamw", "epochs": None}


def test_schema_rejects_a_broken_report(monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.loads(full_report(monkeypatch).to_json())
    data["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, Report.model_json_schema())


def test_error_report_is_valid_and_empty() -> None:
    report = error_report("missing.csv", "missing.csv: file not found")
    data = json.loads(report.to_json())
    jsonschema.validate(data, Report.model_json_schema())
    assert data["error"] == "missing.csv: file not found"
    assert data["findings"] == []
    assert data["curvedoc_version"] == __version__


# -- curve summaries -------------------------------------------------------------------------
def test_summary_of_a_min_curve() -> None:
    s = engine.summarize(make_curve("loss", [3.0, 1.0, 2.0, None], x=[10, 20, 30, 40]))
    assert (s.name, s.role, s.direction) == ("loss", "train_loss", "min")
    assert (s.points, s.non_finite) == (4, 1)
    assert (s.x_start, s.x_end) == (10.0, 40.0)
    assert (s.first, s.best, s.best_x, s.final) == (3.0, 1.0, 20.0, 2.0)


def test_summary_of_a_max_curve() -> None:
    s = engine.summarize(make_curve("val_accuracy", [0.5, 0.9, 0.7, math.inf]))
    assert s.direction == "max"
    assert (s.best, s.best_x) == (0.9, 2.0)
    assert s.non_finite == 1
    assert s.final == 0.7


def test_summary_of_an_all_nan_curve() -> None:
    s = engine.summarize(make_curve("loss", [None, None, None]))
    assert (s.points, s.non_finite) == (3, 3)
    assert (s.first, s.best, s.best_x, s.final) == (None, None, None, None)
    assert s.sketch
    assert all(v is None for v in s.sketch)


def test_summary_of_an_empty_curve() -> None:
    s = engine.summarize(make_curve("loss", []))
    assert (s.points, s.non_finite, s.x_start, s.x_end, s.best) == (0, 0, None, None, None)
    assert s.sketch == []


def test_sketch_of_a_long_curve_has_at_most_48_bucket_means() -> None:
    x = np.arange(10_000, dtype=float)
    s = engine.summarize(make_curve("loss", 2.0 * x, x=x))
    assert len(s.sketch) == engine.SKETCH_BUCKETS == 48
    values = [v for v in s.sketch if v is not None]
    assert len(values) == 48
    assert values == sorted(values)
    # Bucket means of y = 2x over equal x-widths: the first bucket's mean is about 2 * width/2.
    width = 10_000 / 48
    assert values[0] == pytest.approx(2 * (width - 1) / 2, rel=0.02)
    assert values[-1] == pytest.approx(2 * (10_000 - width / 2), rel=0.01)


def test_sketch_of_a_short_curve_has_one_bucket_per_point() -> None:
    s = engine.summarize(make_curve("loss", [5.0, 4.0, 3.0]))
    assert s.sketch == [5.0, 4.0, 3.0]


def test_sketch_has_none_for_empty_buckets() -> None:
    # Sparse x: nothing is logged between x=2 and x=100.
    s = engine.summarize(make_curve("loss", [1.0, 2.0, 3.0, 9.0], x=[0, 1, 2, 100]))
    assert s.sketch == [2.0, None, None, 9.0]


def test_sketch_has_none_where_values_are_non_finite() -> None:
    y: list[float | None] = [1.0] * 480
    y[200:300] = [None] * 100
    s = engine.summarize(make_curve("loss", y))
    assert len(s.sketch) == 48
    assert None in s.sketch
    assert s.sketch[0] == 1.0
    assert s.sketch[-1] == 1.0
    gap = [i for i, v in enumerate(s.sketch) if v is None]
    assert gap == list(range(gap[0], gap[-1] + 1))  # one contiguous hole
    assert gap[0] >= 19
    assert gap[-1] <= 30


def test_sketch_of_a_single_point() -> None:
    assert engine.summarize(make_curve("loss", [0.7])).sketch == [0.7]


def test_report_has_one_summary_per_curve_in_order(make_history: MakeHistory) -> None:
    report = run(make_history(loss=[1.0, 0.5], val_loss=[1.2, 0.9], lr=[0.1, 0.1]))
    assert [c.name for c in report.curves] == ["loss", "val_loss", "lr"]


# -- the Python API --------------------------------------------------------------------------
OVERFIT = {
    "loss": [1 / e**0.5 for e in range(1, 31)],
    "val_loss": [0.4 + 0.002 * (e - 14) ** 2 for e in range(1, 31)],
}


def test_diagnose_a_keras_history_dict() -> None:
    report = diagnose(OVERFIT)
    assert "overfitting" in rules(report)
    assert report.error is None
    assert report.schema_version == SCHEMA_VERSION


def test_diagnose_applies_select_and_params() -> None:
    assert diagnose(OVERFIT, select=["CD3"]).findings == []
    # A rise threshold above the actual rise silences the rule.
    assert "overfitting" not in rules(diagnose(OVERFIT, params={"overfitting.min_rise": 5.0}))


def test_diagnose_raises_config_error_on_bad_params() -> None:
    with pytest.raises(ConfigError):
        diagnose(OVERFIT, params={"overfitting.nope": 1})


def test_diagnose_ignores_project_config_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.curvedoc]\nignore = ["overfitting"]\n')
    monkeypatch.chdir(tmp_path)
    assert "overfitting" in rules(diagnose(OVERFIT))
    assert "overfitting" not in rules(diagnose(OVERFIT, config="auto"))


def test_diagnose_path_turns_unreadable_input_into_an_error_report(
    tmp_path: Path, default_settings: Settings
) -> None:
    missing = tmp_path / "nope.csv"
    report = diagnose_path(missing, default_settings)
    assert report.source == str(missing)
    assert report.error
    assert report.findings == []
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\x01{{{ not a log")
    report = diagnose_path(garbage, default_settings)
    assert report.error
    assert report.findings == []


def test_diagnose_path_reads_a_real_file(tmp_path: Path, default_settings: Settings) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps(OVERFIT))
    report = diagnose_path(path, default_settings)
    assert report.error is None
    assert "overfitting" in rules(report)
