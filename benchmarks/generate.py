"""Realistic training logs for the benchmarks, from 20 epochs to 10^7 steps.

Every log has the shapes a real run has, so the detectors do their real work (a flat synthetic line
would let them stop early): a power-law loss decay with multiplicative mini-batch noise, a linear
warmup then cosine learning-rate schedule, a gradient norm that falls and spikes a few times, and a
validation loss logged sparsely that starts to overfit towards the end.

``python benchmarks/generate.py [--quick|--full] [--out DIR]`` writes (default DIR: a
``curvedoc-bench`` folder in the system temp directory; the large files are never committed):

==========================  ===============================================================
file                        what
==========================  ===============================================================
keras_20.json               Keras ``History.history``, 20 epochs (overfitting half-way)
keras_20_improving.json     the same, stopped while still improving (a saturating fit runs)
keras_1000.json             Keras ``History.history``, 1,000 epochs
hf_100k/trainer_state.json  Hugging Face state, 100,000 ``log_history`` entries
plain_1e6.csv               ``step,loss,lr,grad_norm,val_loss`` (val every 1,000 steps)
lightning_1e6/metrics.csv   Lightning ``CSVLogger``: alphabetical header, sparse val rows
runs_N/                     N small runs (Keras JSON and CSV logs, some diverging or
                            overfitting): 50 with --quick, 1,000 with --full
plain_1e7.csv, lightning_1e7/metrics.csv   the same at 10^7 rows (--full only)
metrics_1e6.jsonl           JSON Lines, one record per step (``step,loss,lr,grad_norm``) and
                            one per evaluation (``step,val_loss``), as custom loggers write
                            them; 10^6 steps (--full only)
==========================  ===============================================================

Files already present with the right size are kept, so a second benchmark run does not pay for
generation again.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from inputs import Inputs

FloatArray = npt.NDArray[np.float64]

#: Rows written per chunk: bounds the generator's memory at any size.
CHUNK = 500_000
VAL_EVERY = 1_000
SEED = 20240601


def default_out() -> Path:
    return Path(tempfile.gettempdir()) / "curvedoc-bench"


@dataclass(frozen=True)
class Run:
    """One synthetic run's curves over ``n`` steps (or epochs), computed chunk by chunk."""

    n: int
    seed: int = SEED
    peak_lr: float = 3e-4
    warmup: float = 0.02
    overfit_from: float = 0.8
    spikes: int = 4

    def lr(self, t: FloatArray) -> FloatArray:
        """Linear warmup to the peak, then cosine decay to zero."""
        w = max(1.0, self.warmup * self.n)
        ramp = (t + 1.0) / w
        cos = 0.5 * (1.0 + np.cos(math.pi * np.clip((t - w) / max(self.n - w, 1.0), 0.0, 1.0)))
        return self.peak_lr * np.where(t < w, ramp, cos)

    def clean_loss(self, t: FloatArray) -> FloatArray:
        """A power-law decay towards 0.8 (the curve most language-model losses follow)."""
        return 0.8 + 2.4 * np.power(1.0 + 200.0 * t / self.n, -0.6)

    def val_loss(self, t: FloatArray) -> FloatArray:
        """Slightly above the training loss, rising again in the last fifth (overfitting)."""
        late = np.clip(t / self.n - self.overfit_from, 0.0, None)
        return self.clean_loss(t) + 0.05 + 1.5 * late**2

    def spike_steps(self) -> npt.NDArray[np.int64]:
        rng = np.random.default_rng(self.seed + 1)
        lo, hi = int(0.1 * self.n), max(int(0.9 * self.n), int(0.1 * self.n) + 1)
        return np.sort(rng.choice(np.arange(lo, hi), size=min(self.spikes, hi - lo), replace=False))

    def chunks(self, size: int = CHUNK) -> Iterator[tuple[FloatArray, ...]]:
        """(step, loss, lr, grad_norm, val_loss) per chunk; val_loss is NaN off the eval steps."""
        spikes = self.spike_steps()
        for start in range(0, self.n, size):
            t = np.arange(start, min(start + size, self.n), dtype=np.float64)
            rng = np.random.default_rng((self.seed, start))
            noise = np.exp(0.08 * rng.standard_normal(t.size))
            loss = self.clean_loss(t) * noise
            grad = (0.4 + 2.0 * np.power(1.0 + 50.0 * t / self.n, -0.5)) * np.exp(
                0.15 * rng.standard_normal(t.size)
            )
            local = spikes[(spikes >= start) & (spikes < start + t.size)] - start
            loss[local] *= 3.0
            grad[local] *= 25.0
            val = np.full(t.size, np.nan)
            on_eval = (t.astype(np.int64) + 1) % VAL_EVERY == 0
            val[on_eval] = self.val_loss(t[on_eval])
            yield t, loss, self.lr(t), grad, val


def _fmt(values: FloatArray, spec: str = "{:.6g}") -> list[str]:
    return [spec.format(v) if v == v else "" for v in values.tolist()]


def _logged(values: FloatArray) -> list[str]:
    """As Lightning's CSVLogger writes a metric: a float32 tensor's ``.item()``, written by the
    csv module as ``repr`` of the Python float (17 significant digits about half the time)."""
    return _fmt(values.astype(np.float32).astype(np.float64), "{!r}")


def _write_rows(path: Path, header: str, rows: Iterator[list[list[str]]]) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(header + "\n")
        for columns in rows:
            fh.write("\n".join(map(",".join, zip(*columns, strict=True))))
            fh.write("\n")
    os.replace(tmp, path)


def write_plain_csv(path: Path, n: int) -> None:
    """A generic CSV: every row has a training point; val_loss is blank except every 1,000."""

    def rows() -> Iterator[list[list[str]]]:
        for t, loss, lr, grad, val in Run(n).chunks():
            yield [_fmt(t, "{:.0f}"), _fmt(loss), _fmt(lr), _fmt(grad), _fmt(val)]

    _write_rows(path, "step,loss,lr,grad_norm,val_loss", rows())


def write_jsonl(path: Path, n: int) -> None:
    """JSON Lines: a record per training step, and one more per evaluation (its own shape)."""
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for t, loss, lr, grad, val in Run(n).chunks():
            lines = []
            for step, lo, r, g, v in zip(
                _fmt(t, "{:.0f}"), _fmt(loss), _fmt(lr), _fmt(grad), _fmt(val), strict=True
            ):
                lines.append(f'{{"step": {step}, "loss": {lo}, "lr": {r}, "grad_norm": {g}}}\n')
                if v:  # (blank off the evaluation steps)
                    lines.append(f'{{"step": {step}, "val_loss": {v}}}\n')
            fh.write("".join(lines))
    os.replace(tmp, path)


def write_lightning_csv(path: Path, n_rows: int) -> None:
    """Lightning's sparse layout: training rows, plus one validation row (its own row, same step,
    the other cells blank) every 1,000 steps; ``n_rows`` rows in all; values as Lightning writes
    them (:func:`_logged`). The plain CSV keeps 6 significant digits, as a hand-written loop's
    ``f"{loss:.6g}"`` would."""
    steps = n_rows * VAL_EVERY // (VAL_EVERY + 1)
    steps_per_epoch = max(1, steps // 10)

    def rows() -> Iterator[list[list[str]]]:
        written = 0
        for t, loss, lr, grad, val in Run(steps).chunks():
            epoch = _fmt(np.floor(t / steps_per_epoch), "{:.0f}")
            step = _fmt(t, "{:.0f}")
            cols = [epoch, _logged(grad), _logged(lr), step, _logged(loss), [""] * t.size]
            out: list[list[str]] = [[] for _ in cols]
            evals = np.flatnonzero(val == val).tolist()
            prev = 0
            ends = evals if evals and evals[-1] == t.size - 1 else [*evals, t.size - 1]
            for i in ends:
                for c, col in zip(out, cols, strict=True):
                    c.extend(col[prev : i + 1])
                if i in evals:
                    row = [epoch[i], "", "", step[i], "", _logged(val[i : i + 1])[0]]
                    for c, cell in zip(out, row, strict=True):
                        c.append(cell)
                prev = i + 1
            written += len(out[0])
            yield out
        # top up so the file has exactly n_rows rows
        missing = n_rows - written
        if missing > 0:
            last = _fmt(np.full(missing, float(steps - 1)), "{:.0f}")
            yield [last, [""] * missing, [""] * missing, last, ["0.9"] * missing, [""] * missing]

    _write_rows(path, "epoch,grad_norm,lr-AdamW,step,train_loss_step,val_loss", rows())


def keras_history(epochs: int, seed: int = SEED, kind: str = "overfit") -> dict[str, list[float]]:
    """A Keras ``History.history`` dict: loss, accuracy, val_loss, val_accuracy, learning_rate.

    ``kind``: ``overfit`` (validation turns up half-way), ``diverge`` (the loss climbs from 60%
    of the run), ``improving`` (stopped while both losses still fall: the common CI case, and
    the one that makes curvedoc fit a saturating curve), anything else converges cleanly.
    """
    rng = np.random.default_rng(seed)
    e = np.arange(epochs, dtype=np.float64)
    tau = epochs / 1.5 if kind == "improving" else epochs / 6
    loss = 0.25 + 1.8 * np.exp(-e / max(tau, 1.0)) + 0.01 * rng.standard_normal(epochs)
    if kind == "overfit":
        late = np.clip(e / epochs - 0.5, 0, None)
        val = loss + 0.08 + 0.9 * late**2 + 0.015 * rng.standard_normal(epochs)
    elif kind == "diverge":
        blow = np.clip(e - 0.6 * epochs, 0, None)
        loss = loss + 0.35 * blow
        val = loss + 0.1 + 0.015 * rng.standard_normal(epochs)
    else:
        val = loss + 0.08 + 0.015 * rng.standard_normal(epochs)
    acc = np.clip(1.0 - loss / 2.5, 0, 1)
    val_acc = np.clip(1.0 - val / 2.5, 0, 1)
    lr = np.where(e < 0.7 * epochs, 1e-3, 1e-4)
    return {
        "loss": np.round(loss, 6).tolist(),
        "accuracy": np.round(acc, 6).tolist(),
        "val_loss": np.round(val, 6).tolist(),
        "val_accuracy": np.round(val_acc, 6).tolist(),
        "learning_rate": lr.tolist(),
    }


def hf_trainer_state(entries: int, eval_every: int = 50) -> dict[str, object]:
    """A ``trainer_state.json`` with ``entries`` log entries: training logs every 10 steps, an
    evaluation entry after every ``eval_every`` of them, and the final summary entry."""
    n_train = entries * eval_every // (eval_every + 1)
    run = Run(n_train * 10)
    log: list[dict[str, object]] = []
    trained = 0
    steps_per_epoch = max(1, n_train * 10 // 3)
    for t, loss, lr, grad, _ in run.chunks():
        sl = slice(9, None, 10)  # every 10th step is logged
        for s, lo, lr_, g in zip(
            t[sl].tolist(), loss[sl].tolist(), lr[sl].tolist(), grad[sl].tolist(), strict=True
        ):
            step = int(s) + 1
            log.append(
                {
                    "epoch": round(step / steps_per_epoch, 4),
                    "grad_norm": round(g, 5),
                    "learning_rate": lr_,
                    "loss": round(lo, 4),
                    "step": step,
                }
            )
            trained += 1
            if trained % eval_every == 0:
                log.append(
                    {
                        "epoch": round(step / steps_per_epoch, 4),
                        "eval_loss": float(run.val_loss(np.array([float(s)]))[0]),
                        "eval_runtime": 12.5,
                        "eval_samples_per_second": 80.1,
                        "eval_steps_per_second": 10.0,
                        "step": step,
                    }
                )
    log = log[: entries - 1]
    last = log[-1]["step"]
    log.append(
        {
            "epoch": 3.0,
            "step": last,
            "total_flos": 1.0e18,
            "train_loss": 1.1,
            "train_runtime": 36000.0,
            "train_samples_per_second": 50.0,
            "train_steps_per_second": 3.0,
        }
    )
    return {
        "best_metric": None,
        "epoch": 3.0,
        "global_step": last,
        "log_history": log,
        "logging_steps": 10,
        "max_steps": last,
        "num_train_epochs": 3,
        "train_batch_size": 32,
    }


def write_runs(folder: Path, count: int) -> None:
    """``count`` small runs, one file each: Keras JSON and Keras CSVLogger files, of 20–60
    epochs, a tenth diverging and a third overfitting (a sweep's worth of variety)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        kind = "diverge" if i % 10 == 0 else "overfit" if i % 3 == 0 else "clean"
        hist = keras_history(20 + i % 41, seed=SEED + i, kind=kind)
        if i % 2:
            names = list(hist)
            lines = ["epoch," + ",".join(names)]
            for e in range(len(hist["loss"])):
                lines.append(f"{e}," + ",".join(repr(hist[k][e]) for k in names))
            (folder / f"run_{i:04d}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            (folder / f"run_{i:04d}.json").write_text(json.dumps(hist), encoding="utf-8")


def _fresh(path: Path) -> bool:
    return not (path.exists() and path.stat().st_size > 0)


def generate(out: Path, *, full: bool = False, runs: int | None = None) -> Inputs:
    """Write every input (skipping files already there) and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    k20, k1000 = out / "keras_20.json", out / "keras_1000.json"
    k20_improving = out / "keras_20_improving.json"
    if _fresh(k20):
        k20.write_text(json.dumps(keras_history(20)), encoding="utf-8")
    if _fresh(k20_improving):
        history = keras_history(20, kind="improving")
        k20_improving.write_text(json.dumps(history), encoding="utf-8")
    if _fresh(k1000):
        k1000.write_text(json.dumps(keras_history(1000)), encoding="utf-8")
    hf = out / "hf_100k" / "trainer_state.json"
    if _fresh(hf):
        hf.parent.mkdir(exist_ok=True)
        hf.write_text(json.dumps(hf_trainer_state(100_000), indent=2), encoding="utf-8")
    sizes = [(6, "1e6")] + ([(7, "1e7")] if full else [])
    plain: dict[str, Path] = {}
    lightning: dict[str, Path] = {}
    for exp, tag in sizes:
        plain[tag] = out / f"plain_{tag}.csv"
        if _fresh(plain[tag]):
            write_plain_csv(plain[tag], 10**exp)
        lightning[tag] = out / f"lightning_{tag}" / "metrics.csv"
        if _fresh(lightning[tag]):
            lightning[tag].parent.mkdir(exist_ok=True)
            write_lightning_csv(lightning[tag], 10**exp)
    jsonl = out / "metrics_1e6.jsonl" if full else None
    if jsonl is not None and _fresh(jsonl):
        write_jsonl(jsonl, 10**6)
    count = runs if runs is not None else (1000 if full else 50)
    folder = out / f"runs_{count}"
    if not folder.is_dir() or len(list(folder.iterdir())) != count:
        write_runs(folder, count)
    return Inputs(
        keras_20=k20,
        keras_20_improving=k20_improving,
        keras_1000=k1000,
        hf_100k=hf,
        plain_1e6=plain["1e6"],
        lightning_1e6=lightning["1e6"],
        runs=folder,
        plain_1e7=plain.get("1e7"),
        lightning_1e7=lightning.get("1e7"),
        jsonl_1e6=jsonl,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="skip the 10^7-row files, 50 runs")
    mode.add_argument("--full", action="store_true", help="also the 10^7-row files, 1,000 runs")
    parser.add_argument("--out", type=Path, default=default_out(), help="output folder")
    parser.add_argument("--json", action="store_true", help="print the paths as JSON only")
    args = parser.parse_args(argv)
    inputs = generate(args.out, full=args.full)
    if args.json:
        print(json.dumps({k: str(v) if v else None for k, v in vars(inputs).items()}))
        return 0
    for name, path in vars(inputs).items():
        if path is not None:
            size = sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else None
            size = size if size is not None else path.stat().st_size
            print(f"{name:14s} {size / 1e6:9.1f} MB  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
