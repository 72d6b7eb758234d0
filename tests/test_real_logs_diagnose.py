"""Diagnoses of real logs from public projects (``../shared/real-logs``, used in place).

Each row says what the numbers in that log show (read by a person, see SOURCES.md there), which
rules must fire, and which must not. Rules not named are the honest grey zone for that log.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curvedoc import diagnose
from curvedoc.detectors import DETECTORS

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-logs"
ALL = {d.name for d in DETECTORS}

# path: (must fire, must not fire, what the log shows / what curvedoc says about it)
CASES: dict[str, tuple[set[str], set[str], str]] = {
    "hf_trainer_state/qlora_lr5e-3_divergence_100steps.json": (
        {"divergence"},
        ALL - {"divergence"},
        "constant LR 5e-3, loss climbs 0.997 -> 29.6 almost monotonically: divergence (error)",
    ),
    "hf_trainer_state/whisper_small_hi_5000steps.json": (
        {"overconfidence"},
        ALL - {"overconfidence"},
        "eval_loss rises at every eval from 0.307@1000 while eval_wer still improves 34.6 -> "
        "32.1: overconfidence, which replaces plain overfitting; the 4-decimal train-loss "
        "wiggles near 1e-4 are not spikes",
    ),
    "keras_json/tweets_glove_lstm_training_history.json": (
        {"overfitting"},
        ALL - {"overfitting"},
        "val_loss min 0.4651@epoch 6 (1-based) then rises every epoch to 0.5049 while loss "
        "falls; val_accuracy flat, so plain overfitting",
    ),
    "tensorboard_csv/em_cnn": (
        {"overfitting"},
        ALL - {"overfitting"},
        "val loss min 0.2091@12 then 0.224-0.241 while train keeps falling",
    ),
    "mlflow/amh_stt_ctc": (
        {"plateau"},
        ALL - {"plateau", "not-converged"},
        "train CTC loss flat 233-235 for epochs 1-4, then breaks out gradually to 171; val "
        "still creeping down at the end (the fit projects ~1% more: not-converged is grey)",
    ),
    "hf_trainer_state/bert_weibo_rumor_100ep.json": (
        set(),
        ALL,
        "smooth monotone decay with linear LR decay to 0: healthy",
    ),
    "hf_trainer_state/distilbert_lora_imdb_375steps.json": (
        set(),
        ALL,
        "noisy 3-epoch fine-tune; drops at epoch boundaries are the usual multi-epoch pattern",
    ),
    "hf_trainer_state/gemma2_ft_checkpoint-1000_midrun.json": (
        set(),
        ALL,
        "mid-run checkpoint, loss flat after a fast drop: nothing broken",
    ),
    "keras_csv/fer_resnet50_training.log": (
        set(),
        ALL - {"overfitting"},
        "early val spike at epoch 1 then mild, noisy overfitting (best 1.024@10, 1.11-1.13 "
        "@14-15, 1.07@16): below the default evidence bar; a grey zone, not a false alarm",
    ),
    "ultralytics/yolo11_resume_ocr_50ep.csv": (
        set(),
        ALL - {"not-converged"},
        "val losses still falling and mAP still rising at epoch 50, but the linear schedule has "
        "annealed the LR to 3% of its peak, so not-converged stays quiet (grey); the step down "
        "at epoch 41 is Ultralytics' close_mosaic switch, not a plateau escape",
    ),
    "ultralytics/yolov8_fire_smoke_25ep.csv": (
        set(),
        ALL - {"not-converged"},
        "train losses step up at epoch 15 (close_mosaic) and decrease again: a regime change; "
        "noisy validation metrics",
    ),
    "ultralytics/yolov5_river_reading_10ep.csv": (
        {"not-converged"},
        ALL - {"not-converged", "val-better-than-train"},
        "only 10 epochs, every loss still falling: undertrained",
    ),
    "ultralytics/yolov8_basketball_val_cls_spike_10ep.csv": (
        set(),
        ALL - {"overfitting", "not-converged", "val-better-than-train"},
        "a validation-only spike on a tiny val set; train is fine",
    ),
    "keras_csv/aflw2000_landmarks_no_epoch_col_history.csv": (
        {"slow-convergence"},
        ALL - {"slow-convergence", "not-converged"},
        "after epoch 1 the loss creeps 0.00066 -> 0.00049 over 19 epochs: slow convergence",
    ),
    "keras_csv/braincnn_train_only_training.log": (
        set(),
        ALL - {"not-converged"},
        "train-only, flattening with small bumps; the fit still sees ~4% to gain (grey)",
    ),
    "lightning_csv/rl4co_fjspt_reward_plateau.csv": (
        set(),
        ALL,
        "val reward flat at the end: convergence, not a plateau with an escape; the "
        "REINFORCE surrogate 'loss' swings through zero and is not judged as a loss level",
    ),
    "lightning_csv/lstm_xor_stuck_at_0p25.csv": (
        {"underfitting"},
        ALL - {"underfitting"},
        "MSE settles at 0.2502: the model outputs 0.5 for balanced 0/1 targets",
    ),
    "mlflow/swahili_stt_ctc": (
        set(),
        ALL - {"underfitting"},
        "flat at the end after an early drop (CTC 235: grey)",
    ),
    "other/minivit_sum_vs_mean_train_log.csv": (
        {"val-better-than-train"},
        ALL - {"val-better-than-train", "not-converged", "slow-convergence"},
        "train loss is a per-epoch SUM, val a mean: the ratio 0.002 is called out as a unit "
        "mismatch; both still improving",
    ),
    "tensorboard_csv/imdb_run-.-tag-loss.csv": (
        {"warmup-instability"},
        ALL - {"warmup-instability", "plateau", "not-converged", "slow-convergence"},
        "the loss jumps 12.4 -> 18.4 at step 1 before falling (no warmup); then a staircase "
        "of short plateaus, still improving",
    ),
    "boosting_json/amls_task_a_xgb_logloss_evals_result.json": (
        set(),
        ALL - {"overfitting"},
        "val logloss min 0.1104@27 then flat 0.111-0.114 (1-3%): at the edge of overfitting",
    ),
    "keras_csv/dogbreed_pandas_index_history.csv": (
        set(),
        ALL - {"overfitting", "plateau", "not-converged"},
        "val never improves while train does: no generalisation; grey zone for overfitting",
    ),
    "keras_json/hdfc_lstm_reg_cls_training_history.json": (
        {"underfitting", "frozen", "val-better-than-train"},
        ALL - {"underfitting", "frozen", "val-better-than-train", "plateau"},
        "classifier never learns (loss ~0.70, val at ln 2, val accuracy 0.5268 at 18 of 19 "
        "evaluations); the regressor's val loss sits at 0.34x its train loss",
    ),
    "lightning_csv/btc_vae_elbo_100ep.csv": (
        set(),
        ALL - {"overfitting", "val-better-than-train"},
        "erratic sparse validation, train smooth",
    ),
    "other/carnd_traffic_sign_tf_train_log.csv": (
        set(),
        ALL - {"overfitting", "plateau", "underfitting", "not-converged", "slow-convergence"},
        "first loss 186 then ~3.7 (= ln 43, 43 classes: chance) before slow, noisy learning",
    ),
}

pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"real logs folder {REAL} is not present on this machine"
)


@pytest.mark.parametrize("rel", sorted(CASES))
def test_real_log_diagnosis(rel: str) -> None:
    must, must_not, _why = CASES[rel]
    report = diagnose(REAL / rel)
    assert report.error is None
    assert report.errors == []
    fired = {f.rule for f in report.findings}
    assert must <= fired, f"missing {must - fired}; got {[f.message for f in report.findings]}"
    assert not (fired & must_not), [f.message for f in report.findings if f.rule in must_not]


def test_every_real_log_is_in_the_table() -> None:
    runs = {"mlflow/amh_stt_ctc", "mlflow/swahili_stt_ctc", "tensorboard_csv/em_cnn"}
    files = {
        str(p.relative_to(REAL))
        for p in REAL.rglob("*")
        if p.is_file()
        and p.name != "SOURCES.md"
        and not any(str(p.relative_to(REAL)).startswith(r) for r in runs)
    }
    assert files | runs == set(CASES)
