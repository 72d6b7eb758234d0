"""Diagnoses of real logs from public projects (``../shared/real-logs``, used in place).

Each row says what the numbers in that log show (read by a person, see SOURCES.md there), which
rules must fire, and which must not. Rules not named are the honest grey zone for that log.
Rules that later issues add (underfitting, not-converged, ...) are not judged here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curvedoc import diagnose

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-logs"
CORE = {"non-finite", "overfitting", "divergence", "gradient-explosion", "plateau"}

# path: (must fire, must not fire, what the log shows / why)
CASES: dict[str, tuple[set[str], set[str], str]] = {
    "hf_trainer_state/qlora_lr5e-3_divergence_100steps.json": (
        {"divergence"},
        CORE - {"divergence"},
        "constant LR 5e-3, loss climbs 0.997 -> 29.6 almost monotonically",
    ),
    "hf_trainer_state/whisper_small_hi_5000steps.json": (
        {"overfitting"},
        CORE - {"overfitting"},
        "eval_loss rises at every eval from 0.307@1000 while train loss -> 1e-4; the tiny "
        "4-decimal train-loss wiggles near zero are not spikes",
    ),
    "keras_json/tweets_glove_lstm_training_history.json": (
        {"overfitting"},
        CORE - {"overfitting"},
        "val_loss min 0.4651@epoch 6 then rises every epoch to 0.5049 while loss falls",
    ),
    "tensorboard_csv/em_cnn": (
        {"overfitting"},
        CORE - {"overfitting"},
        "val loss min 0.2091@12 then 0.224-0.241 while train keeps falling",
    ),
    "mlflow/amh_stt_ctc": (
        {"plateau"},
        CORE - {"plateau"},
        "train CTC loss flat 233-235 for epochs 1-4, then breaks out gradually to 171",
    ),
    "hf_trainer_state/bert_weibo_rumor_100ep.json": (
        set(),
        CORE,
        "smooth monotone decay with linear LR decay: healthy",
    ),
    "hf_trainer_state/distilbert_lora_imdb_375steps.json": (
        set(),
        CORE,
        "noisy 3-epoch fine-tune; drops at epoch boundaries are the usual multi-epoch pattern",
    ),
    "hf_trainer_state/gemma2_ft_checkpoint-1000_midrun.json": (
        set(),
        CORE,
        "mid-run checkpoint, loss flat after a fast drop: nothing broken",
    ),
    "keras_csv/fer_resnet50_training.log": (
        set(),
        CORE - {"overfitting"},
        "early val spike at epoch 1 then mild, noisy overfitting (best 1.024@10, 1.11-1.13 "
        "@14-15, 1.07@16): below the default evidence bar; a grey zone, not a false alarm",
    ),
    "ultralytics/yolo11_resume_ocr_50ep.csv": (
        set(),
        CORE,
        "healthy; the step down at epoch 41 is Ultralytics' close_mosaic switch, not an escape",
    ),
    "ultralytics/yolov8_fire_smoke_25ep.csv": (
        set(),
        CORE,
        "train losses step up at epoch 15 (close_mosaic) and decrease again: a regime change",
    ),
    "ultralytics/yolov5_river_reading_10ep.csv": (set(), CORE, "10 epochs, all still falling"),
    "ultralytics/yolov8_basketball_val_cls_spike_10ep.csv": (
        set(),
        CORE - {"overfitting"},
        "a validation-only spike on a tiny val set; train is fine",
    ),
    "keras_csv/aflw2000_landmarks_no_epoch_col_history.csv": (
        set(),
        CORE,
        "slow but steady convergence",
    ),
    "keras_csv/braincnn_train_only_training.log": (set(), CORE, "train-only, flattening"),
    "lightning_csv/rl4co_fjspt_reward_plateau.csv": (
        set(),
        CORE,
        "val reward flat at the end: convergence, not a plateau with an escape",
    ),
    "lightning_csv/lstm_xor_stuck_at_0p25.csv": (
        set(),
        CORE,
        "stuck at MSE 0.25: underfitting (a later rule), not one of these",
    ),
    "mlflow/swahili_stt_ctc": (set(), CORE, "flat at the end after an early drop"),
    "other/minivit_sum_vs_mean_train_log.csv": (
        set(),
        CORE,
        "train loss is a per-epoch sum, val a mean: both still improving",
    ),
    "tensorboard_csv/imdb_run-.-tag-loss.csv": (
        set(),
        CORE - {"plateau"},
        "staircase of short plateaus: slow convergence",
    ),
    "boosting_json/amls_task_a_xgb_logloss_evals_result.json": (
        set(),
        CORE - {"overfitting"},
        "val logloss min 0.1104@27 then flat 0.111-0.114 (1-3%): at the edge of overfitting",
    ),
    "keras_csv/dogbreed_pandas_index_history.csv": (
        set(),
        CORE - {"overfitting", "plateau"},
        "val never improves while train does: no generalisation; grey zone for overfitting",
    ),
    "keras_json/hdfc_lstm_reg_cls_training_history.json": (
        set(),
        CORE - {"plateau"},
        "classifier never learns (val at ln 2): underfitting",
    ),
    "lightning_csv/btc_vae_elbo_100ep.csv": (
        set(),
        CORE - {"overfitting"},
        "erratic sparse validation, train smooth",
    ),
    "other/carnd_traffic_sign_tf_train_log.csv": (
        set(),
        CORE - {"overfitting", "plateau"},
        "noisy validation, stalled train loss",
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
