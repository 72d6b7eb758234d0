"""Console logs read with a pattern: the shipped ones on output shaped as each tool prints it,
user regexes, and auto-detection when a file is no table."""

from __future__ import annotations

from pathlib import Path

import pytest

from curvedoc.errors import ConfigError, InputError
from curvedoc.model import Curve, History
from curvedoc.readers import PATTERNS, read_path, read_text_log, read_text_runs


def read_runs_text(text: str, source: str, pattern: str) -> list[History]:
    return read_text_runs(text, source=source, pattern=pattern)


NANOGPT = """\
tokens per iteration will be: 491,520
Initializing a new model from scratch
step 0: train loss 10.9876, val loss 10.9912
iter 0: loss 10.9791, time 12345.67ms, mfu -100.00%
iter 10: loss 9.1234, time 250.12ms, mfu 35.12%
iter 20: loss 7.8812, time 249.87ms, mfu 35.10%
step 20: train loss 7.5012, val loss 7.6123
saving checkpoint to out
iter 30: loss 6.9912, time 250.02ms, mfu 35.11%
step 40: train loss 6.1001, val loss 6.4012
"""

KERAS2 = """\
Epoch 1/3
1875/1875 [==============================] - 5s 2ms/step - loss: 0.2985 - accuracy: 0.9134 \
- val_loss: 0.1460 - val_accuracy: 0.9563
Epoch 2/3
1875/1875 [==============================] - 4s 2ms/step - loss: 0.1432 - accuracy: 0.9571 \
- val_loss: 0.1113 - val_accuracy: 0.9662
Epoch 3/3
1875/1875 [==============================] - 4s 2ms/step - loss: 0.1085 - accuracy: 0.9671 \
- val_loss: 0.0981 - val_accuracy: 0.9701
"""

# Keras 3 redraws its progress bar with \r; the last draw of an epoch is the epoch's value
KERAS3 = (
    "Epoch 1/2\n"
    "\r   1/1875 ━━━━━━━━━━━━━━━━━━━━ 20:00 640ms/step - accuracy: 0.0938 - loss: 2.3519"
    "\r 500/1875 ━━━━━━━━━━━━━━━━━━━━ 2s 2ms/step - accuracy: 0.7712 - loss: 0.7701"
    "\r1875/1875 ━━━━━━━━━━━━━━━━━━━━ 4s 2ms/step - accuracy: 0.8804 - learning_rate: 1.0000e-03"
    " - loss: 0.4257 - val_accuracy: 0.9571 - val_loss: 0.1420\n"
    "Epoch 2/2\n"
    "\r1875/1875 ━━━━━━━━━━━━━━━━━━━━ 4s 2ms/step - accuracy: 0.9611 - learning_rate: 1.0000e-03"
    " - loss: 0.1301 - val_accuracy: 0.9672 - val_loss: 0.1050\n"
)

XGBOOST = """\
[0]\tvalidation_0-logloss:0.60894\tvalidation_1-logloss:0.61532
[1]\tvalidation_0-logloss:0.54143\tvalidation_1-logloss:0.55311
[2]\tvalidation_0-logloss:0.48601\tvalidation_1-logloss:0.50512
[3]\tvalidation_0-logloss:0.43988\tvalidation_1-logloss:0.46711
"""

LIGHTGBM = """\
[LightGBM] [Info] Total Bins 510
[LightGBM] [Info] Number of data points in the train set: 800, number of used features: 2
[10]\ttraining's l2: 0.412\tvalid_1's l2: 0.455
[20]\ttraining's l2: 0.301\tvalid_1's l2: 0.371
[30]\ttraining's l2: 0.254\tvalid_1's l2: 0.349
Early stopping, best iteration is:
[30]\ttraining's l2: 0.254\tvalid_1's l2: 0.349
"""


def curve(h: History, name: str) -> Curve:
    c = h.get(name)
    assert c is not None, f"{name} not in {[c.name for c in h.curves]}"
    return c


def roles(h: History) -> dict[str, str]:
    return {c.name: c.role for c in h.curves}


def test_shipped_pattern_names() -> None:
    assert set(PATTERNS) == {"nanogpt", "keras", "xgboost", "lightgbm"}
    assert all(p.description for p in PATTERNS.values())


def test_nanogpt() -> None:
    h = read_text_log(NANOGPT, source="train.log", pattern="nanogpt")
    assert h.format == "text-log"
    assert roles(h) == {"train_loss": "train_loss", "val_loss": "val_loss", "loss": "train_loss"}
    assert curve(h, "loss").x.tolist() == [0, 10, 20, 30]
    assert curve(h, "loss").y.tolist() == [10.9791, 9.1234, 7.8812, 6.9912]
    assert curve(h, "val_loss").y.tolist() == [10.9912, 7.6123, 6.4012]
    assert curve(h, "val_loss").x_unit == "step"
    assert "console log read with the 'nanogpt' pattern: 7 matching line(s)" in h.notes


def test_keras_progress_lines() -> None:
    for text in (KERAS2, KERAS3):
        h = read_text_log(text, source="fit.log", pattern="keras")
        assert curve(h, "val_loss").x_unit == "epoch"
        assert roles(h)["val_accuracy"] == "val_metric"
    h2 = read_text_log(KERAS2, source="fit.log", pattern="keras")
    assert curve(h2, "loss").x.tolist() == [1, 2, 3]
    assert curve(h2, "val_loss").y.tolist() == [0.1460, 0.1113, 0.0981]
    h3 = read_text_log(KERAS3, source="fit.log", pattern="keras")
    # the last redraw of epoch 1 wins over the mid-epoch ones
    assert curve(h3, "loss").y.tolist() == [0.4257, 0.1301]
    assert roles(h3)["learning_rate"] == "lr"
    assert curve(h3, "learning_rate").y.tolist() == [1e-3, 1e-3]


def test_xgboost_console_first_data_set_is_training() -> None:
    h = read_text_log(XGBOOST, source="xgb.log", pattern="xgboost")
    assert roles(h) == {"validation_0-logloss": "train_loss", "validation_1-logloss": "val_loss"}
    # rounds are printed from 0; x counts them from 1 as the evals_result reader does
    assert curve(h, "validation_1-logloss").x.tolist() == [1, 2, 3, 4]
    assert any("'validation_0' is taken as the training data" in n for n in h.notes)


def test_lightgbm_console() -> None:
    h = read_text_log(LIGHTGBM, source="lgb.log", pattern="lightgbm")
    assert roles(h) == {"training-l2": "train_loss", "valid_1-l2": "val_loss"}
    assert curve(h, "valid_1-l2").x.tolist() == [10, 20, 30]
    assert curve(h, "training-l2").y.tolist() == [0.412, 0.301, 0.254]


def _keras_epochs(epochs: range, total: int, loss0: float) -> str:
    return "".join(
        f"Epoch {e}/{total}\n"
        f"  1/285 [..............................] - ETA: 1:04 - loss: 4.0902 - acc: 0.0000e+00\r"
        f" 13/285 [>.............................] - ETA: 5s - loss: 3.9622 - acc: 0.0577\r"
        f"285/285 [==============================] - 6s 21ms/step - loss: {loss0 / e:.4f} "
        f"- acc: 0.{e:02d} - val_loss: {loss0 / e + 0.1:.4f} - val_acc: 0.{e:02d}\n"
        for e in epochs
    )


def test_a_console_log_of_several_fits_is_several_runs() -> None:
    """A real Keras console file holds four 50-epoch fits back to back ("Epoch 1/50" again):
    read as one run, each epoch kept only the last fit's value. A resume (back to epoch 3 of a
    run that began at 1) is the same run. The progress bar's ETA is a time, not a curve."""
    text = _keras_epochs(range(1, 6), 5, 2.0) + _keras_epochs(range(1, 4), 3, 1.0)
    runs = read_runs_text(text, "fit.log", "keras")
    assert [h.source for h in runs] == ["fit.log#run1", "fit.log#run2"]
    assert curve(runs[0], "loss").x.tolist() == [1, 2, 3, 4, 5]
    assert curve(runs[1], "loss").y.tolist() == [1.0, 0.5, 0.3333]
    assert any("run 2 of 2 in fit.log (lines" in n and "went back to 1" in n for n in runs[1].notes)
    assert all(c.name != "ETA" and c.name != "TA" for h in runs for c in h.curves)
    resumed = _keras_epochs(range(1, 6), 5, 2.0) + _keras_epochs(range(3, 6), 5, 1.0)
    assert len(read_runs_text(resumed, "fit.log", "keras")) == 1


def test_boosting_restarts_single_held_out_set_and_r_rounds() -> None:
    """A real LightGBM search log restarts its rounds at every trial and reports one data set,
    named 'valid': validation, not training data. R's xgb.train prints rounds from 1."""
    trial = "".join(f"[{r}]\tvalid's binary_logloss: {0.6 - r / 1000:.4f}\n" for r in (20, 40, 60))
    runs = read_runs_text(trial + trial, "search.md", "lightgbm")
    assert len(runs) == 2
    assert roles(runs[0]) == {"valid-binary_logloss": "val_loss"}
    r_log = "".join(
        f"[{r}]\ttrain-rmse:{7 - r / 10:.2f}\tvalidation-rmse:{7.1 - r / 10:.2f}\n"
        for r in (1, 2, 3)
    )
    (h,) = read_runs_text(r_log, "xgb.log", "xgboost")
    assert curve(h, "train-rmse").x.tolist() == [1, 2, 3]
    assert roles(h) == {"train-rmse": "train_loss", "validation-rmse": "val_loss"}


def test_nanogpt_eval_lines_with_a_unit() -> None:
    text = (
        "step 0: train loss 12.5201 BPC, val loss 12.5218 BPC\niter 0: loss 12.5435 BPC, time 1ms\n"
    )
    text += "iter 10: loss 10.0507 BPC, time 263.86ms\n"
    text += "step 250: train loss 3.1345 BPC, val loss 3.1441 BPC\n"
    h = read_text_log(text, source="out.log", pattern="nanogpt")
    assert curve(h, "val_loss").y.tolist() == [12.5218, 3.1441]


def test_user_pattern(tmp_path: Path) -> None:
    text = "ep=1 tl=0.9 vl=1.0\nnoise\nep=2 tl=0.7 vl=0.8\nep=3 tl=0.6 vl=0.75\n"
    p = tmp_path / "run.txt"
    p.write_text(text)
    h = read_path(p, pattern=r"ep=(?P<epoch>\d+) tl=(?P<train_loss>\S+) vl=(?P<val_loss>\S+)")
    assert roles(h) == {"train_loss": "train_loss", "val_loss": "val_loss"}
    assert curve(h, "val_loss").x.tolist() == [1, 2, 3]
    assert curve(h, "val_loss").x_unit == "epoch"
    # without an x group the matching lines are counted from 1
    h = read_text_log(text, source="run.txt", pattern=r"tl=(?P<loss>[\d.]+)")
    assert curve(h, "loss").x.tolist() == [1, 2, 3]
    assert curve(h, "loss").x_unit == "step"


def test_bad_user_patterns() -> None:
    with pytest.raises(ConfigError, match="invalid regular expression"):
        read_text_log("x", source="a", pattern="loss (?P<loss")
    with pytest.raises(ConfigError, match="needs a named group per curve"):
        read_text_log("x", source="a", pattern=r"step (?P<step>\d+)")
    with pytest.raises(InputError, match="no line matches the pattern"):
        read_text_log("nothing here\n", source="a", pattern=r"loss (?P<loss>[\d.]+)")


@pytest.mark.parametrize(
    ("text", "name"),
    [(NANOGPT, "nanogpt"), (KERAS2, "keras"), (XGBOOST, "xgboost"), (LIGHTGBM, "lightgbm")],
)
def test_console_logs_are_detected_without_a_pattern(tmp_path: Path, text: str, name: str) -> None:
    p = tmp_path / "console.log"
    p.write_text(text)
    h = read_path(p)
    assert h.format == "text-log"
    assert h.notes[0].startswith(f"console log read with the {name!r} pattern")


def test_a_table_is_still_a_table(tmp_path: Path) -> None:
    p = tmp_path / "training.log"
    p.write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.5,0.7\n")
    assert read_path(p).format == "keras-csv"
    # and forcing a pattern on it reads it with the pattern
    h = read_path(p, pattern=r"^(?P<epoch>\d+),(?P<loss>[\d.]+),")
    assert h.format == "text-log"
    assert curve(h, "loss").y.tolist() == [1.0, 0.5]
