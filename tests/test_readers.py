"""Each supported format on a small sample written the way the logger writes it (FORMATS.md)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from curvedoc.errors import ConfigError, InputError
from curvedoc.model import Curve, History
from curvedoc.readers import FORMATS, read_path, read_runs


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_bytes(text.encode("utf-8"))
    return p


def curve(h: History, name: str) -> Curve:
    c = h.get(name)
    assert c is not None, f"{name} not in {[c.name for c in h.curves]}"
    return c


def roles(h: History) -> dict[str, str]:
    return {c.name: c.role for c in h.curves}


# --- Keras -------------------------------------------------------------------------------------


def test_keras_json(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "history.json",
        '{"loss": [0.43, 0.30, 0.25], "accuracy": [0.85, 0.89, 0.9], '
        '"val_loss": [0.34, 0.31, NaN], "val_accuracy": [0.879, 0.885, 0.88]}',
    )
    h = read_path(p)
    assert h.format == "keras-json"
    assert roles(h) == {
        "loss": "train_loss",
        "accuracy": "train_metric",
        "val_loss": "val_loss",
        "val_accuracy": "val_metric",
    }
    loss = curve(h, "loss")
    assert loss.x.tolist() == [1.0, 2.0, 3.0]
    assert loss.x_unit == "epoch"
    assert curve(h, "val_accuracy").direction == "max"
    # NaN is kept: reporting it is a detector's job
    assert math.isnan(curve(h, "val_loss").y[-1])
    assert any("numbered from 1" in n for n in h.notes)


def test_keras_json_late_key_is_aligned_to_the_end(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "h.json",
        json.dumps(
            {"loss": [5, 4, 3, 2, 1], "val_loss": [5, 4, 3, 3, 3], "learning_rate": [0.1, 0.01]}
        ),
    )
    h = read_path(p)
    lr = curve(h, "learning_rate")
    assert lr.role == "lr"
    assert lr.x.tolist() == [4.0, 5.0]
    assert h.meta["learning_rate"] == pytest.approx(0.1)
    assert any("learning_rate: 2 values for 5 epochs" in n for n in h.notes)


def test_keras_history_under_one_key_is_a_keras_history(tmp_path: Path) -> None:
    """A history saved inside a dict (of folds, of runs: a real QuickDraw log keeps it under
    "0") has the shape of a one-data-set XGBoost evals_result; its val_ names say Keras."""
    history = {"acc": [0.5, 0.8, 0.9], "loss": [2.0, 1.0, 0.5], "val_acc": [0.4, 0.5, 0.5]}
    history["val_loss"] = [2.1, 1.5, 1.6]
    h = read_path(write(tmp_path, "h.json", json.dumps({"0": history})))
    assert h.format == "keras-json"
    assert {c.name: c.role for c in h.curves}["val_loss"] == "val_loss"
    assert any("under the key '0'" in n for n in h.notes)
    # a boosting library's single data set keeps its metric names (no val_ twins)
    one_set = {"validation_0": {"logloss": [0.6, 0.5, 0.4], "error": [0.3, 0.2, 0.1]}}
    assert read_path(write(tmp_path, "x.json", json.dumps(one_set))).format == "xgboost-json"


def test_a_title_line_above_the_header_is_skipped(tmp_path: Path) -> None:
    """A real CSVLogger-shaped log with ``separator=';'`` and the logger's name on line 1."""
    text = "model_history_log\nepoch;accuracy;loss;val_accuracy;val_loss\n"
    text += "".join(f"{e};0.{5 + e};{1 - 0.1 * e};0.{4 + e};{1.1 - 0.1 * e}\n" for e in range(5))
    h = read_path(write(tmp_path, "log.csv", text))
    assert [c.name for c in h.curves] == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert curve(h, "loss").y.tolist() == pytest.approx([1.0, 0.9, 0.8, 0.7, 0.6])
    assert any("line 1 ('model_history_log') is a title" in n for n in h.notes)
    # a one-column table: its second line is a number, not a header
    h = read_path(write(tmp_path, "one.csv", "loss\n" + "".join(f"{v}\n" for v in (3, 2, 1.5))))
    assert [c.name for c in h.curves] == ["loss"]


def test_a_metric_of_unknown_direction_is_said_and_marked(tmp_path: Path) -> None:
    data = {"loss": [1.0, 0.8, 0.7], "val_bas": [0.2, 0.3, 0.4], "val_accuracy": [0.5, 0.6, 0.7]}
    h = read_path(write(tmp_path, "h.json", json.dumps(data)))
    assert not curve(h, "val_bas").direction_known
    assert curve(h, "val_accuracy").direction_known
    assert curve(h, "loss").direction_known
    assert any("lower assumed: val_bas" in n for n in h.notes)
    told = read_runs(write(tmp_path, "h.json", json.dumps(data)), directions={"val_bas": "max"})
    assert curve(told[0], "val_bas").direction_known


def test_keras_json_two_model_prefixes(tmp_path: Path) -> None:
    data = {
        "reg_loss": [3, 2, 1, 0.5],
        "reg_val_loss": [3, 2.5, 2, 2],
        "cls_loss": [0.7, 0.69],
        "cls_val_loss": [0.7, 0.7],
        "cls_val_accuracy": [0.5, 0.5],
    }
    h = read_path(write(tmp_path, "h.json", json.dumps(data)))
    assert roles(h)["cls_val_loss"] == "val_loss"
    assert roles(h)["cls_val_accuracy"] == "val_metric"
    assert roles(h)["reg_loss"] == "train_loss"
    # each model is numbered on its own, not aligned to the other model's end
    assert curve(h, "cls_loss").x.tolist() == [1.0, 2.0]
    assert curve(h, "reg_loss").x.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_keras_json_history_wrapper(tmp_path: Path) -> None:
    data = {"history": {"loss": [1, 0.5, 0.2]}, "params": {"epochs": 3, "steps": 100}}
    h = read_path(write(tmp_path, "h.json", json.dumps(data)))
    assert h.format == "keras-json"
    assert h.meta["epochs"] == 3
    assert h.meta["steps_per_epoch"] == 100


KERAS_CSV = """epoch,accuracy,learning_rate,loss,val_accuracy,val_loss
0,0.8512,0.001,0.4301,0.8790,0.3412
1,0.8934,0.001,0.2987,0.8855,0.3120
2,0.9034,0.001,0.2687,NA,NA
"""


def test_keras_csvlogger(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "training.log", KERAS_CSV))
    assert h.format == "keras-csv"
    # x is the file's epoch, as written (0-based)
    assert curve(h, "loss").x.tolist() == [0.0, 1.0, 2.0]
    # NA is missing (dropped), not NaN
    assert curve(h, "val_loss").x.tolist() == [0.0, 1.0]
    assert any("val_accuracy, val_loss: 1 missing value dropped" in n for n in h.notes)
    assert curve(h, "learning_rate").role == "lr"
    assert h.meta["learning_rate"] == pytest.approx(0.001)


def test_keras_csvlogger_resumed_run_last_write_wins(tmp_path: Path) -> None:
    text = (
        "epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n2,0.7,0.85\n1,0.6,0.8\n2,0.5,0.7\n3,0.4,0.6\n"
    )
    h = read_path(write(tmp_path, "training.log", text))
    loss = curve(h, "loss")
    assert loss.x.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert loss.y.tolist() == [1.0, 0.6, 0.5, 0.4]
    assert "loss, val_loss: 2 duplicate epochs merged (last value kept)" in h.notes


def test_repeated_steps_keep_the_last_value_and_columns_share_one_axis(tmp_path: Path) -> None:
    """Lightning writes a validation row at the last training step; a sorted x with repeats
    keeps the last value of each (no sort), and the columns blank in the same rows share one
    cleaned x array instead of a copy each."""
    rows = ["epoch,step,train_loss,grad_norm,val_loss"]
    rows += [f"0,{s},{1.0 / (s + 1)},{2.0 + s},," for s in range(5)]
    rows += ["0,4,0.125,6.5,0.5", "1,5,0.1,7.0,", "1,5,0.09,7.5,", "1,6,0.08,8.0,0.4"]
    h = read_path(write(tmp_path, "metrics.csv", "\n".join(rows) + "\n"))
    loss, grad = curve(h, "train_loss"), curve(h, "grad_norm")
    assert loss.x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert loss.y.tolist() == [1.0, 0.5, 1 / 3, 0.25, 0.125, 0.09, 0.08]
    assert grad.y.tolist() == [2.0, 3.0, 4.0, 5.0, 6.5, 7.5, 8.0]
    assert curve(h, "val_loss").x.tolist() == [4.0, 6.0]
    assert loss.x is grad.x
    # an unsorted x (a resumed run) still sorts, stably, last write winning
    back = "step,loss,acc\n0,1.0,0.1\n1,0.8,0.2\n2,0.7,0.3\n1,0.6,0.4\n2,0.5,0.5\n"
    h2 = read_path(write(tmp_path, "resumed.csv", back))
    assert curve(h2, "loss").y.tolist() == [1.0, 0.6, 0.5]
    assert curve(h2, "acc").y.tolist() == [0.1, 0.4, 0.5]
    assert curve(h2, "loss").x is curve(h2, "acc").x


def test_pandas_csv_with_index_and_windows_line_ends(tmp_path: Path) -> None:
    rows = [
        ",loss,accuracy,val_loss,val_accuracy",
        "0,2.17,0.40,2.86,0.25",
        "1,2.14,0.41,2.88,0.24",
    ]
    text = "".join(row + "\r\r\n" for row in rows)
    h = read_path(write(tmp_path, "history.csv", text))
    assert h.format == "keras-pandas-csv"
    assert set(roles(h)) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert curve(h, "loss").x.tolist() == [1.0, 2.0]
    assert curve(h, "val_loss").y.tolist() == [2.86, 2.88]


def test_pandas_csv_without_index(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "history.csv", "loss,val_loss\n0.5,0.6\n0.4,0.5\n"))
    assert h.format == "keras-pandas-csv"
    assert curve(h, "val_loss").x.tolist() == [1.0, 2.0]


# --- Hugging Face --------------------------------------------------------------------------------

HF_STATE = """{
  "best_metric": null,
  "epoch": 2.0,
  "eval_steps": 500,
  "global_step": 1000,
  "log_history": [
    {"epoch": 0.5, "grad_norm": 3.21, "learning_rate": 4.5e-05, "loss": 2.3456, "step": 250},
    {"epoch": 1.0, "grad_norm": NaN, "learning_rate": 4.0e-05, "loss": 2.1, "step": 500},
    {"epoch": 1.0, "eval_loss": 1.8712, "eval_runtime": 12.3, "eval_samples_per_second": 81.3,
     "eval_steps_per_second": 10.2, "eval_accuracy": 0.61, "step": 500},
    {"epoch": 1.5, "grad_norm": Infinity, "learning_rate": 3.0e-05, "loss": 1.9, "step": 750},
    {"epoch": 2.0, "grad_norm": 2.0, "learning_rate": 2.0e-05, "loss": 1.7, "step": 1000},
    {"epoch": 2.0, "eval_loss": 1.75, "eval_runtime": 12.1, "eval_samples_per_second": 82.0,
     "eval_steps_per_second": 10.3, "eval_accuracy": 0.66, "step": 1000},
    {"epoch": 2.0, "step": 1000, "total_flos": 1.2e+15, "train_loss": 1.9021,
     "train_runtime": 600.1, "train_samples_per_second": 53.3, "train_steps_per_second": 1.67}
  ],
  "logging_steps": 250,
  "max_steps": 1000,
  "num_train_epochs": 2,
  "train_batch_size": 8
}
"""


def test_hf_log_history_summaries_steps_and_records(tmp_path: Path) -> None:
    """A resumed run has a summary mid-log too; entries whose step is missing or not a number
    (null) are dropped with a note; a record that is not an object names its number."""
    log = [
        {"loss": 2.0, "learning_rate": 1e-4, "epoch": 0.5, "step": 10},
        {"train_runtime": 5.0, "train_loss": 1.9, "epoch": 1.0, "step": 20},
        {"loss": 1.5, "learning_rate": 1e-4, "epoch": 1.5, "step": 30},
        {"loss": 1.4, "learning_rate": 1e-4, "epoch": 1.6},
        {"loss": 1.3, "learning_rate": 1e-4, "epoch": 1.7, "step": None},
        {"loss": 1.2, "learning_rate": 1e-4, "epoch": 2.0, "step": 40},
        {"train_loss": 1.5, "epoch": 2.0, "step": 40},
    ]
    state = {"log_history": log, "global_step": 40, "max_steps": 40}
    h = read_path(write(tmp_path, "trainer_state.json", json.dumps(state)))
    assert curve(h, "loss").x.tolist() == [10.0, 30.0, 40.0]
    assert curve(h, "loss").y.tolist() == [2.0, 1.5, 1.2]
    assert sum("final summary entry" in n for n in h.notes) == 2
    assert "2 log entries without a step: dropped" in h.notes
    state["log_history"] = [log[0], [1, 2], log[2]]
    with pytest.raises(InputError, match="record 2 is list, expected an object"):
        read_path(write(tmp_path, "trainer_state.json", json.dumps(state)))


def test_hf_trainer_state(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "trainer_state.json", HF_STATE))
    assert h.format == "hf-trainer-state"
    assert roles(h) == {
        "grad_norm": "grad_norm",
        "learning_rate": "lr",
        "loss": "train_loss",
        "eval_loss": "val_loss",
        "eval_accuracy": "val_metric",
    }
    loss = curve(h, "loss")
    assert loss.x_unit == "step"
    assert loss.x.tolist() == [250.0, 500.0, 750.0, 1000.0]
    # the summary's train_loss is not a curve point
    assert loss.y[-1] == pytest.approx(1.7)
    assert h.get("train_loss") is None
    assert any("final summary entry" in n for n in h.notes)
    gn = curve(h, "grad_norm")
    assert math.isnan(gn.y[1])
    assert math.isinf(gn.y[2])
    assert curve(h, "eval_loss").x.tolist() == [500.0, 1000.0]
    assert h.meta == {
        "batch_size": 8,
        "max_steps": 1000,
        "epochs": 2,
        "logging_steps": 250,
        "eval_steps": 500,
        "global_step": 1000,
        "steps_per_epoch": 500,
        "learning_rate": pytest.approx(4.5e-05),
    }
    for name in ("eval_runtime", "eval_samples_per_second", "epoch", "total_flos"):
        assert h.get(name) is None


def test_hf_log_history_as_bare_list_file(tmp_path: Path) -> None:
    log = json.loads(HF_STATE.replace("NaN", "null").replace("Infinity", "null"))["log_history"]
    h = read_path(write(tmp_path, "log.json", json.dumps(log)))
    assert h.format == "hf-log-history"
    assert curve(h, "loss").y[-1] == pytest.approx(1.7)


# --- Lightning -----------------------------------------------------------------------------------

LIGHTNING = """epoch,step,train_loss_epoch,train_loss_step,val_acc,val_loss
0,49,,0.6931,,
0,99,,0.6120,,
0,99,,,0.7100,0.5800
0,99,0.6500,,,
1,149,,0.5512,,
1,199,,0.5011,,
1,199,,,0.7400,0.5100
1,199,0.5300,,,
"""


def test_lightning_metrics_csv(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "metrics.csv", LIGHTNING))
    assert h.format == "lightning-csv"
    step = curve(h, "train_loss_step")
    assert step.role == "train_loss"
    assert step.x_unit == "step"
    assert step.x.tolist() == [49.0, 99.0, 149.0, 199.0]
    # the epoch aggregate of a forked metric is not a second training loss
    assert curve(h, "train_loss_epoch").role == "other"
    assert len(h.by_role("train_loss")) == 1
    assert curve(h, "val_loss").x.tolist() == [99.0, 199.0]
    assert curve(h, "val_acc").direction == "max"
    assert h.get("epoch") is None
    assert any("train_loss_epoch: epoch aggregate" in n for n in h.notes)


def test_lightning_without_forking_keeps_loss_epoch(tmp_path: Path) -> None:
    text = "epoch,loss_epoch,step,val_loss\n0,0.9,9,\n0,,9,1.0\n1,0.7,19,\n1,,19,0.8\n"
    h = read_path(write(tmp_path, "metrics.csv", text))
    assert h.format == "lightning-csv"
    assert curve(h, "loss_epoch").role == "train_loss"


# --- Ultralytics ---------------------------------------------------------------------------------

YOLO11 = (
    "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),"
    "metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,"
    "val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n"
    "1,35.21,1.2345,2.3456,1.1234,0.51234,0.45671,0.47891,0.30123,1.3456,2.1234,1.2345,"
    "0.0700464,0.00329,0.00329\n"
    "2,70.4,1.1,2.1,1.0,0.6,0.5,0.55,0.35,1.2,2.0,1.1,0.05,0.004,0.004\n"
)


def test_ultralytics_yolo11(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "results.csv", YOLO11))
    assert h.format == "ultralytics"
    r = roles(h)
    assert r["train/box_loss"] == "train_loss"
    assert r["val/dfl_loss"] == "val_loss"
    assert r["metrics/mAP50(B)"] == "val_metric"
    assert r["lr/pg0"] == "lr"
    assert "time" not in r
    assert curve(h, "metrics/mAP50-95(B)").direction == "max"
    assert curve(h, "val/box_loss").x.tolist() == [1.0, 2.0]


def test_ultralytics_padded_yolov5(tmp_path: Path) -> None:
    names = ["epoch", "train/box_loss", "metrics/mAP_0.5", "val/box_loss", "x/lr0"]
    rows = [[0, 0.11, 0.02, 0.097, 0.07], [1, 0.09, 0.1, 0.08, 0.03]]
    text = ",".join(f"{n:>20}" for n in names) + "\n"
    text += "".join(",".join(f"{v:>20.5g}" for v in row) + "\n" for row in rows)
    h = read_path(write(tmp_path, "results.csv", text))
    assert h.format == "ultralytics"
    assert roles(h) == {
        "train/box_loss": "train_loss",
        "metrics/mAP_0.5": "val_metric",
        "val/box_loss": "val_loss",
        "x/lr0": "lr",
    }
    assert curve(h, "x/lr0").y.tolist() == [0.07, 0.03]


# --- fastai --------------------------------------------------------------------------------------


def test_fastai_history_with_repeated_header(tmp_path: Path) -> None:
    text = (
        "epoch,train_loss,valid_loss,accuracy,time\n"
        "0,0.8123456478118896,0.5432109832763672,0.8234000205993652,00:15\n"
        "1,0.5012345314025879,0.4123456478118896,0.8712000250816345,00:14\n"
        "epoch,train_loss,valid_loss,accuracy,time\n"
        "0,0.45,0.40,0.88,00:20\n"
        "1,0.40,0.38,0.89,00:20\n"
    )
    h = read_path(write(tmp_path, "history.csv", text))
    assert h.format == "fastai-csv"
    assert roles(h) == {
        "train_loss": "train_loss",
        "valid_loss": "val_loss",
        "accuracy": "train_metric",
    }
    # each fit() call is a run of its own; read_path gives the last one, read_runs both
    assert curve(h, "valid_loss").y.tolist() == [0.40, 0.38]
    assert h.source.endswith("history.csv#run2")
    assert "the file holds 2 runs" in h.notes[0]
    assert any("run 2 of 2 in history.csv (lines 5-6: a repeated header)" in n for n in h.notes)
    assert not any("duplicate" in n for n in h.notes)
    runs = read_runs(tmp_path / "history.csv")
    assert [r.source.rsplit("#", 1)[1] for r in runs] == ["run1", "run2"]
    assert curve(runs[0], "valid_loss").y.tolist() == [0.5432109832763672, 0.4123456478118896]


def test_fastai_row_without_validation_is_padded(tmp_path: Path) -> None:
    text = (
        "epoch,train_loss,valid_loss,accuracy,time\n"
        "0,0.8,0.5,0.8,00:15\n"
        "1,0.6\n"
        "2,0.5,0.4,0.85,00:15\n"
    )
    h = read_path(write(tmp_path, "history.csv", text))
    assert curve(h, "train_loss").x.tolist() == [0.0, 1.0, 2.0]
    assert curve(h, "valid_loss").x.tolist() == [0.0, 2.0]
    assert any("1 row(s) had fewer fields" in n for n in h.notes)


# --- TensorBoard CSV -----------------------------------------------------------------------------

TB = "Wall time,Step,Value\n1591651513,0,0.79\n1591652570,1,0.51\n1591653622,2,0.45\n"


def test_tensorboard_csv_file(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "run-validation-tag-epoch_loss.csv", TB))
    assert h.format == "tensorboard-csv"
    (c,) = h.curves
    assert (c.name, c.role, c.split, c.x_unit) == ("epoch_loss", "val_loss", "val", "epoch")
    assert c.x.tolist() == [0.0, 1.0, 2.0]


def test_tensorboard_csv_folder(tmp_path: Path) -> None:
    write(tmp_path, "run-train-tag-epoch_loss.csv", TB)
    write(tmp_path, "run-validation-tag-epoch_loss.csv", TB.replace("0.45", "0.6"))
    write(tmp_path, "run-train-tag-epoch_accuracy.csv", TB.replace("0.79", "0.1"))
    h = read_path(tmp_path)
    assert h.format == "tensorboard-csv"
    assert roles(h) == {
        "train/epoch_accuracy": "train_metric",
        "train/epoch_loss": "train_loss",
        "validation/epoch_loss": "val_loss",
    }


def test_tensorboard_csv_with_unknown_file_name(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "scalars.csv", TB))
    assert [c.name for c in h.curves] == ["scalars"]


# --- boosting ------------------------------------------------------------------------------------


def test_xgboost_evals_result(tmp_path: Path) -> None:
    data = {
        "validation_0": {"logloss": [0.6, 0.4, 0.3], "auc": [0.7, 0.8, 0.9]},
        "validation_1": {"logloss": [0.62, 0.5, 0.55], "auc": [0.69, 0.75, 0.74]},
    }
    h = read_path(write(tmp_path, "evals.json", json.dumps(data)))
    assert h.format == "xgboost-json"
    assert roles(h) == {
        "validation_0-logloss": "train_loss",
        "validation_0-auc": "train_metric",
        "validation_1-logloss": "val_loss",
        "validation_1-auc": "val_metric",
    }
    assert curve(h, "validation_1-auc").direction == "max"
    c = curve(h, "validation_0-logloss")
    assert (c.x_unit, c.x.tolist()) == ("step", [1.0, 2.0, 3.0])


def test_xgboost_native_names_pick_train_by_name(tmp_path: Path) -> None:
    data = {"eval": {"rmse": [3.0, 2.0, 2.5]}, "train": {"rmse": [3.0, 1.5, 1.0]}}
    h = read_path(write(tmp_path, "evals.json", json.dumps(data)))
    assert roles(h) == {"eval-rmse": "val_loss", "train-rmse": "train_loss"}


def test_lightgbm_cv_stdv_is_other(tmp_path: Path) -> None:
    data = {"cv_agg": {"l2-mean": [1.0, 0.8, 0.7], "l2-stdv": [0.1, 0.1, 0.1]}}
    h = read_path(write(tmp_path, "evals.json", json.dumps(data)))
    # cv() scores the held-out folds: validation, not training (FORMATS.md A11)
    assert roles(h) == {"cv_agg-l2-mean": "val_loss", "cv_agg-l2-stdv": "other"}


# --- MLflow --------------------------------------------------------------------------------------


def test_mlflow_run_folder(tmp_path: Path) -> None:
    run = tmp_path / "3f2a"
    (run / "metrics" / "train").mkdir(parents=True)
    (run / "params").mkdir()
    (run / "metrics" / "val_loss").write_text(
        "1717000000123 0.4321 0\n1717000060456 0.3987 1\n1717000120789 nan 2\n"
    )
    # a resumed run appends the same step again: the last line wins
    (run / "metrics" / "train" / "loss").write_text(
        "1717000000123 0.5 0\n1717000060456 0.45 1\n1717000090000 0.44 1\n1717000120789 0.4 2\n"
    )
    (run / "metrics" / "old_style").write_text("1717000000123 1.0\n")
    (run / "params" / "lr").write_text("0.001")
    (run / "params" / "optimizer").write_text("adam")
    h = read_path(run)
    assert h.format == "mlflow"
    assert roles(h)["train/loss"] == "train_loss"
    assert roles(h)["val_loss"] == "val_loss"
    assert curve(h, "train/loss").y.tolist() == [0.5, 0.44, 0.4]
    assert math.isnan(curve(h, "val_loss").y[2])
    assert curve(h, "old_style").x.tolist() == [0.0]
    assert h.meta["learning_rate"] == 0.001
    assert h.meta["optimizer"] == "adam"
    assert any("train/loss: 1 duplicate step merged" in n for n in h.notes)


def test_single_mlflow_metric_file(tmp_path: Path) -> None:
    (tmp_path / "metrics").mkdir()
    p = tmp_path / "metrics" / "val_loss"
    p.write_text("1 0.5 0\n2 0.4 1\n3 0.35 2\n")
    h = read_path(p)
    assert h.format == "mlflow"
    assert [(c.name, c.role) for c in h.curves] == [("val_loss", "val_loss")]


# --- generic -------------------------------------------------------------------------------------


def test_generic_csv_step_column_any_case(tmp_path: Path) -> None:
    text = "Iteration;train_loss;val_loss\n100;1.0;1.2\n200;0.8;1.0\n300;0.7;0.9\n"
    h = read_path(write(tmp_path, "log.txt", text))
    assert h.format == "csv"
    c = curve(h, "val_loss")
    assert (c.x_unit, c.x.tolist()) == ("step", [100.0, 200.0, 300.0])
    assert h.get("Iteration") is None


def test_generic_tsv_with_padding(tmp_path: Path) -> None:
    text = " round \t train_loss \t val_acc \n 1 \t 0.9 \t 0.5 \n 2 \t 0.7 \t 0.6 \n"
    h = read_path(write(tmp_path, "log.tsv", text))
    assert roles(h) == {"train_loss": "train_loss", "val_acc": "val_metric"}
    assert curve(h, "val_acc").y.tolist() == [0.5, 0.6]


def test_generic_csv_per_epoch_step_counter(tmp_path: Path) -> None:
    text = "Epoch,step,train_loss\n1,0,3.0\n1,10,2.0\n2,0,1.5\n2,10,1.2\n"
    h = read_path(write(tmp_path, "log.csv", text))
    c = curve(h, "train_loss")
    assert c.x.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert c.y.tolist() == [3.0, 2.0, 1.5, 1.2]
    assert any("restarts every epoch" in n for n in h.notes)


def test_generic_csv_drops_text_column(tmp_path: Path) -> None:
    text = "epoch_id,loss,phase\n1,0.5,warmup\n2,0.4,main\n3,0.3,main\n"
    h = read_path(write(tmp_path, "log.csv", text))
    assert set(roles(h)) == {"epoch_id", "loss"}
    assert any("not numeric, dropped: phase" in n for n in h.notes)


def test_quoted_csv(tmp_path: Path) -> None:
    text = '"step","loss","val_loss"\n"1","0.5","0.6"\n"2","0.4","0.55"\n'
    h = read_path(write(tmp_path, "log.csv", text))
    assert curve(h, "loss").y.tolist() == [0.5, 0.4]


def test_json_records_and_jsonl(tmp_path: Path) -> None:
    recs = [{"epoch": 1, "loss": 0.5, "val_loss": 0.6}, {"epoch": 2, "loss": 0.4}]
    h = read_path(write(tmp_path, "log.json", json.dumps(recs)))
    assert h.format == "json-records"
    assert curve(h, "val_loss").x.tolist() == [1.0]
    assert curve(h, "loss").x_unit == "epoch"
    text = (
        "\n".join(json.dumps(r) for r in [*recs, {"epoch": 3, "loss": 0.3}]) + '\n{"epoch": 4, "lo'
    )
    h2 = read_path(write(tmp_path, "log.jsonl", text))
    assert h2.format == "jsonl"
    assert curve(h2, "loss").x.tolist() == [1.0, 2.0, 3.0]
    assert any("line 4: incomplete last record" in n for n in h2.notes)


def test_utf8_bom_and_utf16(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "a.csv", b"\xef\xbb\xbfepoch,loss\n0,1.0\n1,0.5\n"))
    assert h.format == "keras-csv"
    h16 = read_path(write(tmp_path, "b.csv", "epoch,loss\r\n0,1.0\r\n1,0.5\r\n".encode("utf-16")))
    assert curve(h16, "loss").y.tolist() == [1.0, 0.5]


def test_huge_numbers_overflow_to_inf(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "a.csv", "epoch,loss\n0,1e308\n1,1e999\n2,-1e999\n"))
    assert curve(h, "loss").y.tolist() == [1e308, math.inf, -math.inf]


def test_all_nan_curve_is_kept(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "a.csv", "epoch,loss,val_loss\n0,1.0,nan\n1,0.5,nan\n"))
    assert np.isnan(curve(h, "val_loss").y).all()


def test_empty_column_is_dropped_with_a_note(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "a.csv", "epoch,loss,val_loss\n0,1.0,\n1,0.5,\n"))
    assert h.get("val_loss") is None
    assert any("no values at all, dropped: val_loss" in n for n in h.notes)


# --- overrides -----------------------------------------------------------------------------------


def test_column_and_direction_overrides(tmp_path: Path) -> None:
    text = "epoch,loss,dev_score,temperature,ppl\n0,1,0.5,3,10\n1,0.5,0.6,2,8\n"
    p = write(tmp_path, "a.csv", text)
    h = read_path(
        p,
        columns={"temperature": "ignore", "dev_score": "val_loss", "ppl": "val_metric"},
        directions={"dev_score": "max"},
    )
    assert h.get("temperature") is None
    c = curve(h, "dev_score")
    assert (c.role, c.split, c.direction) == ("val_loss", "val", "max")
    assert curve(h, "ppl").role == "val_metric"
    assert curve(h, "ppl").direction == "min"
    assert any("ignored as asked: temperature" in n for n in h.notes)


def test_override_can_keep_a_bookkeeping_column(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "epoch,loss,time\n0,1,5\n1,0.5,9\n")
    h = read_path(p, columns={"time": "other"})
    assert curve(h, "time").role == "other"


def test_bad_override_is_config_error(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "epoch,loss\n0,1\n1,0.5\n")
    with pytest.raises(ConfigError, match=r"columns\.loss"):
        read_path(p, columns={"loss": "banana"})
    with pytest.raises(ConfigError, match=r"directions\.loss"):
        read_path(p, directions={"loss": "up"})


def test_formats_table_lists_every_reader_id() -> None:
    ids = [fid for fid, _ in FORMATS]
    assert len(ids) == len(set(ids))
    for fid in (
        "keras-json",
        "keras-csv",
        "keras-pandas-csv",
        "hf-trainer-state",
        "lightning-csv",
        "csv",
        "json-records",
        "jsonl",
        "ultralytics",
        "fastai-csv",
        "tensorboard-csv",
        "xgboost-json",
        "mlflow",
    ):
        assert fid in ids
    assert all(desc and "\n" not in desc for _, desc in FORMATS)


def test_run_folders(tmp_path: Path) -> None:
    ck = tmp_path / "out"
    for n, last in ((500, 0.9), (1000, 0.5)):
        d = ck / f"checkpoint-{n}"
        d.mkdir(parents=True)
        log = [{"loss": 1.0, "step": 100, "epoch": 0.1}, {"loss": last, "step": n, "epoch": 1.0}]
        (d / "trainer_state.json").write_text(json.dumps({"log_history": log}))
    h = read_path(ck)
    assert h.format == "hf-trainer-state"
    assert curve(h, "loss").x.tolist() == [100.0, 1000.0]
    assert h.notes[0] == "read checkpoint-1000/trainer_state.json in the folder"
    v = tmp_path / "version_0"
    v.mkdir()
    (v / "metrics.csv").write_text(LIGHTNING)
    assert read_path(v).format == "lightning-csv"


def test_large_csv_is_vectorised(tmp_path: Path) -> None:
    n = 200_000
    x = np.arange(n)
    y = np.linspace(2.0, 0.1, n)
    body = "\n".join(f"{i},{v!r},{v * 1.1!r}" for i, v in zip(x.tolist(), y.tolist(), strict=True))
    p = write(tmp_path, "big.csv", "step,train_loss,val_loss\n" + body + "\n")
    h = read_path(p)
    c = curve(h, "val_loss")
    assert len(c) == n
    assert c.y[-1] == pytest.approx(0.11)


# --- extras --------------------------------------------------------------------------------------


def test_wandb_export(tmp_path: Path) -> None:
    text = (
        '"Step","fluent-sun-12 - train/loss","fluent-sun-12 - train/loss__MIN",'
        '"fluent-sun-12 - train/loss__MAX","fluent-sun-12 - val/acc","fluent-sun-12 - _step"\n'
        '"0","2.3091","2.3091","2.3091","","0"\n'
        '"50","1.8873","1.8873","1.8873","0.5","50"\n'
        '"100","1.5","1.4","1.6","0.6","100"\n'
    )
    h = read_path(write(tmp_path, "wandb_export.csv", text))
    assert h.format == "wandb-csv"
    assert roles(h) == {"train/loss": "train_loss", "val/acc": "val_metric"}
    assert curve(h, "train/loss").y.tolist() == [2.3091, 1.8873, 1.5]
    assert curve(h, "val/acc").x.tolist() == [50.0, 100.0]
    assert any("2 __MIN/__MAX envelope column(s) dropped" in n for n in h.notes)


def test_wandb_export_with_two_runs_is_two_runs(tmp_path: Path) -> None:
    text = "Step,run-a - loss,run-b - loss,run-b - val_loss\n0,1.0,1.1,1.2\n1,0.5,0.6,0.7\n"
    p = write(tmp_path, "export.csv", text)
    runs = read_runs(p)
    assert [r.source for r in runs] == [f"{p}#run-a", f"{p}#run-b"]
    assert roles(runs[0]) == {"loss": "train_loss"}
    assert roles(runs[1]) == {"loss": "train_loss", "val_loss": "val_loss"}
    assert curve(runs[1], "loss").y.tolist() == [1.1, 0.6]
    assert "run 'run-b', one of 2 in the export" in runs[1].notes
    # runs side by side: no run is "the" run, so read_path names them; PATH#RUN picks one
    with pytest.raises(InputError, match=r"holds 2 runs \(run-a, run-b\); pass one as PATH#RUN"):
        read_path(p)
    assert roles(read_path(f"{p}#run-b")) == roles(runs[1])
    with pytest.raises(InputError, match="no run 'run-c' in it"):
        read_path(f"{p}#run-c")


def test_lightning_hparams_yaml_becomes_meta(tmp_path: Path) -> None:
    write(tmp_path, "metrics.csv", LIGHTNING)
    write(
        tmp_path,
        "hparams.yaml",
        "lr: 0.001\nbatch_size: 32\nmodel:\n  hidden: 128\noptimizer: adam  # comment\n",
    )
    h = read_path(tmp_path / "metrics.csv")
    assert h.meta == {"learning_rate": 0.001, "batch_size": 32, "optimizer": "adam"}


def test_keras_dict_with_scalar_entries(tmp_path: Path) -> None:
    data = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "epochs": 3, "lr": 0.01}
    h = read_path(write(tmp_path, "h.json", json.dumps(data)))
    assert h.format == "keras-json"
    assert h.meta == {"epochs": 3, "learning_rate": 0.01}
    assert set(roles(h)) == {"loss", "val_loss"}


def test_folder_of_runs(tmp_path: Path) -> None:
    logs = tmp_path / "lightning_logs"
    (logs / "version_0").mkdir(parents=True)
    (logs / "version_0" / "metrics.csv").write_text(LIGHTNING)
    h = read_path(logs)
    assert h.format == "lightning-csv"
    assert h.notes[0] == "the folder holds one run: version_0"
    (logs / "version_1").mkdir()
    (logs / "version_1" / "metrics.csv").write_text(LIGHTNING)
    with pytest.raises(InputError, match="holding 2 runs"):
        read_path(logs)


# --- format gaps (FORMATS.md A5, A9, A11) --------------------------------------------------------


def test_ultralytics_current_writer_with_time_and_segment_columns(tmp_path: Path) -> None:
    names = (
        "epoch,time,train/box_loss,train/seg_loss,train/cls_loss,train/dfl_loss,"
        "metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),"
        "metrics/precision(M),metrics/recall(M),metrics/mAP50(M),metrics/mAP50-95(M),"
        "val/box_loss,val/seg_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2"
    )
    rows = [
        "1,35.21,1.2345,2.1,2.3456,1.1234,0.51234,0.45671,0.47891,0.30123,0.5,0.4,0.45,0.28,"
        "1.3456,2.2,2.1234,1.2345,0.0700464,0.00329,0.00329",
        "2,70.8,1.1,1.9,2.0,1.05,0.6,0.5,0.55,0.35,0.55,0.45,0.5,0.31,1.2,2.0,1.9,1.15,0.04,"
        "0.0065,0.0065",
    ]
    h = read_path(write(tmp_path, "results.csv", "\n".join([names, *rows]) + "\n"))
    assert h.format == "ultralytics"
    got = roles(h)
    assert "time" not in got
    assert got["train/seg_loss"] == "train_loss"
    assert got["val/seg_loss"] == "val_loss"
    assert got["metrics/mAP50-95(M)"] == "val_metric"
    assert curve(h, "metrics/mAP50-95(M)").direction == "max"
    assert got["lr/pg2"] == "lr"
    assert curve(h, "val/box_loss").x.tolist() == [1.0, 2.0]


def test_ultralytics_classification_task(tmp_path: Path) -> None:
    text = (
        "epoch,time,train/loss,metrics/accuracy_top1,metrics/accuracy_top5,val/loss,lr/pg0,"
        "lr/pg1,lr/pg2\n1,10.1,2.3,0.41,0.8,2.1,0.0005,0.0005,0.0005\n"
        "2,20.3,1.9,0.55,0.88,1.8,0.0009,0.0009,0.0009\n"
    )
    h = read_path(write(tmp_path, "results.csv", text))
    assert h.format == "ultralytics"
    assert roles(h)["train/loss"] == "train_loss"
    assert roles(h)["metrics/accuracy_top1"] == "val_metric"
    assert roles(h)["val/loss"] == "val_loss"


def test_lightgbm_cv_note(tmp_path: Path) -> None:
    data = {"cv_agg": {"l2-mean": [0.5, 0.4, 0.35], "l2-stdv": [0.05, 0.04, 0.04]}}
    h = read_path(write(tmp_path, "cv.json", json.dumps(data)))
    assert "cross-validation aggregate" in h.notes[0]


def test_wandb_group_columns_are_runs(tmp_path: Path) -> None:
    text = (
        '"Step","Group: lr-1e-3 - train/loss","Group: lr-1e-3 - train/loss__MIN",'
        '"Group: lr-1e-3 - train/loss__MAX","Group: lr-1e-2 - train/loss"\n'
        '"0","2.3","2.2","2.4","2.3"\n"10","1.9","1.8","2.0","2.8"\n'
    )
    runs = read_runs(write(tmp_path, "groups.csv", text))
    assert [r.source.rsplit("#", 1)[1] for r in runs] == ["Group: lr-1e-3", "Group: lr-1e-2"]
    assert [roles(r) for r in runs] == [{"train/loss": "train_loss"}] * 2
    assert curve(runs[1], "train/loss").y.tolist() == [2.3, 2.8]


def test_hf_nan_filter_zero_losses_are_read_as_nan(tmp_path: Path) -> None:
    """The Trainer's default logging_nan_inf_filter logs loss 0.0 once a window is all NaN."""
    from curvedoc.readers import read_path

    log = [
        {"epoch": 0.1, "grad_norm": 1.2, "learning_rate": 0.1, "loss": 1.0, "step": 5},
        {"epoch": 0.2, "grad_norm": 9.9e3, "learning_rate": 0.1, "loss": 250.0, "step": 10},
        {"epoch": 0.3, "grad_norm": float("nan"), "learning_rate": 0.1, "loss": 0.0, "step": 15},
        {"epoch": 0.4, "grad_norm": float("nan"), "learning_rate": 0.1, "loss": 0.0, "step": 20},
        {"epoch": 0.5, "grad_norm": 0.5, "learning_rate": 0.1, "loss": 0.0, "step": 25},
    ]
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"log_history": log, "global_step": 25}))
    h = read_path(path)
    loss = h.get("loss")
    assert loss is not None
    assert list(np.isnan(loss.y)) == [False, False, True, True, False]
    assert loss.y[-1] == 0.0  # a finite grad norm: a real (if odd) zero loss stays
    assert any("logging_nan_inf_filter" in n for n in h.notes)


def test_ultralytics_args_yaml_beside_results_is_read_as_hyperparameters(tmp_path: Path) -> None:
    from curvedoc.readers import read_path

    header = (
        "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),"
        "metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,"
        "val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n"
    )
    rows = "".join(
        f"{e},{10 * e},{1.5 / e:.4f},{2 / e:.4f},{1.2 / e:.4f},0.5,0.4,0.45,0.3,"
        f"{1.6 / e:.4f},{2.1 / e:.4f},{1.3 / e:.4f},0.001,0.001,0.001\n"
        for e in range(1, 11)
    )
    (tmp_path / "results.csv").write_text(header + rows)
    (tmp_path / "args.yaml").write_text(
        "task: detect\nepochs: 10\nbatch: 16\nlr0: 0.01\nweight_decay: 0.0005\n"
        "optimizer: auto\nwarmup_epochs: 3.0\nmosaic: 1.0\n"
    )
    h = read_path(tmp_path / "results.csv")
    assert h.format == "ultralytics"
    assert h.meta["learning_rate"] == 0.01
    assert h.meta["batch_size"] == 16
    assert h.meta["weight_decay"] == 0.0005
    assert h.meta["epochs"] == 10
    assert any("args.yaml" in n for n in h.notes)
