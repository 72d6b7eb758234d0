"""What a column is, judged from its name alone.

Every logger names things its own way (``val_loss``, ``eval_loss``, ``valid_loss``,
``validation/loss``, ``val/box_loss``, ``cls_val_loss``, ``metrics/mAP50(B)``, ``x/lr0``...). The
detectors only care about the canonical *role* (``train_loss``, ``val_loss``, ``train_metric``,
``val_metric``, ``lr``, ``grad_norm``, ``other``), the *split* (``train``/``val``/``test``/``none``)
and the *direction* (``min``/``max``). This module turns a name into those three, so every reader
classifies the same way and a user override is the only other source of truth.

The name is lowercased and cut into tokens at ``/ _ - . : ( ) [ ]`` and spaces, so prefixes and
suffixes of any logger are matched as whole words (``val/box_loss`` -> ``val``, ``box``, ``loss``)
and nested-model prefixes (Keras ``cls_val_loss``) need no special case.
"""

from __future__ import annotations

import re

ROLE_NAMES: tuple[str, ...] = (
    "train_loss",
    "val_loss",
    "train_metric",
    "val_metric",
    "lr",
    "grad_norm",
    "other",
)

_TOKEN_SPLIT = re.compile(r"[\s/_\-.:()\[\]@,]+")

_VAL_WORDS = frozenset({"val", "valid", "validation", "eval", "evaluation", "dev"})
_TEST_WORDS = frozenset({"test", "testing"})
_TRAIN_WORDS = frozenset({"train", "training", "trn"})

# Words that mean "lower is better".
_MIN_WORDS = frozenset(
    {
        "loss",
        "error",
        "err",
        "mse",
        "mae",
        "rmse",
        "msle",
        "rmsle",
        "mape",
        "l1",
        "l2",
        "logloss",
        "perplexity",
        "ppl",
        "wer",
        "cer",
        "ler",
        "nll",
        "crossentropy",
        "merror",
        "hinge",
        "kld",
        "kl",
        "divergence",
        "distance",
    }
)
# Words that mean "higher is better" (a score).
_MAX_WORDS = frozenset(
    {
        "acc",
        "accuracy",
        "auc",
        "aucpr",
        "map",
        "f1",
        "fscore",
        "precision",
        "recall",
        "r2",
        "bleu",
        "rouge",
        "iou",
        "miou",
        "dice",
        "reward",
        "return",
        "score",
        "ndcg",
        "top1",
        "top5",
        "exact",
        "match",
        "em",
        "psnr",
        "ssim",
        "sensitivity",
        "specificity",
        "kappa",
        "mcc",
        "jaccard",
    }
)
# Prefix families: ``map50``, ``map50-95``, ``rouge1``, ``rougel``, ``ndcg@5``, ``auc_1``.
_MAX_PREFIXES = ("map", "rouge", "ndcg", "auc", "top")
_MIN_PREFIXES = ("logloss",)

# Exact names (normalized) that are never curves: axes, clocks, counters, tool internals.
_BOOKKEEPING = frozenset(
    {
        "epoch",
        "epochs",
        "step",
        "steps",
        "global_step",
        "globalstep",
        "iteration",
        "iterations",
        "iter",
        "round",
        "batch",
        "time",
        "times",
        "wall time",
        "wall_time",
        "walltime",
        "timestamp",
        "datetime",
        "date",
        "elapsed",
        "elapsed_time",
        "epoch_time",
        "duration",
        "runtime",
        "total_flos",
        "num_input_tokens_seen",
        "hp_metric",
        "_step",
        "_epoch",
        "_runtime",
        "_timestamp",
        "_wall_time",
        # what Ray Tune adds to every reported result (and MLflow or W&B then log)
        "done",
        "pid",
        "training_iteration",
        "iterations_since_restore",
        "time_since_restore",
        "time_this_iter_s",
        "time_total_s",
        "timesteps_since_restore",
        "timesteps_total",
        "episodes_total",
        "warmup_time",
        "trial_id",
        "node_ip",
        "hostname",
    }
)
#: (``eval_model_preparation_time``: the seconds transformers spends preparing the model for
#: its first evaluation, logged with every evaluation since 4.45)
_BOOKKEEPING_SUFFIXES = (
    "_runtime",
    "_per_second",
    "/runtime",
    "/steps_per_second",
    "_preparation_time",
)


def tokens(name: str) -> list[str]:
    """The lowercase words of a name: ``"metrics/mAP50(B)"`` -> ``["metrics", "map50", "b"]``."""
    return [t for t in _TOKEN_SPLIT.split(name.strip().lower()) if t]


def is_bookkeeping(name: str) -> bool:
    """True for columns that are an axis, a clock or a counter, never a learning curve."""
    norm = name.strip().lower()
    if norm in _BOOKKEEPING:
        return True
    return norm.endswith(_BOOKKEEPING_SUFFIXES)


def split_of(name: str) -> str:
    """``val``/``test``/``train`` from the name's words, or ``none`` when it names no split."""
    words = tokens(name)
    if words and words[0] == "metrics":
        # Ultralytics ``metrics/*`` are measured on the validation set.
        return "val"
    for w in words:
        if w in _VAL_WORDS:
            return "val"
        if w in _TEST_WORDS:
            return "test"
    for w in words:
        if w in _TRAIN_WORDS:
            return "train"
    return "none"


def _is_loss(words: list[str]) -> bool:
    return any(w == "loss" or w.endswith("loss") or w == "losses" for w in words)


def _is_lr(words: list[str], norm: str) -> bool:
    if "learning" in words and "rate" in words:
        return True
    if "learningrate" in words:
        return True
    return any(w == "lr" or re.fullmatch(r"lr\d+", w) is not None for w in words) or norm == "lr"


def _is_grad_norm(words: list[str]) -> bool:
    if "gradnorm" in words or "grad_norm" in words:
        return True
    return ("grad" in words or "gradient" in words or "grads" in words) and "norm" in words


def direction_of(name: str) -> str | None:
    """``min``/``max`` when a word of the name says so, else None."""
    words = tokens(name)
    if _is_loss(words):
        return "min"
    for w in words:
        if w in _MIN_WORDS or w.startswith(_MIN_PREFIXES):
            return "min"
    for w in words:
        if w in _MAX_WORDS or w.startswith(_MAX_PREFIXES):
            return "max"
    return None


def role_for_split(kind: str, split: str) -> str:
    """The role of a ``loss`` or ``metric`` measured on ``split`` (test counts as validation)."""
    side = "val" if split in ("val", "test") else "train"
    return f"{side}_{kind}"


def split_for_role(role: str, name_split: str) -> str:
    """The split that goes with ``role``, keeping ``test`` when the name says test."""
    if role.startswith("val_"):
        return "test" if name_split == "test" else "val"
    if role.startswith("train_"):
        return "train"
    if role in ("grad_norm", "lr"):
        return "train"
    return name_split


def classify(name: str) -> tuple[str, str, str]:
    """(role, split, direction) of a column, from its name.

    Losses are ``train_loss``/``val_loss`` by split (no split word means training: Keras ``loss``);
    a known metric word makes ``train_metric``/``val_metric``; an unknown name with a split word is
    a metric of that split; an unknown name without one is ``other``. Bookkeeping columns
    (:func:`is_bookkeeping`) come back as ``other``; readers drop them.
    """
    words = tokens(name)
    norm = name.strip().lower()
    split = split_of(name)
    direction = direction_of(name)
    if is_bookkeeping(name):
        return "other", "none", direction or "min"
    if _is_grad_norm(words):
        return "grad_norm", "train", "min"
    if _is_lr(words, norm) and not _is_loss(words):
        return "lr", "train", "min"
    if _is_loss(words):
        return role_for_split("loss", split), _concrete_split(split), "min"
    if direction is not None:
        return role_for_split("metric", split), _concrete_split(split), direction
    if split != "none":
        return role_for_split("metric", split), split, "min"
    return "other", "none", "min"


def _concrete_split(split: str) -> str:
    return "train" if split == "none" else split
