"""Unit tests per detector on controlled curves: each pathology fires, and its healthy look-alike
(noise, warmup, step decay, cosine tail) does not."""

from __future__ import annotations

import numpy as np
import pytest

from curvedoc import engine
from curvedoc.model import Curve, History, Report
from curvedoc.packs import resolve_settings

SETTINGS = resolve_settings(config=None)
RNG = np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _fresh_rng() -> None:
    """Every test draws the same noise whatever ran before it (order-independent results)."""
    global RNG
    RNG = np.random.default_rng(1234)


def curve(
    name: str, role: str, y: object, x: object = None, unit: str = "epoch", direction: str = "min"
) -> Curve:
    ya = np.asarray(y, dtype=float)
    xa = np.arange(1, ya.size + 1, dtype=float) if x is None else np.asarray(x, dtype=float)
    split = "val" if role.startswith("val") else "train"
    return Curve(name, role, split, xa, ya, unit, direction)


def diagnose(*curves: Curve, meta: dict[str, object] | None = None) -> Report:
    return engine.run(History("test", "test", tuple(curves), dict(meta or {})), SETTINGS)


def rules(report: Report) -> set[str]:
    return {f.rule for f in report.findings}


def finding(report: Report, rule: str):  # type: ignore[no-untyped-def]
    return next(f for f in report.findings if f.rule == rule)


STEPS = np.arange(3000, dtype=float)


def noisy_decay(n: int = 3000, noise: float = 0.1, floor: float = 0.3) -> np.ndarray:
    s = np.arange(n)
    return (2.0 * np.exp(-s / (n / 6)) + floor) * np.exp(RNG.normal(0, noise, n))


def cosine_with_warmup(n: int = 3000, peak: float = 1e-3, warm: int = 300) -> np.ndarray:
    s = np.arange(n)
    return np.where(
        s < warm, peak * (s + 1) / warm, peak * 0.5 * (1 + np.cos(np.pi * (s - warm) / (n - warm)))
    )


# -- healthy runs come back clean ------------------------------------------------------------
def test_healthy_epoch_run_is_clean() -> None:
    e = np.arange(1, 31)
    r = diagnose(
        curve("loss", "train_loss", 0.2 + np.exp(-e / 4)),
        curve("val_loss", "val_loss", 0.3 + np.exp(-e / 4)),
    )
    assert r.findings == []


def test_still_falling_run_is_not_converged_with_a_projection() -> None:
    e = np.arange(1, 31)
    val = 0.2 + np.exp(-e / 15)
    r = diagnose(curve("loss", "train_loss", val - 0.05), curve("val_loss", "val_loss", val))
    f = finding(r, "not-converged")
    assert f.evidence["asymptote"] == pytest.approx(0.2, rel=0.02)
    # exp(-e/15) falls to 1% of 0.2 at e = 15 ln(500) = 93: about 63 more epochs.
    assert 50 <= float(f.evidence["extra"] or 0) <= 75
    assert any(a.param == "epochs" and a.action == "increase" for a in f.advice)


@pytest.mark.parametrize(("scale", "fires"), [(1.0, False), (100.0, True)])
def test_a_loss_in_its_last_digits_is_not_worth_more_training(scale: float, fires: bool) -> None:
    """A cross-entropy that fell from 1.57 to 0.0007 (a real classifier at accuracy 1.0) still
    halves every few evaluations; the same curve stopped a hundred times higher, at 0.07, has
    more to give. Only the second is not-converged (or slow)."""
    s = np.arange(10, 430, 10, dtype=float)
    falling = 1.57 * np.exp(-(s - 10) / 30)
    val = np.maximum(falling, 0.0007 * scale * np.exp(-(s - 420) / 120))
    r = diagnose(
        curve("loss", "train_loss", 1.3 * val, s, "step"),
        curve("eval_loss", "val_loss", val, s, "step"),
    )
    assert bool(rules(r) & {"not-converged", "slow-convergence"}) is fires


def test_noisy_step_run_with_warmup_and_cosine_is_clean() -> None:
    loss = noisy_decay()
    # A warmup bump: the loss rises a little while the LR ramps up.
    loss[:150] *= np.linspace(1.0, 1.4, 150)
    r = diagnose(
        curve("loss", "train_loss", loss, STEPS, "step"),
        curve("learning_rate", "lr", cosine_with_warmup(), STEPS, "step"),
    )
    assert r.findings == []


def test_step_decay_without_lr_curve_is_clean() -> None:
    s = np.arange(3000)
    level = np.where(s < 1000, 1.0, np.where(s < 2000, 0.5, 0.3))
    loss = level * np.exp(RNG.normal(0, 0.05, s.size))
    assert diagnose(curve("loss", "train_loss", loss, s, "step")).findings == []


def test_step_decay_with_lr_curve_is_clean() -> None:
    e = np.arange(1, 61)
    lr = np.where(e <= 20, 0.1, np.where(e <= 40, 0.01, 0.001))
    loss = np.where(e <= 20, 1.0 + 1 / e, np.where(e <= 40, 0.45 + 0.2 / e, 0.3 + 0.1 / e))
    r = diagnose(curve("loss", "train_loss", loss), curve("lr", "lr", lr))
    assert r.findings == []


# -- non-finite ------------------------------------------------------------------------------
def test_non_finite_reports_first_nan_and_last_finite_value() -> None:
    y = [1.0, 0.8, 0.7, 5.0, np.nan, np.nan]
    r = diagnose(curve("loss", "train_loss", y))
    f = finding(r, "non-finite")
    assert f.severity == "error"
    assert f.evidence["first_x"] == 5.0
    assert f.evidence["last_finite_value"] == 5.0
    assert f.evidence["count"] == 2
    assert f.evidence["recovered"] is False
    assert "epoch 5" in f.message


def test_isolated_amp_grad_norm_overflow_is_tolerated() -> None:
    gn = np.exp(RNG.normal(0, 0.2, 400))
    gn[[3, 170]] = np.inf
    loss = noisy_decay(400)
    r = diagnose(
        curve("loss", "train_loss", loss, np.arange(400), "step"),
        curve("grad_norm", "grad_norm", gn, np.arange(400), "step"),
    )
    assert "non-finite" not in rules(r)


# -- overfitting -----------------------------------------------------------------------------
def test_overfitting_reports_best_epoch_and_drift() -> None:
    e = np.arange(1, 31)
    r = diagnose(
        curve("loss", "train_loss", 1 / e**0.5),
        curve("val_loss", "val_loss", 0.4 + 0.002 * (e - 14) ** 2),
    )
    f = finding(r, "overfitting")
    assert f.evidence["best_x"] == 14.0
    assert f.evidence["best_value"] == pytest.approx(0.4)
    assert float(f.evidence["rise_pct"] or 0) > 50
    assert any(a.param == "early_stopping" and a.value == 14.0 for a in f.advice)


def test_noisy_flat_validation_is_not_overfitting() -> None:
    e = np.arange(1, 41)
    val = 0.5 + RNG.normal(0, 0.03, e.size)
    r = diagnose(curve("loss", "train_loss", 1 / e**0.5), curve("val_loss", "val_loss", val))
    assert "overfitting" not in rules(r)


def test_validation_rising_with_training_is_not_overfitting() -> None:
    e = np.arange(1, 21)
    y = 0.5 + 0.01 * (e - 8) ** 2
    r = diagnose(curve("loss", "train_loss", y), curve("val_loss", "val_loss", y + 0.1))
    assert "overfitting" not in rules(r)


# -- divergence ------------------------------------------------------------------------------
def test_divergence_quotes_learning_rate_and_best_checkpoint() -> None:
    loss = noisy_decay()
    loss[1500:] = loss[1500] * np.exp((STEPS[1500:] - 1500) / 400)
    r = diagnose(curve("loss", "train_loss", loss, STEPS, "step"), meta={"learning_rate": 3e-3})
    f = finding(r, "divergence")
    assert f.severity == "error"
    assert 1300 <= float(f.evidence["best_x"] or 0) <= 1600
    lr_advice = next(a for a in f.advice if a.param == "learning_rate")
    assert lr_advice.action == "decrease"
    assert lr_advice.value == pytest.approx(9e-4)
    assert "0.003" in lr_advice.text


def test_monotone_rise_from_start_is_divergence() -> None:
    y = [0.997, 4.35, 8.81, 13.5, 17.0, 20.1, 23.4, 26.0, 27.9, 29.56]
    assert "divergence" in rules(
        diagnose(curve("loss", "train_loss", y, np.arange(10, 110, 10), "step"))
    )


def test_single_spike_is_not_divergence() -> None:
    loss = noisy_decay()
    loss[2990] *= 10
    assert "divergence" not in rules(diagnose(curve("loss", "train_loss", loss, STEPS, "step")))


# -- gradient explosion ----------------------------------------------------------------------
def test_grad_norm_spikes_give_clip_value_near_p90() -> None:
    gn = np.exp(RNG.normal(0, 0.2, 3000))
    gn[[1000, 2100]] *= 30
    loss = noisy_decay()
    loss[[1001, 2101]] *= 4  # the updates threw the weights off: the next batches show it
    r = diagnose(
        curve("loss", "train_loss", loss, STEPS, "step"),
        curve("grad_norm", "grad_norm", gn, STEPS, "step"),
    )
    f = finding(r, "gradient-explosion")
    assert f.evidence["spikes"] == 2
    p90 = float(np.percentile(np.delete(gn, [1000, 2100]), 90))
    assert float(f.evidence["clip_value"] or 0) == pytest.approx(p90, rel=0.06)
    assert any(a.param == "grad_clip" and a.value is not None for a in f.advice)


def test_a_norm_spike_the_loss_did_not_feel_is_not_reported() -> None:
    """GPT-2 pre-training logs (llm.c, nanoGPT) show grad-norm spikes 4-15x the running level
    that leave the loss within 3.4 robust sd of its level: clipping absorbed them. Where the
    loss is logged only every 500 steps, nothing tells, and the spike stands."""
    gn = np.exp(RNG.normal(0, 0.2, 3000))
    gn[[1000, 2100]] *= 30
    loss = noisy_decay()
    dense = diagnose(
        curve("loss", "train_loss", loss, STEPS, "step"),
        curve("grad_norm", "grad_norm", gn, STEPS, "step"),
    )
    assert "gradient-explosion" not in rules(dense)
    sparse = diagnose(
        curve("loss", "train_loss", loss[::500], STEPS[::500], "step"),
        curve("grad_norm", "grad_norm", gn, STEPS, "step"),
    )
    assert "gradient-explosion" in rules(sparse)


def test_loss_spikes_are_found_without_grad_norm() -> None:
    loss = noisy_decay()
    loss[[700, 1800, 2600]] *= 6
    f = finding(diagnose(curve("loss", "train_loss", loss, STEPS, "step")), "gradient-explosion")
    assert f.evidence["spikes"] == 3
    assert f.evidence["source"] == "loss"


def test_minibatch_noise_is_not_a_spike() -> None:
    loss = noisy_decay(noise=0.25)
    assert diagnose(curve("loss", "train_loss", loss, STEPS, "step")).findings == []


def test_spike_during_warmup_is_ignored() -> None:
    loss = noisy_decay()
    loss[100] *= 6
    r = diagnose(
        curve("loss", "train_loss", loss, STEPS, "step"),
        curve("learning_rate", "lr", cosine_with_warmup(), STEPS, "step"),
    )
    assert "gradient-explosion" not in rules(r)


# -- plateau ---------------------------------------------------------------------------------
def test_mid_run_stall_then_gradual_escape_is_a_plateau() -> None:
    y = np.concatenate(
        [
            np.linspace(3, 2, 5),
            np.full(8, 2.0) + RNG.normal(0, 0.004, 8),
            np.linspace(1.95, 1.0, 12),
        ]
    )
    f = finding(diagnose(curve("loss", "train_loss", y)), "plateau")
    assert 4 <= float(f.evidence["start_x"] or 0) <= 6
    assert 12 <= float(f.evidence["end_x"] or 0) <= 14


def test_flat_end_is_convergence_not_plateau() -> None:
    y = np.concatenate([np.linspace(3, 1, 10), np.full(20, 1.0)])
    assert "plateau" not in rules(diagnose(curve("loss", "train_loss", y)))


def test_maximised_metric_direction_is_respected() -> None:
    # A validation accuracy that climbs: orientation must not turn it into a divergence.
    e = np.arange(1, 31)
    r = diagnose(
        curve("loss", "train_loss", 0.2 + np.exp(-e / 4)),
        curve("accuracy", "val_metric", 0.9 - 0.5 * np.exp(-e / 4), direction="max"),
    )
    assert r.findings == []


# -- underfitting ----------------------------------------------------------------------------
def test_underfitting_at_chance_names_the_number_of_classes() -> None:
    e = np.arange(1, 21)
    train = np.log(10) * (1.02 - 0.02 * (1 - np.exp(-e / 3)))  # 2.35 → ln 10 and flat
    val = np.full(e.size, np.log(10)) * 1.001
    f = finding(
        diagnose(curve("loss", "train_loss", train), curve("val_loss", "val_loss", val)),
        "underfitting",
    )
    assert f.evidence["classes"] == 10
    assert f.confidence == "high"
    assert any(a.param == "data" for a in f.advice)


def test_underfitting_needs_train_and_val_together() -> None:
    e = np.arange(1, 21)
    train = 1.0 - 0.05 * (1 - np.exp(-e / 3))  # barely learned, flat
    r = diagnose(curve("loss", "train_loss", train), curve("val_loss", "val_loss", train * 1.6))
    assert "underfitting" not in rules(r)  # a large gap is not a capacity problem


def test_a_well_trained_model_is_not_underfitting() -> None:
    e = np.arange(1, 31)
    y = 0.2 + np.exp(-e / 4)
    assert "underfitting" not in rules(diagnose(curve("loss", "train_loss", y)))


def _inflated_start_run(acc_level: float) -> tuple[Curve, ...]:
    """A loss whose first epoch is inflated (an L2 penalty on fresh weights), then flat."""
    e = np.arange(30)
    zigzag = np.sin(2.5 * e)  # bouncing without a trend
    loss = 1.25 + 7.0 * np.exp(-3.0 * e) + 0.03 * zigzag  # not a chance level
    acc = acc_level - 0.4 * np.exp(-e) + 0.015 * zigzag
    return (
        curve("loss", "train_loss", loss, e),
        curve("val_loss", "val_loss", loss * 1.04, e),
        curve("accuracy", "train_metric", np.clip(acc, 0, 1), e, direction="max"),
        curve("val_accuracy", "val_metric", np.clip(acc - 0.03, 0, 1), e, direction="max"),
    )


def test_training_accuracy_stuck_low_is_underfitting_despite_an_inflated_start() -> None:
    f = finding(diagnose(*_inflated_start_run(0.8)), "underfitting")
    assert f.evidence["accuracy_curve"] == "accuracy"
    assert 0.75 < float(f.evidence["train_accuracy"] or 0) < 0.85
    assert "accuracy" in f.curves


def test_training_accuracy_near_perfect_with_an_inflated_start_is_not_underfitting() -> None:
    assert "underfitting" not in rules(diagnose(*_inflated_start_run(0.99)))


def test_rising_training_accuracy_is_not_stuck() -> None:
    e = np.arange(30)
    loss = 1.1 + 7.0 * np.exp(-3.0 * e) + RNG.normal(0, 0.03, e.size)
    acc = 0.3 + 0.015 * e  # still climbing, whatever the loss does
    r = diagnose(
        curve("loss", "train_loss", loss, e),
        curve("val_loss", "val_loss", loss, e),
        curve("accuracy", "train_metric", acc, e, direction="max"),
    )
    assert "underfitting" not in rules(r)


def _pinn_terms(n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A physics-informed network's three loss terms as Lightning logs them (rounded), where the
    optimiser trades the first initial-condition term for the others."""
    s = np.arange(49, 49 + 50 * n, 50, dtype=float)
    t = np.arange(n)
    noise = RNG.normal(0, 0.004, (3, n))
    dynamics = 0.31 + 0.16 * np.exp(-t / 20) + noise[0]
    omega = 0.15 - 0.11 * np.exp(-t / 15) + noise[1]  # rises from 0.04 to 0.15, and stays
    theta = 0.16 + 0.24 * np.exp(-t / 15) + noise[2] - 0.0001 * t  # still creeping down ...
    dynamics += 0.0001 * t  # ... as fast as this term gives back
    return s, dynamics, omega, theta


def test_a_term_that_rises_while_its_logged_sum_falls_is_not_a_divergence() -> None:
    s, dynamics, omega, theta = _pinn_terms()
    terms = (
        curve("dynamics_loss_step", "train_loss", dynamics, s, "step"),
        curve("initial_omega_loss_step", "train_loss", omega, s, "step"),
        curve("initial_theta_loss_step", "train_loss", theta, s, "step"),
    )
    total = np.round(dynamics + omega + theta, 6)
    r = diagnose(*terms, curve("train_loss_step", "train_loss", total, s, "step"))
    assert "divergence" not in rules(r)
    # no rule about a training loss judges a term: slow-convergence, underfitting, ... read the sum
    assert not {f.curves[0] for f in r.findings} & {t.name for t in terms}
    # Without the sum nothing says the rise is a trade-off: the term is judged on its own.
    assert "divergence" in rules(diagnose(*terms))
    # And a sum that climbs away is still a divergence.
    climbing = total + np.where(np.arange(s.size) > 200, 0.002 * (np.arange(s.size) - 200), 0)
    terms_up = (
        *terms[:2],
        curve("initial_theta_loss_step", "train_loss", theta + climbing - total, s, "step"),
    )
    r = diagnose(*terms_up, curve("train_loss_step", "train_loss", climbing, s, "step"))
    assert finding(r, "divergence").curves[0] == "train_loss_step"


def test_underfitting_of_a_loss_that_ended_above_its_start_says_worse() -> None:
    """A real preference-tuning loss went from 2.44 to 2.81 and stayed: '(-15% better)'."""
    e = np.arange(1, 41, dtype=float)
    loss = 2.44 + 0.37 * (1 - np.exp(-e / 4)) + RNG.normal(0, 0.01, e.size)
    f = finding(diagnose(curve("loss", "train_loss", loss, e)), "underfitting")
    assert "worse)" in f.message
    assert "-" not in f.message.split("(")[1].split(")")[0]


def test_underfitting_supersedes_a_plateau_on_the_same_curve() -> None:
    """A run that barely learned (a real eye-state CNN sat at ln 2, then drifted 4% lower) has
    no stall-then-escape worth its own finding: the 'escape' is a share of almost nothing."""
    from curvedoc.context import Context
    from curvedoc.detectors.base import Observation

    def seen(subject: str) -> Observation:
        return Observation((subject,), 10.0, 16.0, "epoch", "", "medium")

    ctx = Context(History("test", "test", (), {}))
    kept = engine._supersede(
        [("underfitting", seen("loss")), ("plateau", seen("loss")), ("plateau", seen("aux"))], ctx
    )
    assert [(rule, o.subject_curve) for rule, o in kept] == [
        ("underfitting", "loss"),
        ("plateau", "aux"),
    ]


def test_a_steady_noisy_decline_is_not_a_plateau() -> None:
    """Shaped like a real YOLO box loss: a fast first epoch, then an even decline of 0.0055 per
    epoch under noise of 0.015. Somewhere it looks flat for ten epochs by chance (the stall is
    picked among many stretches); the points after it fall no faster than inside it. Over 100
    such runs the slope test leaves at most one of the ~5 false plateaus."""
    e = np.arange(1, 56, dtype=float)
    loose = resolve_settings(config=None, set_params={"plateau.stall_z": 0})
    fired = {"default": 0, "without the test": 0}
    for _ in range(100):
        y = 1.25 - 0.0055 * e + 0.6 * np.exp(-(e - 1) / 0.7) + RNG.normal(0, 0.015, e.size)
        history = History("test", "test", (curve("train/box_loss", "train_loss", y, e),), {})
        for name, settings in (("default", SETTINGS), ("without the test", loose)):
            fired[name] += "plateau" in rules(engine.run(history, settings))
    assert fired["default"] <= 1
    assert fired["without the test"] >= 3


def test_a_multi_epoch_fine_tunes_staircase_is_not_a_plateau() -> None:
    """Shaped like a real instruction-tuning log (3 epochs of 406 steps, a point per step):
    flat within each epoch, a drop where the next begins and the model sees its examples
    again. Knowing the epochs, that is a staircase; without them, it reads as a stall and an
    escape."""
    s = np.arange(1, 1219, dtype=float)
    level = np.select([s < 406, s < 812], [1.07, 0.72], 0.41) + 0.4 * np.exp(-s / 10)
    fired = {"epochs known": 0, "epochs unknown": 0}
    for _ in range(10):
        y = curve("loss", "train_loss", level * np.exp(RNG.normal(0, 0.03, s.size)), s, "step")
        fired["epochs known"] += "plateau" in rules(diagnose(y, meta={"steps_per_epoch": 406}))
        fired["epochs unknown"] += "plateau" in rules(diagnose(y))
    assert fired["epochs known"] == 0
    assert fired["epochs unknown"] >= 3


@pytest.mark.parametrize(
    ("g_name", "d_name"),
    [
        ("generator_loss", "critic_loss"),
        ("g_loss", "d_loss"),
        ("loss_G", "loss_D"),
        ("errG", "errD"),
    ],
)
def test_a_gans_two_losses_are_not_judged_as_one_minimised_loss(g_name: str, d_name: str) -> None:
    """A GAN's generator loss climbing while its discriminator's falls (a real WGAN's critic
    loss crept from -2e-5 to -1e-7 and was called a divergence) is the game, not a diverging
    run; the same climb on a plain training loss is a divergence."""
    s = np.arange(0, 3000, 10, dtype=float)
    g = 0.5 + 1.5 * (s / s[-1]) ** 2 + RNG.normal(0, 0.05, s.size)
    d = 1.2 - 0.8 * (s / s[-1]) + RNG.normal(0, 0.05, s.size)
    r = diagnose(
        curve(g_name, "train_loss", g, s, "step"), curve(d_name, "train_loss", d, s, "step")
    )
    assert not rules(r) & {"divergence", "plateau", "underfitting", "not-converged"}
    assert "divergence" in rules(diagnose(curve("loss", "train_loss", g, s, "step")))


# -- overconfidence --------------------------------------------------------------------------
def test_val_loss_up_with_accuracy_up_is_overconfidence_not_overfitting() -> None:
    e = np.arange(1, 31)
    r = diagnose(
        curve("loss", "train_loss", 0.05 + np.exp(-e / 5)),
        curve("val_loss", "val_loss", 0.4 + 0.002 * (e - 10) ** 2),
        curve("val_accuracy", "val_metric", 0.95 - 0.3 * np.exp(-e / 6), direction="max"),
    )
    assert "overconfidence" in rules(r)
    assert "overfitting" not in rules(r)
    f = finding(r, "overconfidence")
    assert f.evidence["metric"] == "val_accuracy"
    assert float(f.evidence["metric_final"] or 0) > float(f.evidence["metric_at_best"] or 1)


def test_val_loss_up_with_accuracy_down_stays_overfitting() -> None:
    e = np.arange(1, 31)
    r = diagnose(
        curve("loss", "train_loss", 0.05 + np.exp(-e / 5)),
        curve("val_loss", "val_loss", 0.4 + 0.002 * (e - 10) ** 2),
        curve("val_accuracy", "val_metric", 0.9 - 0.001 * (e - 10) ** 2, direction="max"),
    )
    assert "overfitting" in rules(r)
    assert "overconfidence" not in rules(r)


def test_overconfidence_needs_every_metric_of_the_loss_not_worse() -> None:
    """Precision up while recall falls (a detector trading one for the other): the model is not
    "not worse", so the rise stays overfitting."""
    e = np.arange(1, 31)
    r = diagnose(
        curve("loss", "train_loss", 0.05 + np.exp(-e / 5)),
        curve("val_loss", "val_loss", 0.4 + 0.002 * (e - 10) ** 2),
        curve("precision", "val_metric", 0.95 - 0.3 * np.exp(-e / 6), direction="max"),
        curve("recall", "val_metric", 0.9 - 0.001 * (e - 10) ** 2, direction="max"),
    )
    assert "overconfidence" not in rules(r)
    assert "overfitting" in rules(r)


def test_overconfidence_reads_the_metrics_of_the_same_model_or_phase() -> None:
    """A Keras history of two phases: the fine-tuning loss rises; the first phase's accuracy,
    also numbered by epoch, is no evidence about it."""
    e = np.arange(1, 31)
    rising = 0.4 + 0.002 * (e - 10) ** 2
    improving = 0.95 - 0.3 * np.exp(-e / 6)
    falling = 0.9 - 0.001 * (e - 10) ** 2
    r = diagnose(
        curve("fine_tune_loss", "train_loss", 0.05 + np.exp(-e / 5)),
        curve("fine_tune_val_loss", "val_loss", rising),
        curve("val_accuracy", "val_metric", improving, direction="max"),
        curve("fine_tune_val_accuracy", "val_metric", falling, direction="max"),
    )
    assert "overconfidence" not in rules(r)
    r = diagnose(
        curve("fine_tune_loss", "train_loss", 0.05 + np.exp(-e / 5)),
        curve("fine_tune_val_loss", "val_loss", rising),
        curve("val_accuracy", "val_metric", falling, direction="max"),
        curve("fine_tune_val_accuracy", "val_metric", improving, direction="max"),
    )
    assert finding(r, "overconfidence").evidence["metric"] == "fine_tune_val_accuracy"


def test_no_claim_rests_on_a_metric_whose_direction_is_a_guess() -> None:
    """A real MLflow run logs balanced accuracy as ``validation_bas``: nothing in the name says
    higher is better, so it is read as lower-is-better, and its fall read as "kept improving".
    A guessed direction is no evidence: overconfidence does not use it, and a value of 0 at
    every evaluation is not taken for the best possible one."""
    e = np.arange(1, 31)
    rising = 0.4 + 0.002 * (e - 10) ** 2
    falling = 0.23 - 0.002 * e
    guessed = Curve(
        "validation_bas", "val_metric", "val", e.astype(float), falling, "epoch", "min", False
    )
    r = diagnose(
        curve("loss", "train_loss", 0.05 + np.exp(-e / 5)),
        curve("val_loss", "val_loss", rising),
        guessed,
    )
    assert "overconfidence" not in rules(r)
    assert "overfitting" in rules(r)
    stuck = Curve(
        "val_xyz", "val_metric", "val", e.astype(float), np.zeros(e.size), "epoch", "min", False
    )
    assert "frozen" in rules(
        diagnose(curve("loss", "train_loss", 0.7 + 0.5 * np.exp(-e / 3)), stuck)
    )


def test_overconfidence_quotes_the_metrics_best_since_the_losss_best() -> None:
    """An accuracy that peaked early (a model predicting the majority class) and recovers after
    the loss's best: the best quoted is the one of the stretch the finding is about."""
    e = np.arange(1, 31)
    acc = 0.95 - 0.3 * np.exp(-e / 6)
    acc[0] = 0.99
    r = diagnose(
        curve("loss", "train_loss", 0.05 + np.exp(-e / 5)),
        curve("val_loss", "val_loss", 0.4 + 0.002 * (e - 10) ** 2),
        curve("val_accuracy", "val_metric", acc, direction="max"),
    )
    f = finding(r, "overconfidence")
    assert float(f.evidence["metric_best_x"] or 0) >= float(f.evidence["best_x"] or 0)
    assert "0.99" not in f.message


# -- val-better-than-train -------------------------------------------------------------------
def test_validation_far_below_training_is_reported_as_a_unit_mismatch() -> None:
    e = np.arange(1, 31)
    train = 800 * (0.6 + 0.4 * np.exp(-e / 8))  # a per-epoch *sum*
    val = 1.7 * (0.6 + 0.4 * np.exp(-e / 8))  # a mean
    f = finding(
        diagnose(curve("loss", "train_loss", train), curve("val_loss", "val_loss", val)),
        "val-better-than-train",
    )
    assert f.severity == "info"
    assert "sum vs mean" in f.message
    assert float(f.evidence["ratio"] or 1) < 0.01


def test_dropout_sized_gap_is_not_reported() -> None:
    e = np.arange(1, 31)
    train = 0.3 + np.exp(-e / 4)
    r = diagnose(curve("loss", "train_loss", train), curve("val_loss", "val_loss", train * 0.85))
    assert "val-better-than-train" not in rules(r)


# -- warmup instability ----------------------------------------------------------------------
def test_early_blow_up_without_warmup_suggests_a_warmup() -> None:
    loss = noisy_decay(noise=0.05)
    loss[20:120] *= np.concatenate([np.linspace(1, 2.5, 50), np.linspace(2.5, 1, 50)])
    f = finding(diagnose(curve("loss", "train_loss", loss, STEPS, "step")), "warmup-instability")
    assert 50 <= float(f.evidence["peak_x"] or 0) <= 90
    assert any(a.param == "warmup_steps" and a.value for a in f.advice)


def test_drift_of_smoothed_minibatch_noise_is_not_a_blow_up() -> None:
    # Flat per-batch losses of an imbalanced classifier: single batches range 0.2-0.45, and a
    # rolling median of a handful of them wanders by 30% at the start by chance alone.
    steps = np.arange(9, 1300, 10, dtype=float)
    loss = 0.34 + RNG.normal(0, 0.07, steps.size)
    loss[:13] = [0.24, 0.26, 0.30, 0.31, 0.45, 0.27, 0.41, 0.41, 0.35, 0.44, 0.21, 0.44, 0.27]
    r = diagnose(curve("train_loss_step", "train_loss", loss, steps, "step"))
    assert "warmup-instability" not in rules(r)


def test_early_bump_with_a_logged_warmup_is_not_reported() -> None:
    loss = noisy_decay(noise=0.05)
    loss[20:120] *= np.concatenate([np.linspace(1, 2.5, 50), np.linspace(2.5, 1, 50)])
    r = diagnose(
        curve("loss", "train_loss", loss, STEPS, "step"),
        curve("learning_rate", "lr", cosine_with_warmup(), STEPS, "step"),
    )
    assert "warmup-instability" not in rules(r)


# -- frozen ----------------------------------------------------------------------------------
def test_constant_validation_accuracy_is_frozen() -> None:
    acc = np.full(19, 0.5268)
    acc[14] = 0.4765
    e = np.arange(1, 20)
    r = diagnose(
        curve("loss", "train_loss", 0.7 + 0.02 * np.exp(-e / 3)),
        curve("val_accuracy", "val_metric", acc, direction="max"),
    )
    f = finding(r, "frozen")
    assert f.evidence["value"] == pytest.approx(0.5268)
    assert f.evidence["points"] == 18


@pytest.mark.parametrize(
    ("name", "value", "direction", "fires"),
    [
        ("metrics/recall(B)", 1.0, "max", False),  # a YOLOv10 run: every object found, each epoch
        ("val_accuracy", 100.0, "max", False),
        ("eval_wer", 0.0, "min", False),
        ("val_accuracy", 0.5, "max", True),  # chance: the model predicts one class
        ("eval_wer", 1.0, "min", True),  # a WER of 1.0 is its worst, not its best
    ],
)
def test_a_metric_pinned_at_its_best_possible_value_is_not_frozen(
    name: str, value: float, direction: str, fires: bool
) -> None:
    e = np.arange(1, 11)
    r = diagnose(
        curve("loss", "train_loss", 0.7 + 0.5 * np.exp(-e / 3)),
        curve(name, "val_metric", np.full(10, value), direction=direction),
    )
    assert ("frozen" in rules(r)) is fires


def test_a_loss_term_zero_throughout_beside_moving_losses_is_not_frozen() -> None:
    """YOLOv5 with one class logs its class loss as 0 at every epoch, train and val: a term the
    model does not use. A run's only loss stuck at 0 is still frozen (a real SFT log: 0.0 at
    every step, its gradient norm NaN)."""
    e = np.arange(0, 50, dtype=float)
    box = 0.1 * np.exp(-e / 20) + 0.03
    zero = np.zeros(e.size)
    r = diagnose(
        curve("train/box_loss", "train_loss", box, e),
        curve("train/cls_loss", "train_loss", zero, e),
        curve("val/box_loss", "val_loss", box * 1.1, e),
        curve("val/cls_loss", "val_loss", zero, e),
    )
    assert "frozen" not in rules(r)
    assert "frozen" in rules(diagnose(curve("loss", "train_loss", zero, e)))


def test_a_loss_converged_to_printed_zero_is_not_frozen() -> None:
    y = np.concatenate([np.linspace(2.0, 0.001, 20), np.full(30, 0.0001)])
    assert "frozen" not in rules(diagnose(curve("loss", "train_loss", y)))


def test_zero_gradient_norm_is_frozen() -> None:
    gn = np.concatenate([np.exp(RNG.normal(0, 0.2, 1500)), np.zeros(1500)])
    r = diagnose(
        curve("loss", "train_loss", noisy_decay(), STEPS, "step"),
        curve("grad_norm", "grad_norm", gn, STEPS, "step"),
    )
    assert "exactly zero" in finding(r, "frozen").message


# -- slow convergence ------------------------------------------------------------------------
def test_steady_crawl_is_slow_convergence_with_an_lr_increase() -> None:
    e = np.arange(1, 41)
    y = 2.3 - 0.006 * e  # a straight, slow line: 10% over the whole run
    f = finding(
        diagnose(curve("loss", "train_loss", y), meta={"learning_rate": 1e-4}), "slow-convergence"
    )
    adv = next(a for a in f.advice if a.param == "learning_rate")
    assert adv.action == "increase"
    assert adv.value == pytest.approx(3e-4)


def test_annealed_schedule_is_not_slow_convergence() -> None:
    e = np.arange(1, 41)
    y = 2.3 - 0.006 * e
    lr = 1e-3 * 0.5 * (1 + np.cos(np.pi * (e - 1) / 39))
    r = diagnose(curve("loss", "train_loss", y), curve("lr", "lr", lr))
    assert "slow-convergence" not in rules(r)


@pytest.mark.parametrize(("peak", "fires"), [(34.0, False), (300.0, True)])
def test_a_heavy_tailed_gradient_norm_has_no_spike_within_its_usual_range(
    peak: float, fires: bool
) -> None:
    """Shaped like a real preference-tuning log, one point per step: the norm falls from ~20
    to ~0.5 on most batches while more and more batches (up to one in three) reach 10-35.
    Another 34 there is its usual upper range, however far above the running median; a 300
    is not."""
    s = np.arange(1, 201, dtype=float)
    low = np.exp(np.linspace(np.log(20), np.log(0.5), s.size) + RNG.normal(0, 0.5, s.size))
    hard = RNG.random(s.size) < np.linspace(0, 0.3, s.size)
    norm = np.where(hard, RNG.uniform(10, 35, s.size), low)
    norm[169:173] = (0.4, peak, 0.5, 0.4)
    loss = 0.7 * np.exp(-s / 60) + 0.02 + RNG.normal(0, 0.01, s.size)
    loss[171] += 0.5  # the loss felt it either way: only the norm's own range decides
    r = diagnose(
        curve("loss", "train_loss", loss, s, "step"),
        curve("grad_norm", "grad_norm", norm, s, "step"),
    )
    fired = "gradient-explosion" in rules(r)
    assert fired is fires
    if fired:
        assert finding(r, "gradient-explosion").evidence["max_spike_value"] == peak


def test_a_grad_norm_logged_as_zero_where_unmeasured_has_no_infinite_spikes() -> None:
    """LLaMA-Factory/DeepSpeed log grad_norm = 0.0 at the steps they measured none (more than
    half of them in a real log); the running median was 0 and every real norm a spike
    "inf× its running level". The zeros are not the norm's level."""
    s = np.arange(10, 3010, 10, dtype=float)
    norm = np.exp(RNG.normal(1.5, 0.3, s.size))
    norm[RNG.random(s.size) < 0.55] = 0.0
    r = diagnose(
        curve("loss", "train_loss", 1.5 * np.exp(-s / 900) + 0.4, s, "step"),
        curve("grad_norm", "grad_norm", norm, s, "step"),
    )
    assert "gradient-explosion" not in rules(r)
    norm[150] = 300.0  # a real spike among them is still one
    r = diagnose(
        curve("loss", "train_loss", 1.5 * np.exp(-s / 900) + 0.4, s, "step"),
        curve("grad_norm", "grad_norm", norm, s, "step"),
    )
    assert "inf" not in finding(r, "gradient-explosion").message


def test_a_loss_whose_batches_often_reach_a_spikes_height_has_no_spike() -> None:
    """A sentiment classifier overfitting at ~0.0005, whose logged batches reach 0.03-0.06 one
    time in five (a real 41-epoch log): a 0.04 among them is its usual upper range, however far
    above the running median. In a loss that stays near its median, the same 0.04 stands out."""
    s = np.arange(10, 2510, 10, dtype=float)
    base = 0.1 * np.exp(-s / 300) + 0.0005
    busy = base * np.exp(RNG.normal(0, 0.3, s.size))
    rough = RNG.random(s.size) < 0.2
    busy[rough] = RNG.uniform(0.03, 0.06, int(rough.sum()))
    busy[200] = 0.042
    assert "gradient-explosion" not in rules(diagnose(curve("loss", "train_loss", busy, s, "step")))
    calm = base * np.exp(RNG.normal(0, 0.1, s.size))
    calm[200] = 0.042
    assert "gradient-explosion" in rules(diagnose(curve("loss", "train_loss", calm, s, "step")))


def test_a_spike_of_a_negative_loss_is_told_as_a_rise_not_a_ratio() -> None:
    """A speech-enhancement loss (negative SI-SDR, about -17) jumping to 0.08 for one step: a
    ratio to a negative level means nothing ("0.0× its running level")."""
    s = np.arange(0, 2000, dtype=float)
    loss = -12 - 5 * (1 - np.exp(-s / 300)) + RNG.normal(0, 0.3, s.size)
    loss[1500] = 0.08
    f = finding(diagnose(curve("loss", "train_loss", loss, s, "step")), "gradient-explosion")
    assert "above its running level of -1" in f.message
    assert "×" not in f.message
    assert float(f.evidence["max_ratio"] or 0) > 1.9


# -- oscillation -----------------------------------------------------------------------------
def test_bouncing_without_progress_is_oscillation() -> None:
    e = np.arange(1, 31)
    y = np.where(e <= 5, 2.3 - 0.14 * e, 1.65 + 0.4 * (-1.0) ** e + RNG.normal(0, 0.05, e.size))
    f = finding(
        diagnose(curve("loss", "train_loss", y), meta={"learning_rate": 0.1}), "oscillation"
    )
    adv = next(a for a in f.advice if a.param == "learning_rate")
    assert adv.action == "decrease"
    assert adv.value == pytest.approx(0.03)
    assert float(f.evidence["turns_pct"] or 0) > 80


@pytest.mark.parametrize(("noise", "fires"), [(0.15, False), (0.35, True)])
def test_batch_noise_of_a_fine_tune_is_not_oscillation(noise: float, fires: bool) -> None:
    """A language-model fine-tune logged every 2 steps: a quick drop, then single batches
    scattered ±15% (1.48 × MAD) around a flat level (a real MetaMath run). That is what batches
    differ by; a bounce twice as large is the learning rate's doing."""
    s = np.arange(2, 258, 2, dtype=float)
    level = 0.57 + 0.16 * np.exp(-(s - 2) / 6)
    y = level * (1 + noise * RNG.standard_normal(s.size))
    r = diagnose(curve("loss", "train_loss", y, s, "step"), meta={"learning_rate": 2e-5})
    assert ("oscillation" in rules(r)) is fires


def test_a_loss_in_its_last_digits_does_not_oscillate() -> None:
    """Epoch means of a Keras loss that fell from 21 to 0.011 (a real QuickDraw run), bouncing
    ±22% of that: a large share of almost nothing. The same bounce is read when the loss is
    judged without min_left."""
    e = np.arange(1, 1001, dtype=float)
    loss = 0.011 + 21 * np.exp(-e / 15)
    loss[500:] *= 1 + 0.3 * np.sign(np.sin(1.7 * e[500:]))
    loss *= np.exp(RNG.normal(0, 0.05, e.size))
    r = diagnose(curve("loss", "train_loss", loss, e))
    assert "oscillation" not in rules(r)
    loose = resolve_settings(config=None, set_params={"oscillation.min_left": 0})
    history = History("test", "test", (curve("loss", "train_loss", loss, e),), {})
    assert "oscillation" in rules(engine.run(history, loose))


def test_bouncing_while_the_schedule_cut_the_rate_is_not_the_rates_doing() -> None:
    """Epoch means swinging without a new best while ReduceLROnPlateau cuts the rate from 1e-3
    to 1.6e-6 (a real GRU run): "lower the learning rate" is what the schedule already did four
    times. At a constant 1e-3 the same swings are oscillation."""
    e = np.arange(1, 25, dtype=float)
    loss = 0.0018 + 0.05 * np.exp(-e / 1.5)
    loss[10:] *= 1 + 0.12 * (-1.0) ** e[10:]
    cut = np.repeat([1e-3, 2e-4, 4e-5, 8e-6, 1.6e-6], [8, 5, 5, 5, 1])
    for lr, fires in ((cut, False), (np.full(e.size, 1e-3), True)):
        r = diagnose(curve("loss", "train_loss", loss, e), curve("learning_rate", "lr", lr, e))
        assert ("oscillation" in rules(r)) is fires


def test_where_a_loss_came_from_is_its_highest_first_point() -> None:
    """A loss that fell 40x within its first three points (0.62, 0.014, 0.01, then 1e-4 and
    bouncing): measured from the median of those three it had come a fiftieth of the way."""
    e = np.arange(1, 61, dtype=float)
    loss = 1e-4 * (1 + 0.6 * np.sign(np.sin(1.7 * e))) * np.exp(RNG.normal(0, 0.05, e.size))
    loss[:3] = (0.62, 0.014, 0.01)
    assert "oscillation" not in rules(diagnose(curve("loss", "train_loss", loss, e)))


#: Epoch means after a fast first drop: swings of up to 30% with no new best (the shape of
#: fixtures/keras-json/oscillation_cls4_sgd_lr1p6_batch16.json).
SWING = np.array(
    [0, 0.13, 0.05, 0.22, 0.12, 0.33, 0.1, 0.02, 0.15, 0.04, 0.18, 0.01, 0.09, 0.27, 0.08, 0]
)


def test_epoch_means_swinging_without_a_new_best_are_oscillation() -> None:
    y = np.concatenate([[2.4, 2.0, 1.3, 1.1], 0.97 + SWING])
    r = diagnose(curve("loss", "train_loss", y), curve("val_loss", "val_loss", y * 1.05))
    f = finding(r, "oscillation")
    assert float(f.evidence["start_x"] or 0) == 11


def test_epoch_means_swinging_on_the_way_down_are_not_oscillation() -> None:
    y = np.concatenate([[2.4, 2.0, 1.3, 1.1], 0.97 + SWING - 0.03 * np.arange(SWING.size)])
    r = diagnose(curve("loss", "train_loss", y), curve("val_loss", "val_loss", y * 1.05))
    assert "oscillation" not in rules(r)


def test_noisy_but_improving_step_run_is_not_oscillation() -> None:
    loss = noisy_decay(noise=0.3)
    assert "oscillation" not in rules(diagnose(curve("loss", "train_loss", loss, STEPS, "step")))


def test_converged_noisy_run_with_large_learning_is_not_oscillation() -> None:
    s = np.arange(3000)
    loss = (2.0 * np.exp(-s / 200) + 0.3) * np.exp(RNG.normal(0, 0.2, s.size))
    assert "oscillation" not in rules(diagnose(curve("loss", "train_loss", loss, s, "step")))


def test_chance_levels_are_only_the_unambiguous_ones() -> None:
    from curvedoc.detectors.underfitting import chance_level

    assert chance_level(0.6931, 0.01) is not None  # ln 2
    assert chance_level(2.3026, 0.01) is not None  # ln 10
    assert chance_level(6.9078, 0.01) is not None  # ln 1000 (ImageNet)
    # For C in the dozens, ln C is within 1% of some loss by chance: not evidence of anything.
    assert chance_level(2.471, 0.01) is None
    assert chance_level(3.0, 0.01) is None
