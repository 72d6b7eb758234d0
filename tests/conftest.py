"""Shared test helpers: build a :class:`History` from plain lists, and the default settings.

``make_history(loss=[...], val_loss=[...])`` infers each curve's role, split and direction from
its name the way a reader would for the common Keras names, so tests stay short; pass a
:class:`Curve` positionally when a test needs full control.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from curvedoc.model import Curve, History
from curvedoc.packs import Settings, resolve_settings

#: name → (role, split, direction) for the names tests use.
KNOWN_NAMES: dict[str, tuple[str, str, str]] = {
    "loss": ("train_loss", "train", "min"),
    "train_loss": ("train_loss", "train", "min"),
    "val_loss": ("val_loss", "val", "min"),
    "eval_loss": ("val_loss", "val", "min"),
    "accuracy": ("train_metric", "train", "max"),
    "acc": ("train_metric", "train", "max"),
    "val_accuracy": ("val_metric", "val", "max"),
    "val_acc": ("val_metric", "val", "max"),
    "lr": ("lr", "train", "min"),
    "learning_rate": ("lr", "train", "min"),
    "grad_norm": ("grad_norm", "train", "min"),
}

Values = Sequence[float | None] | np.ndarray


def make_curve(
    name: str,
    y: Values,
    *,
    x: Values | None = None,
    role: str | None = None,
    direction: str | None = None,
    x_unit: str = "epoch",
    start: float = 1.0,
) -> Curve:
    """One curve; ``None`` in ``y`` becomes NaN; ``x`` defaults to ``start, start+1, ...``."""
    known_role, split, known_dir = KNOWN_NAMES.get(name, ("other", "none", "min"))
    ya = np.array([math.nan if v is None else v for v in y], dtype=np.float64)
    xa = (
        np.arange(ya.size, dtype=np.float64) + start
        if x is None
        else np.asarray(x, dtype=np.float64)
    )
    role = role or known_role
    if role != known_role:
        split = "val" if role.startswith("val") else "train"
    return Curve(
        name=name,
        role=role,
        split=split,
        x=xa,
        y=ya,
        x_unit=x_unit,
        direction=direction or known_dir,
    )


def build_history(
    *extra: Curve,
    meta: dict[str, Any] | None = None,
    x_unit: str = "epoch",
    start: float = 1.0,
    source: str = "test-run",
    **curves: Values,
) -> History:
    """A history from keyword lists (``loss=[...]``) plus any ready-made curves."""
    built = tuple(make_curve(n, y, x_unit=x_unit, start=start) for n, y in curves.items())
    return History(source=source, format="test", curves=(*built, *extra), meta=dict(meta or {}))


@pytest.fixture
def make_history() -> Callable[..., History]:
    return build_history


@pytest.fixture(scope="session")
def default_settings() -> Settings:
    """The default pack with every rule selected and no project config (``--isolated``)."""
    return resolve_settings(config=None)


# A child's peak RSS, as ``os.wait4`` reports it, starts at the high-water mark of the process
# that spawned it (Linux copies it across vfork + exec). Spawned straight from pytest, whose
# own peak grows with every test before, a child would read several hundred MB it never used.
# So children are spawned by this small launcher (``python -S``: ~10 MB), which reports the
# child's exit status, peak and whether it had to be killed at the deadline.
_LAUNCHER = """
import json, os, signal, subprocess, sys, time
deadline, out_path, err_path, cmd = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
start = time.monotonic()
with open(out_path, "wb") as out, open(err_path, "wb") as err:
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > deadline:
            os.kill(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            killed = True
            break
        time.sleep(0.02)
print(json.dumps({"status": status, "maxrss": usage.ru_maxrss, "killed": killed,
                  "wall": time.monotonic() - start}))
"""


@dataclass(frozen=True)
class Measured:
    """How a child process ended: exit code, wall time, its own peak RSS, killed or not."""

    returncode: int
    wall: float
    peak_mb: float
    killed: bool


def run_measured(
    cmd: Sequence[str], *, stdout: Path, stderr: Path, deadline: float, env: dict[str, str]
) -> Measured:
    """Run ``cmd`` (output to files) and measure it, from a launcher with a small footprint."""
    launcher = subprocess.run(
        [sys.executable, "-S", "-c", _LAUNCHER, str(deadline), str(stdout), str(stderr), *cmd],
        env=env,
        capture_output=True,
        check=True,
    )
    got = json.loads(launcher.stdout)
    per_mb = 1024 * 1024 if sys.platform == "darwin" else 1024
    return Measured(
        returncode=os.waitstatus_to_exitcode(got["status"]),
        wall=float(got["wall"]),
        peak_mb=got["maxrss"] / per_mb,
        killed=bool(got["killed"]),
    )


def assert_block_reads_as_strings(
    values: np.ndarray, missing: np.ndarray, columns: Sequence[Sequence[str]]
) -> None:
    """A numeric block (``rows x columns`` floats and blank mask) holds exactly what the string
    route parses from the same cells: no text, the same blanks, the same values (NaN as NaN)."""
    from curvedoc.readers._numeric import parse_strings

    assert values.shape == (len(columns[0]) if columns else 0, len(columns))
    for j, cells in enumerate(columns):
        want = parse_strings(list(cells))
        assert not want.text_rows, j
        assert missing[:, j].tolist() == want.missing.tolist(), j
        assert np.array_equal(values[:, j], want.values, equal_nan=True), j


def assert_same_histories(a: Sequence[History], b: Sequence[History]) -> None:
    """Two reads of one log (by two routes) gave the same runs: names, notes, meta, curves."""
    assert len(a) == len(b)
    for ha, hb in zip(a, b, strict=True):
        assert (ha.source, ha.format, ha.notes, ha.meta) == (
            hb.source,
            hb.format,
            hb.notes,
            hb.meta,
        )
        assert [(c.name, c.role, c.split, c.x_unit) for c in ha.curves] == [
            (c.name, c.role, c.split, c.x_unit) for c in hb.curves
        ]
        for ca, cb in zip(ha.curves, hb.curves, strict=True):
            assert np.array_equal(ca.x, cb.x, equal_nan=True)
            assert np.array_equal(ca.y, cb.y, equal_nan=True)


def read_or_error(path: Path) -> list[History] | str:
    """Every run of ``path``, or the message of the error that refuses it."""
    from curvedoc.errors import CurvedocError
    from curvedoc.readers import read_runs

    try:
        return read_runs(path)
    except CurvedocError as exc:
        return str(exc)


def assert_same_read(a: list[History] | str, b: list[History] | str) -> None:
    """Two routes read one log alike: the same runs, or the same error."""
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
    else:
        assert_same_histories(a, b)
