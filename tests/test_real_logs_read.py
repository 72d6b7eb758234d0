"""Every real log in /work/shared/real-logs reads with the right format and sensible roles.

The logs are public training runs (see real-logs/SOURCES.md), used in place, never copied here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curvedoc.model import History
from curvedoc.readers import read_path

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-logs"

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real logs not present at {REAL}")

# path relative to REAL -> (format, {curve name: (role, direction)} that must be present)
EXPECTED: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "boosting_json/amls_task_a_xgb_logloss_evals_result.json": (
        "xgboost-json",
        {
            "validation_0-logloss": ("train_loss", "min"),
            "validation_1-logloss": ("val_loss", "min"),
        },
    ),
    "hf_trainer_state/bert_weibo_rumor_100ep.json": (
        "hf-trainer-state",
        {"loss": ("train_loss", "min"), "learning_rate": ("lr", "min")},
    ),
    "hf_trainer_state/distilbert_lora_imdb_375steps.json": (
        "hf-trainer-state",
        {
            "loss": ("train_loss", "min"),
            "eval_loss": ("val_loss", "min"),
            "grad_norm": ("grad_norm", "min"),
        },
    ),
    "hf_trainer_state/gemma2_ft_checkpoint-1000_midrun.json": (
        "hf-trainer-state",
        {"loss": ("train_loss", "min"), "grad_norm": ("grad_norm", "min")},
    ),
    "hf_trainer_state/qlora_lr5e-3_divergence_100steps.json": (
        "hf-trainer-state",
        {"loss": ("train_loss", "min")},
    ),
    "hf_trainer_state/whisper_small_hi_5000steps.json": (
        "hf-trainer-state",
        {
            "loss": ("train_loss", "min"),
            "eval_loss": ("val_loss", "min"),
            "eval_wer": ("val_metric", "min"),
        },
    ),
    "keras_csv/aflw2000_landmarks_no_epoch_col_history.csv": (
        "keras-pandas-csv",
        {"loss": ("train_loss", "min"), "val_loss": ("val_loss", "min")},
    ),
    "keras_csv/braincnn_train_only_training.log": (
        "keras-csv",
        {"loss": ("train_loss", "min"), "acc": ("train_metric", "max")},
    ),
    "keras_csv/dogbreed_pandas_index_history.csv": (
        "keras-pandas-csv",
        {"loss": ("train_loss", "min"), "val_accuracy": ("val_metric", "max")},
    ),
    "keras_csv/fer_resnet50_training.log": (
        "keras-csv",
        {"val_loss": ("val_loss", "min"), "accuracy": ("train_metric", "max")},
    ),
    "keras_json/hdfc_lstm_reg_cls_training_history.json": (
        "keras-json",
        {
            "reg_loss": ("train_loss", "min"),
            "reg_val_mae": ("val_metric", "min"),
            "cls_val_loss": ("val_loss", "min"),
            "cls_val_accuracy": ("val_metric", "max"),
            "cls_learning_rate": ("lr", "min"),
        },
    ),
    "keras_json/tweets_glove_lstm_training_history.json": (
        "keras-json",
        {
            "loss": ("train_loss", "min"),
            "val_loss": ("val_loss", "min"),
            "learning_rate": ("lr", "min"),
        },
    ),
    "lightning_csv/btc_vae_elbo_100ep.csv": (
        "lightning-csv",
        {"train_loss": ("train_loss", "min"), "valid_loss": ("val_loss", "min")},
    ),
    "lightning_csv/lstm_xor_stuck_at_0p25.csv": (
        "lightning-csv",
        {"train_loss": ("train_loss", "min"), "out_tensor([0.])": ("other", "min")},
    ),
    "lightning_csv/rl4co_fjspt_reward_plateau.csv": (
        "lightning-csv",
        {"train/loss": ("train_loss", "min"), "val/reward": ("val_metric", "max")},
    ),
    "mlflow/amh_stt_ctc": (
        "mlflow",
        {
            "loss": ("train_loss", "min"),
            "val_loss": ("val_loss", "min"),
            "val_ler": ("val_metric", "min"),
        },
    ),
    "mlflow/swahili_stt_ctc": ("mlflow", {"loss": ("train_loss", "min")}),
    "other/carnd_traffic_sign_tf_train_log.csv": (
        "csv",
        {"train_loss": ("train_loss", "min"), "validation_accuracy": ("val_metric", "max")},
    ),
    "other/minivit_sum_vs_mean_train_log.csv": (
        "csv",
        {"train_loss": ("train_loss", "min"), "val_acc": ("val_metric", "max")},
    ),
    "tensorboard_csv/em_cnn": (
        "tensorboard-csv",
        {"train/epoch_loss": ("train_loss", "min"), "validation/epoch_loss": ("val_loss", "min")},
    ),
    "tensorboard_csv/imdb_run-.-tag-loss.csv": ("tensorboard-csv", {"loss": ("train_loss", "min")}),
    "ultralytics/yolo11_resume_ocr_50ep.csv": (
        "ultralytics",
        {"train/box_loss": ("train_loss", "min"), "metrics/mAP50(B)": ("val_metric", "max")},
    ),
    "ultralytics/yolov5_river_reading_10ep.csv": (
        "ultralytics",
        {
            "val/obj_loss": ("val_loss", "min"),
            "metrics/mAP_0.5": ("val_metric", "max"),
            "x/lr0": ("lr", "min"),
        },
    ),
    "ultralytics/yolov8_basketball_val_cls_spike_10ep.csv": (
        "ultralytics",
        {"val/cls_loss": ("val_loss", "min"), "metrics/mAP50(B)": ("val_metric", "max")},
    ),
    "ultralytics/yolov8_fire_smoke_25ep.csv": (
        "ultralytics",
        {"train/dfl_loss": ("train_loss", "min"), "metrics/mAP50(B)": ("val_metric", "max")},
    ),
}


def _inputs() -> list[str]:
    """Each log file, and each run folder (MLflow runs, the TensorBoard export folder)."""
    if not REAL.is_dir():
        return []
    out = []
    for group in sorted(REAL.iterdir()):
        if not group.is_dir():
            continue
        for entry in sorted(group.iterdir()):
            out.append(entry.relative_to(REAL).as_posix())
    return out


def test_every_real_log_is_covered() -> None:
    assert sorted(_inputs()) == sorted(EXPECTED)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_real_log_reads(rel: str) -> None:
    fmt, expected = EXPECTED[rel]
    h = read_path(REAL / rel)
    assert isinstance(h, History)
    assert h.format == fmt
    got = {c.name: (c.role, c.direction) for c in h.curves}
    for name, want in expected.items():
        assert got.get(name) == want, f"{name}: {got.get(name)} != {want}"
    for c in h.curves:
        assert c.x.shape == c.y.shape
        assert (c.x[1:] > c.x[:-1]).all(), f"{c.name}: x not strictly ascending"
        assert c.x_unit in ("epoch", "step")


def test_real_log_details() -> None:
    whisper = read_path(REAL / "hf_trainer_state/whisper_small_hi_5000steps.json")
    assert [len(c) for c in whisper.by_role("val_loss")] == [5]
    assert any("final summary entry" in n for n in whisper.notes)
    xgb = read_path(REAL / "boosting_json/amls_task_a_xgb_logloss_evals_result.json")
    assert {len(c) for c in xgb.curves} == {100}
    btc = read_path(REAL / "lightning_csv/btc_vae_elbo_100ep.csv")
    valid = btc.get("valid_loss")
    assert valid is not None
    assert len(valid) == 10
    assert valid.x_unit == "step"
    hdfc = read_path(REAL / "keras_json/hdfc_lstm_reg_cls_training_history.json")
    cls = hdfc.get("cls_loss")
    assert cls is not None
    assert cls.x[0] == 1
    assert len(cls) == 19
    dog = read_path(REAL / "keras_csv/dogbreed_pandas_index_history.csv")
    assert {len(c) for c in dog.curves} == {20}


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_reading_never_modifies_the_input(rel: str) -> None:
    root = REAL / rel
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())

    def snapshot() -> list[tuple[str, bytes, int]]:
        return [(str(p), p.read_bytes(), p.stat().st_mtime_ns) for p in files]

    before = snapshot()
    read_path(root)
    assert snapshot() == before


def test_the_whole_folder_gives_every_run_once() -> None:
    """read_runs on the folder finds each entry (via curvedoc.discover) with its format."""
    from curvedoc.readers import read_runs

    runs = read_runs(REAL)
    by_source = {Path(h.source).relative_to(REAL).as_posix(): h.format for h in runs}
    # the folder holding a loose export beside em_cnn/ is a run of its own exports
    by_source["tensorboard_csv/imdb_run-.-tag-loss.csv"] = by_source.pop("tensorboard_csv")
    assert by_source == {rel: fmt for rel, (fmt, _) in EXPECTED.items()}


@pytest.mark.parametrize(
    "rel", sorted(rel for rel in EXPECTED if (REAL / rel).is_file()) if REAL.is_dir() else []
)
def test_gzipped_real_log_reads_the_same(rel: str, tmp_path: Path) -> None:
    import gzip

    plain = read_path(REAL / rel)
    gz = tmp_path / (Path(rel).name + ".gz")
    gz.write_bytes(gzip.compress((REAL / rel).read_bytes()))
    packed = read_path(gz)
    assert packed.format == plain.format
    assert [(c.name, c.role, c.y.tolist()) for c in packed.curves] == [
        (c.name, c.role, c.y.tolist()) for c in plain.curves
    ]
