"""Column name -> (role, split, direction): the table every reader relies on."""

from __future__ import annotations

import pytest

from curvedoc.readers.roles import classify, direction_of, is_bookkeeping

CASES = [
    # train losses
    ("loss", "train_loss", "train", "min"),
    ("train_loss", "train_loss", "train", "min"),
    ("train/loss", "train_loss", "train", "min"),
    ("loss_epoch", "train_loss", "train", "min"),
    ("train_loss_step", "train_loss", "train", "min"),
    ("train/box_loss", "train_loss", "train", "min"),
    ("reg_loss", "train_loss", "train", "min"),
    ("output_1_loss", "train_loss", "train", "min"),
    ("epoch_loss", "train_loss", "train", "min"),
    # validation / test losses
    ("val_loss", "val_loss", "val", "min"),
    ("eval_loss", "val_loss", "val", "min"),
    ("valid_loss", "val_loss", "val", "min"),
    ("validation_loss", "val_loss", "val", "min"),
    ("validation/loss", "val_loss", "val", "min"),
    ("val/box_loss", "val_loss", "val", "min"),
    ("cls_val_loss", "val_loss", "val", "min"),
    ("eval_squad_loss", "val_loss", "val", "min"),
    ("test_loss", "val_loss", "test", "min"),
    # metrics
    ("accuracy", "train_metric", "train", "max"),
    ("acc", "train_metric", "train", "max"),
    ("train_acc", "train_metric", "train", "max"),
    ("val_accuracy", "val_metric", "val", "max"),
    ("cls_val_accuracy", "val_metric", "val", "max"),
    ("eval_wer", "val_metric", "val", "min"),
    ("val_ler", "val_metric", "val", "min"),
    ("reg_mae", "train_metric", "train", "min"),
    ("val_mean_absolute_error", "val_metric", "val", "min"),
    ("eval_f1", "val_metric", "val", "max"),
    ("eval_rougeL", "val_metric", "val", "max"),
    ("metrics/mAP50(B)", "val_metric", "val", "max"),
    ("metrics/mAP50-95(B)", "val_metric", "val", "max"),
    ("metrics/mAP_0.5:0.95", "val_metric", "val", "max"),
    ("metrics/precision(B)", "val_metric", "val", "max"),
    ("metrics/accuracy_top1", "val_metric", "val", "max"),
    ("val/reward", "val_metric", "val", "max"),
    ("test/acc", "val_metric", "test", "max"),
    ("val_perplexity", "val_metric", "val", "min"),
    ("val_custom_thing", "val_metric", "val", "min"),
    # learning rate and gradient norm
    ("lr", "lr", "train", "min"),
    ("learning_rate", "lr", "train", "min"),
    ("lr/pg0", "lr", "train", "min"),
    ("x/lr0", "lr", "train", "min"),
    ("lr-Adam", "lr", "train", "min"),
    ("reg_learning_rate", "lr", "train", "min"),
    ("epoch_learning_rate", "lr", "train", "min"),
    ("grad_norm", "grad_norm", "train", "min"),
    ("gradient_norm", "grad_norm", "train", "min"),
    ("train/grad_norm", "grad_norm", "train", "min"),
    # unknown names without a split word
    ("out_tensor([0.])", "other", "none", "min"),
    ("temperature", "other", "none", "min"),
]


@pytest.mark.parametrize(("name", "role", "split", "direction"), CASES)
def test_classify(name: str, role: str, split: str, direction: str) -> None:
    assert classify(name) == (role, split, direction)


@pytest.mark.parametrize(
    "name",
    [
        "epoch",
        "Epoch",
        "step",
        "global_step",
        "time",
        "Wall time",
        "eval_runtime",
        "train_runtime",
        "eval_samples_per_second",
        "train_steps_per_second",
        "total_flos",
        "num_input_tokens_seen",
        "_timestamp",
        "_runtime",
        "_step",
        "hp_metric",
        "eval_model_preparation_time",
        "training_iteration",
        "time_this_iter_s",
        "iterations_since_restore",
    ],
)
def test_bookkeeping(name: str) -> None:
    assert is_bookkeeping(name)
    assert classify(name)[0] == "other"


@pytest.mark.parametrize("name", ["loss", "epoch_loss", "val_acc", "lr", "timestep_reward"])
def test_not_bookkeeping(name: str) -> None:
    assert not is_bookkeeping(name)


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("logloss", "min"),
        ("rmse", "min"),
        ("l2", "min"),
        ("cer", "min"),
        ("nll", "min"),
        ("auc", "max"),
        ("ndcg@10", "max"),
        ("iou", "max"),
        ("dice", "max"),
        ("r2", "max"),
        ("bleu", "max"),
        ("score", "max"),
        ("mystery", None),
    ],
)
def test_direction_words(name: str, direction: str | None) -> None:
    assert direction_of(name) == direction
