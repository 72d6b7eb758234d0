"""Per-run cache of the derived series every detector shares.

Detectors ask the context, not the raw history, for "the finite part of this curve", "its
smoothed version", "the learning rate at step x", "where the schedule decayed": computed once per
run, whichever detector asks first. This is also where schedule awareness lives, so every rule
agrees on what a warmup or a step decay looks like.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from curvedoc import signal
from curvedoc.model import Curve, FloatArray, History

_SPLIT_TOKENS = re.compile(
    r"(^|[_/\-. ])(train|training|val|valid|validation|eval|evaluation|test|dev)(?=$|[_/\-. ])",
    re.IGNORECASE,
)
T = TypeVar("T")
_WORDS = re.compile(r"[^a-z0-9]+")
#: The words that name a GAN's generator and discriminator (critic) in a loss's name.
_PLAYERS = {
    "g": frozenset({"g", "gen", "generator", "netg", "errg", "lossg"}),
    "d": frozenset({"d", "disc", "discriminator", "critic", "netd", "errd", "lossd"}),
}
_FORK_SUFFIX = re.compile(r"[_/](epoch|step)$", re.IGNORECASE)


@dataclass(frozen=True)
class Series:
    """The finite points of a curve, with their smoothed version (same length).

    The smoothing is computed when a rule first reads it: some curves (a gradient norm) are
    only ever read point by point, and a rolling median of a long log costs time and a
    full-length array."""

    x: FloatArray
    y: FloatArray
    window: int

    @cached_property
    def smooth(self) -> FloatArray:
        return signal.rolling_median(self.y, self.window)

    @property
    def n(self) -> int:
        return int(self.y.size)


def stem(name: str) -> str:
    """A curve name without its split words, to pair ``loss``/``val_loss``, ``train/box_loss``/
    ``val/box_loss``, ``reg_loss``/``reg_val_loss`` and ``train_loss_epoch``/``val_loss``."""
    s = _FORK_SUFFIX.sub("", name.strip())
    s = _SPLIT_TOKENS.sub(r"\1", s)
    s = re.sub(r"[_/\-. ]+", "_", s).strip("_").lower()
    return s or "loss"


def group_of(name: str) -> str:
    """What comes before a curve name's split word: the model or phase it belongs to.

    ``fine_tune_val_loss`` and ``fine_tune_val_accuracy`` belong to ``fine_tune``, ``cls_val_loss``
    to ``cls``; ``val_accuracy``, ``eval_wer`` and names without a split word
    (``metrics/mAP50(B)``) to the unnamed main group. A rule that reads a validation metric
    beside a validation loss reads one of the same group: a file that logs two models or two
    training phases has a metric for each.
    """
    m = _SPLIT_TOKENS.search(name.strip())
    head = name.strip()[: m.start()] if m else ""
    return re.sub(r"[_/\-. ]+", "_", head).strip("_").lower()


class Context:
    """Derived data for one :class:`History`; cheap to build, lazy to fill."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.meta: dict[str, Any] = dict(history.meta)
        self._series: dict[str, Series] = {}
        self._memo: dict[tuple[str, ...], Any] = {}

    def memo(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        """Compute a derived result once per run, whichever detector asks first (e.g. the
        saturating fit that both ``not-converged`` and ``slow-convergence`` read)."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value

    # -- curves ------------------------------------------------------------------------------
    def curves(self, *roles: str) -> tuple[Curve, ...]:
        return tuple(c for c in self.history.curves if c.role in roles)

    @cached_property
    def loss_terms(self) -> frozenset[str]:
        """Training losses that are the logged terms of another logged training loss.

        A physics-informed network logs its dynamics and boundary losses beside their sum, a
        VAE its reconstruction and KL terms beside the ELBO. The optimiser minimises the sum:
        one term rising while another falls is the trade-off it makes, not a run diverging,
        and a real divergence shows in the sum. Recognised from the numbers, not the names:
        two or more losses on the total's own steps that add up to it (within 1%, which also
        absorbs the rounding of each) at 90% of them.
        """
        losses = self.curves("train_loss")
        if len(losses) < 3:
            return frozenset()
        for total in losses:
            terms = [c for c in losses if c is not total and np.array_equal(c.x, total.x)]
            if len(terms) < 2:
                continue
            # every k-th step is enough to tell a sum (and keeps a 10^7-step log's temporaries
            # to 10,000 points)
            every = slice(None, None, max(1, total.y.size // 10_000))
            with np.errstate(all="ignore"):
                added = np.sum([c.y[every] for c in terms], axis=0)
                want = total.y[every]
                ok = np.isfinite(added) & np.isfinite(want)
                if int(ok.sum()) < 3:
                    continue
                gap = np.abs(added[ok] - want[ok])
                close = gap <= 0.01 * np.abs(want[ok])  # relative: scale-free
            if float(np.mean(close)) >= 0.9:
                return frozenset(c.name for c in terms)
        return frozenset()

    @cached_property
    def adversarial_losses(self) -> frozenset[str]:
        """The losses of a GAN's two players, when the log has both (``g_loss`` and ``d_loss``,
        ``generator_loss`` and ``critic_loss``, ``errG`` and ``errD``).

        Each player's loss is the other's gain: one rising while the other falls, or both
        hovering, is the game being played, not a run diverging, stalling or converging.
        Rules about the trend of a training loss leave them alone; NaN and spikes still count.
        """
        players: dict[str, set[str]] = {"g": set(), "d": set()}
        for c in self.curves("train_loss"):
            words = set(_WORDS.split(c.name.lower()))
            for player, names in _PLAYERS.items():
                if words & names:
                    players[player].add(c.name)
        if not players["g"] or not players["d"]:
            return frozenset()
        return frozenset(players["g"] | players["d"])

    def train_losses(self) -> tuple[Curve, ...]:
        """The training losses the run optimises, as the rules about a training loss read
        them: not the terms of a logged sum (:attr:`loss_terms`: judged through the sum), nor
        a GAN's players (:attr:`adversarial_losses`)."""
        skip = self.loss_terms | self.adversarial_losses
        return tuple(c for c in self.curves("train_loss") if c.name not in skip)

    def judged_losses(self) -> tuple[Curve, ...]:
        """The training losses a rule about "the loss" judges (:meth:`train_losses`), or the
        validation losses when no training loss is logged."""
        return self.train_losses() or self.curves("val_loss")

    def series(self, curve: Curve) -> Series:
        """Finite points of ``curve`` and their rolling-median smoothing (cached)."""
        cached = self._series.get(curve.name)
        if cached is not None:
            return cached
        mask = np.isfinite(curve.y)
        if bool(mask.all()):  # the usual case: no copy of a long curve
            x, y = curve.x, curve.y
        else:
            x, y = curve.x[mask], curve.y[mask]
        window = signal.smoothing_window(int(y.size))
        s = Series(x=x, y=y, window=window)
        self._series[curve.name] = s
        return s

    def epoch_mean(self, curve: Curve) -> Curve | None:
        """The epoch means of a per-batch curve, when the log has both (Lightning's forked
        ``X_step``/``X_epoch``). Single mini-batches are noisy by nature: rules about the *level*
        of the training loss (its bounce, its ratio to validation) read the means; rules about
        its *events* (divergence, NaN) keep the batches."""
        if not curve.name.endswith("_step"):
            return None
        mean = self.history.get(curve.name[: -len("_step")] + "_epoch")
        return mean if mean is not None and len(mean) >= 2 else None

    def pairs(self) -> list[tuple[Curve, Curve]]:
        """(train loss, validation loss) pairs matched by name stem.

        With exactly one of each, they pair whatever their names; otherwise names must agree
        once the split words are removed (``train/box_loss`` ↔ ``val/box_loss``).
        """
        trains = self.curves("train_loss")
        vals = self.curves("val_loss")
        if len(trains) == 1 and len(vals) == 1:
            return [(trains[0], vals[0])]
        by_stem = {stem(t.name): t for t in trains}
        out: list[tuple[Curve, Curve]] = []
        for v in vals:
            t = by_stem.get(stem(v.name))
            if t is not None:
                out.append((t, v))
        return out

    # -- schedule ----------------------------------------------------------------------------
    @cached_property
    def lr_curve(self) -> Curve | None:
        """The learning-rate curve that stands for the schedule.

        With several parameter groups (Ultralytics ``lr/pg0..2``, YOLOv5 ``x/lr0..2``) the one
        with the lowest peak: the bias group's warmup starts from a much higher rate
        (``warmup_bias_lr`` 0.1) and falls, which would read as a decay.
        """
        lrs = [c for c in self.curves("lr") if bool(np.any(np.isfinite(c.y)))]
        if not lrs:
            return None
        return min(lrs, key=lambda c: (float(np.nanmax(c.y)), c.name))

    @cached_property
    def _lr_finite(self) -> tuple[FloatArray, FloatArray] | None:
        c = self.lr_curve
        if c is None:
            return None
        m = np.isfinite(c.y)
        finite = int(m.sum())
        if finite == 0:
            return None
        if finite == m.size:  # the usual case: the curve itself, no copy of a long schedule
            return c.x, c.y
        return c.x[m], c.y[m]

    def lr_at(self, x: float) -> float | None:
        """The learning rate in force at ``x`` (the logged curve, else the run's meta)."""
        lr = self._lr_finite
        if lr is not None:
            xs, ys = lr
            i = int(np.searchsorted(xs, x, side="right")) - 1
            return float(ys[max(i, 0)])
        value = self.meta.get("learning_rate")
        if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
            return float(value)
        return None

    @cached_property
    def _lr_steps(self) -> tuple[FloatArray, FloatArray]:
        """(x of the step drops, x of the step rises) of the schedule: where the learning rate
        fell by 30% or more, or rose by 50% or more, from one log point to the next by several
        times the schedule's typical change. Both come from one pass; its full-length
        temporaries are computed in place (a 10^6-step schedule is 8 MB per array)."""
        lr = self._lr_finite
        if lr is None or lr[1].size < 2:
            return np.empty(0), np.empty(0)
        xs, ys = lr
        prev, nxt = ys[:-1], ys[1:]
        ratio = np.divide(nxt, prev, out=np.ones(nxt.size), where=prev > 0)
        np.nan_to_num(ratio, copy=False, nan=1.0)
        size = np.subtract(nxt, prev)
        np.abs(size, out=size)
        typical = float(signal.median(size))
        if typical > 0:
            np.divide(size, typical, out=size)
        else:
            size = np.where(size > 0, np.inf, 0.0)
        stepped = size >= 3.0
        del size
        return xs[1:][(ratio <= 0.7) & stepped], xs[1:][(ratio >= 1.5) & stepped]

    @cached_property
    def lr_drops(self) -> FloatArray:
        """x positions where the learning rate fell by 30% or more from one log point to the next
        *as a step* — several times the schedule's typical change (a step decay, a
        ReduceLROnPlateau cut). The tail of a linear or cosine decay also loses 30% per point
        near zero, but smoothly: that is not a step, and a loss drop there is not explained by it.
        """
        return self._lr_steps[0]

    @cached_property
    def lr_rises(self) -> FloatArray:
        """x positions where the learning rate jumped up by 50% or more, as a step, outside warmup
        (warm restarts, cyclic schedules): a loss bump right after one is expected."""
        rises = self._lr_steps[1]
        end = self.warmup_end
        return rises[rises > end] if end is not None else rises

    @cached_property
    def warmup_end(self) -> float | None:
        """Where the learning rate stops rising at the start of the run, if it does.

        Warmup is recognised when the logged LR starts well below its peak and the peak comes in
        the first half of the run (the Tuning Playbook's warmups are up to ~10% of steps).
        """
        lr = self._lr_finite
        if lr is None or lr[1].size < 3:
            return None
        xs, ys = lr
        peak = int(np.argmax(ys))
        if peak == 0 or ys[0] > 0.8 * ys[peak]:
            return None
        # A warmup ramps: several rising points. A single jump is a learning rate being raised
        # by hand or by a schedule change, which says something else entirely.
        if int(np.count_nonzero(np.diff(ys[: peak + 1]) > 0)) < 2:
            return None
        if xs[peak] - xs[0] > 0.5 * (xs[-1] - xs[0]):
            return None
        return float(xs[peak])

    @cached_property
    def steps_per_epoch(self) -> float | None:
        """Optimiser steps per epoch when the log says (a Hugging Face state's fractional
        ``epoch``, a Keras history's ``params``), else None."""
        spe = self.meta.get("steps_per_epoch")
        if isinstance(spe, bool) or not isinstance(spe, int | float):
            return None
        return float(spe) if math.isfinite(spe) and spe > 1 else None

    def at_epoch_start(self, x: float, slack: float) -> bool:
        """True when step ``x`` is within ``slack`` steps (or 5% of an epoch) of an epoch's
        start, on a log of steps whose steps per epoch are known and span ten slacks at least
        (with fewer points per epoch every step is near one)."""
        spe = self.steps_per_epoch
        if spe is None or spe < 10 * slack or x < 0.5 * spe:
            return False
        off = x % spe
        return min(off, spe - off) <= max(0.05 * spe, slack)

    def near_lr_change(self, x0: float, x1: float) -> bool:
        """True when an LR drop or restart happened within [x0, x1]."""
        for xs in (self.lr_drops, self.lr_rises):
            if xs.size and bool(np.any((xs >= x0) & (xs <= x1))):
                return True
        return False

    # -- run facts ---------------------------------------------------------------------------
    @cached_property
    def lr_peak(self) -> float | None:
        lr = self._lr_finite
        return float(np.max(lr[1])) if lr is not None else None

    def lr_annealed_at(self, x: float, ratio: float = 0.1) -> bool:
        """True when the logged learning rate at ``x`` is below ``ratio`` of its peak: the
        schedule is annealing, so slow progress there is by design."""
        peak = self.lr_peak
        if peak is None or peak <= 0:
            return False
        now = self.lr_at(x)
        return now is not None and now < ratio * peak

    @cached_property
    def x_span(self) -> tuple[float, float]:
        lo, hi = math.inf, -math.inf
        for c in self.history.curves:
            if c.x.size:
                lo = min(lo, float(c.x[0]))
                hi = max(hi, float(c.x[-1]))
        return (lo, hi) if lo <= hi else (0.0, 0.0)
