"""Advice: filling templates from evidence/meta, fallbacks, numbers, and merging across findings."""

from __future__ import annotations

import math
from typing import Any

import pytest

from curvedoc.advice import merge_advice, render_advice
from curvedoc.detectors import DETECTORS
from curvedoc.model import Advice, Finding, Span
from curvedoc.packs import META_KEYS, AdviceTemplate, load_pack

CTX = {"x_unit": "epoch", "curve": "val_loss"}


def render(
    *templates: AdviceTemplate,
    evidence: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    severity: str = "warning",
) -> list[Advice]:
    return render_advice(
        templates,
        rule="overfitting",
        severity=severity,
        evidence=evidence or {},
        meta=meta or {},
        context=CTX,
    )


# -- render_advice ---------------------------------------------------------------------------
def test_fills_placeholders_with_format_specs() -> None:
    t = AdviceTemplate(
        param="early_stopping",
        action="enable",
        text="Keep {x_unit} {best_x:g} ({curve} {best_value:.4g}); "
        "rise {rise_pct:.1f}%, {frac:.0%}",
    )
    [a] = render(
        t, evidence={"best_x": 14.0, "best_value": 0.412345678, "rise_pct": 38.04, "frac": 0.25}
    )
    assert a.text == "Keep epoch 14 (val_loss 0.4123); rise 38.0%, 25%"
    assert (a.param, a.action, a.rule, a.severity) == (
        "early_stopping",
        "enable",
        "overfitting",
        "warning",
    )
    assert a.factor is None
    assert a.value is None


def test_meta_fills_text_when_present() -> None:
    t = AdviceTemplate(
        param="learning_rate",
        action="decrease",
        text="Lower it from {learning_rate:.3g}",
        fallback="Lower it",
    )
    [a] = render(t, meta={"learning_rate": 0.00123456})
    assert a.text == "Lower it from 0.00123"


@pytest.mark.parametrize("meta", [{}, {"learning_rate": None}, {"batch_size": 32}])
def test_fallback_when_meta_value_missing(meta: dict[str, Any]) -> None:
    t = AdviceTemplate(
        param="learning_rate",
        action="decrease",
        text="Lower it from {learning_rate:.3g} at {x_unit} {best_x:g}",
        fallback="Lower it; trouble at {x_unit} {best_x:g}",
    )
    [a] = render(t, evidence={"best_x": 7.0}, meta=meta)
    assert a.text == "Lower it; trouble at epoch 7"


def test_fallback_when_format_spec_does_not_fit_the_value() -> None:
    t = AdviceTemplate(param="x", action="set", text="{learning_rate:.3g}", fallback="plain")
    [a] = render(t, meta={"learning_rate": "3e-4 (from a string)"})
    assert a.text == "plain"


def test_skipped_when_nothing_can_be_filled() -> None:
    no_fallback = AdviceTemplate(param="x", action="set", text="at {best_x:g}")
    bad_fallback = AdviceTemplate(
        param="y", action="set", text="at {learning_rate}", fallback="at {best_x:g}"
    )
    fine = AdviceTemplate(param="z", action="investigate", text="look at {curve}")
    out = render(no_fallback, bad_fallback, fine, evidence={"other": 1.0})
    assert [a.param for a in out] == ["z"]
    assert out[0].text == "look at val_loss"


def test_none_evidence_counts_as_missing() -> None:
    t = AdviceTemplate(param="x", action="set", text="at {best_x:g}", fallback="somewhere")
    [a] = render(t, evidence={"best_x": None})
    assert a.text == "somewhere"


def test_evidence_wins_over_meta() -> None:
    t = AdviceTemplate(
        param="learning_rate", action="decrease", text="{learning_rate:g}", fallback="-"
    )
    [a] = render(t, evidence={"learning_rate": 0.002}, meta={"learning_rate": 0.1})
    assert a.text == "0.002"


def test_literal_braces_survive() -> None:
    t = AdviceTemplate(param="x", action="set", text="set {{max_grad_norm}} to {v:g}")
    [a] = render(t, evidence={"v": 1.0})
    assert a.text == "set {max_grad_norm} to 1"


def test_value_and_factor_from_evidence_keys() -> None:
    t = AdviceTemplate(
        param="learning_rate",
        action="decrease",
        text="x{lr_factor:g} to {suggested_lr:.2g}",
        factor="lr_factor",
        value="suggested_lr",
    )
    [a] = render(t, evidence={"lr_factor": 0.3, "suggested_lr": 3e-4})
    assert a.factor == pytest.approx(0.3)
    assert a.value == pytest.approx(3e-4)
    assert a.text == "x0.3 to 0.0003"


def test_numeric_factor_is_used_as_is() -> None:
    t = AdviceTemplate(param="weight_decay", action="increase", text="more", factor=3.0)
    [a] = render(t)
    assert a.factor == 3.0


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, True, "0.3"])
def test_value_from_missing_or_non_numeric_evidence_is_none(bad: Any) -> None:
    t = AdviceTemplate(
        param="grad_clip", action="set", text="clip", value="clip_value", factor="clip_value"
    )
    evidence = {} if bad is None else {"clip_value": bad}
    [a] = render(t, evidence=evidence)
    assert a.value is None
    assert a.factor is None


def test_value_from_meta_is_kept_with_main_text_and_dropped_with_fallback() -> None:
    t = AdviceTemplate(
        param="learning_rate",
        action="set",
        text="keep {learning_rate:g} for {epochs} epochs",
        fallback="keep the learning rate",
        value="learning_rate",
    )
    [main] = render(t, meta={"learning_rate": 0.01, "epochs": 5})
    assert main.value == 0.01
    [fb] = render(t, meta={"learning_rate": 0.01})  # {epochs} missing → fallback
    assert fb.text == "keep the learning rate"
    assert fb.value is None


def test_template_order_is_kept() -> None:
    ts = [AdviceTemplate(param=p, action="investigate", text=p) for p in ("a", "b", "c")]
    assert [a.param for a in render(*ts)] == ["a", "b", "c"]


# -- the default pack's templates always render ---------------------------------------------
DEFAULT = load_pack("default")


def applicable(templates: Any, evidence: dict[str, Any]) -> list[Any]:
    """The templates a finding with this evidence gets (``when``/``unless`` conditions)."""
    return [
        t
        for t in templates
        if (t.when is None or t.when in evidence) and (t.unless is None or t.unless not in evidence)
    ]


def test_when_and_unless_choose_the_advice() -> None:
    t_when = AdviceTemplate(param="lr", action="increase", text="raised at {k}", when="k")
    t_unless = AdviceTemplate(param="lr_schedule", action="set", text="plain", unless="k")
    with_k = render_advice(
        [t_when, t_unless], rule="r", severity="info", evidence={"k": 3}, meta={}, context=CTX
    )
    without = render_advice(
        [t_when, t_unless], rule="r", severity="info", evidence={}, meta={}, context=CTX
    )
    assert [a.text for a in with_k] == ["raised at 3"]
    assert [a.text for a in without] == ["plain"]


@pytest.mark.parametrize("det", DETECTORS, ids=lambda d: d.name)
def test_default_templates_render_with_only_guaranteed_evidence(det: Any) -> None:
    """Pack validation promises that every template yields advice whatever the log lacks."""
    evidence = dict.fromkeys(det.evidence_keys, 0.5)
    templates = applicable(DEFAULT.rules[det.name].advice, evidence)
    out = render_advice(
        templates, rule=det.name, severity="warning", evidence=evidence, meta={}, context=CTX
    )
    assert len(out) == len(templates)
    for a in out:
        assert "{" not in a.text
        assert "}" not in a.text


@pytest.mark.parametrize("det", DETECTORS, ids=lambda d: d.name)
def test_default_templates_use_main_text_when_everything_is_known(det: Any) -> None:
    keys = (*det.evidence_keys, *det.optional_evidence_keys)
    evidence = dict.fromkeys(keys, 0.5)
    templates = applicable(DEFAULT.rules[det.name].advice, evidence)
    meta = dict.fromkeys(META_KEYS, 0.25)
    out = render_advice(
        templates, rule=det.name, severity="error", evidence=evidence, meta=meta, context=CTX
    )
    assert len(out) == len(templates)
    for t, a in zip(templates, out, strict=True):
        assert a.text != (t.fallback or "").replace("{", "").replace("}", "")
        assert a.severity == "error"
        if t.value is not None:
            assert a.value == 0.5, f"{det.name}: value {t.value!r} not taken from evidence"
        if isinstance(t.factor, str):
            assert a.factor == 0.5
        elif t.factor is not None:
            assert a.factor == t.factor


# -- merge_advice ----------------------------------------------------------------------------
def advice(param: str, action: str, rule: str, severity: str = "warning", text: str = "") -> Advice:
    return Advice(
        text=text or f"{action} {param} ({rule})",
        param=param,
        action=action,
        rule=rule,
        severity=severity,
    )


def finding(
    rule: str, severity: str, *adv: Advice, confidence: str = "medium", start: float = 0.0
) -> Finding:
    return Finding(
        code="CD999",
        rule=rule,
        severity=severity,
        confidence=confidence,
        curves=["loss"],
        span=Span(start=start, end=start + 1, x_unit="epoch"),
        message="m",
        evidence={},
        advice=list(adv),
    )


def test_merge_keeps_one_per_param_and_action_from_the_most_severe() -> None:
    low = finding("plateau", "info", advice("learning_rate", "decrease", "plateau", "info"))
    high = finding(
        "divergence", "error", advice("learning_rate", "decrease", "divergence", "error")
    )
    for order in ((low, high), (high, low)):
        merged, notes = merge_advice(order)
        assert len(merged) == 1
        assert merged[0].rule == "divergence"
        assert notes == []


def test_merge_ties_go_to_confidence_then_order() -> None:
    a = finding(
        "overfitting", "warning", advice("epochs", "decrease", "overfitting"), confidence="low"
    )
    b = finding("plateau", "warning", advice("epochs", "decrease", "plateau"), confidence="high")
    assert merge_advice([a, b])[0][0].rule == "plateau"
    c = finding("divergence", "warning", advice("epochs", "decrease", "divergence"))
    d = finding("plateau", "warning", advice("epochs", "decrease", "plateau"))
    assert merge_advice([c, d])[0][0].rule == "divergence"
    assert merge_advice([d, c])[0][0].rule == "plateau"


def test_merge_ranks_by_severity() -> None:
    f1 = finding("plateau", "info", advice("lr_schedule", "set", "plateau", "info"))
    f2 = finding("overfitting", "warning", advice("weight_decay", "increase", "overfitting"))
    f3 = finding("divergence", "error", advice("grad_clip", "enable", "divergence", "error"))
    merged, _ = merge_advice([f1, f2, f3])
    assert [a.param for a in merged] == ["grad_clip", "weight_decay", "lr_schedule"]


@pytest.mark.parametrize("reverse", [False, True])
def test_conflict_more_severe_finding_wins_and_a_note_says_so(reverse: bool) -> None:
    up = finding("plateau", "warning", advice("learning_rate", "increase", "plateau"))
    down = finding(
        "divergence", "error", advice("learning_rate", "decrease", "divergence", "error")
    )
    merged, notes = merge_advice([down, up] if reverse else [up, down])
    assert [(a.param, a.action, a.rule) for a in merged] == [
        ("learning_rate", "decrease", "divergence")
    ]
    assert len(notes) == 1
    for word in ("learning_rate", "decrease", "increase", "divergence", "plateau"):
        assert word in notes[0]


def test_conflict_enable_disable() -> None:
    on = finding("overfitting", "warning", advice("early_stopping", "enable", "overfitting"))
    off = finding("x", "info", advice("early_stopping", "disable", "x", "info"))
    merged, notes = merge_advice([off, on])
    assert [a.action for a in merged] == ["enable"]
    assert len(notes) == 1


def test_conflict_note_is_not_repeated() -> None:
    down = finding(
        "divergence", "error", advice("learning_rate", "decrease", "divergence", "error")
    )
    up1 = finding("plateau", "warning", advice("learning_rate", "increase", "plateau"), start=1)
    up2 = finding("plateau", "warning", advice("learning_rate", "increase", "plateau"), start=9)
    merged, notes = merge_advice([down, up1, up2])
    assert len(merged) == 1
    assert len(notes) == len(set(notes)) == 1


def test_different_actions_on_one_knob_that_do_not_conflict_are_kept() -> None:
    f = finding(
        "divergence",
        "error",
        advice("learning_rate", "decrease", "divergence", "error"),
        advice("learning_rate", "investigate", "divergence", "error"),
        advice("grad_clip", "enable", "divergence", "error"),
    )
    merged, notes = merge_advice([f])
    assert {(a.param, a.action) for a in merged} == {
        ("learning_rate", "decrease"),
        ("learning_rate", "investigate"),
        ("grad_clip", "enable"),
    }
    assert notes == []


def test_merge_of_nothing() -> None:
    assert merge_advice([]) == ([], [])
    assert merge_advice([finding("plateau", "info")]) == ([], [])


# -- stated hyperparameters and {suggested} ---------------------------------------------------
def test_stated_hparams_fill_advice_and_suggested_value() -> None:
    from curvedoc import diagnose

    hist = {
        "loss": [1.0, 0.7, 0.5, 0.4, 0.33, 0.28, 0.24, 0.21, 0.18, 0.16, 0.14, 0.12],
        "val_loss": [1.0, 0.8, 0.66, 0.6, 0.58, 0.6, 0.63, 0.67, 0.72, 0.78, 0.84, 0.9],
    }
    bare = diagnose(hist)
    stated = diagnose(hist, hparams={"weight_decay": 1e-4})
    wd_bare = next(a for a in bare.advice if a.param == "weight_decay")
    wd = next(a for a in stated.advice if a.param == "weight_decay")
    assert "0.0001" not in wd_bare.text
    assert "from 0.0001 to 0.0003" in wd.text


def test_hparams_parse_and_validate() -> None:
    from curvedoc.errors import ConfigError
    from curvedoc.packs import resolve_settings

    s = resolve_settings(config=None, hparams=["learning_rate=3e-4", "optimizer=adamw"])
    assert s.hparams == {"learning_rate": 3e-4, "optimizer": "adamw"}
    with pytest.raises(ConfigError, match="--hparam"):
        resolve_settings(config=None, hparams=["learning_rate"])
