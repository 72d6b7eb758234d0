"""Write tests/data/mlflow/ with the real ``mlflow`` package: a file store and an SQLite store.

mlflow is heavy (minutes to install, hundreds of MB), so it is *not* in the test extra; the files it
writes are committed and the tests only read them. To regenerate, in a separate virtualenv:

    python -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install mlflow
    /tmp/mlflow-venv/bin/python tests/data/make_mlflow.py

Both stores get the same runs, logged through the public API (``mlflow.log_metric``/``log_param``):

* experiment ``cnn``: run ``healthy`` (``train/loss`` and ``val/loss`` -- keys with ``/`` become
  sub-folders in the file store --, ``val/accuracy``, ``lr``; params ``lr``, ``batch_size``) and
  run ``diverged`` (the loss turns NaN, then Inf, at the end);
* the SQLite store is kept gzipped (``mlflow.db.gz``); tests unpack it into a temporary folder;
* experiment ``resumed``: run ``resumed`` logs steps 0-9, then the run is resumed
  (``start_run(run_id=...)``) and logs steps 6-14 again with other values.
"""

from __future__ import annotations

import gzip
import math
import shutil
import sqlite3
import sys
from pathlib import Path

import mlflow

OUT = Path(__file__).resolve().parent / "mlflow"


def _log_runs() -> None:
    mlflow.set_experiment("cnn")
    with mlflow.start_run(run_name="healthy"):
        mlflow.log_params({"lr": 0.001, "batch_size": 32})
        for step in range(12):
            train = 1.5 * math.exp(-step / 4) + 0.1
            mlflow.log_metric("train/loss", train, step=step)
            mlflow.log_metric("val/loss", train + 0.08, step=step)
            mlflow.log_metric("val/accuracy", 0.5 + 0.04 * step, step=step)
            mlflow.log_metric("lr", 0.001, step=step)
    with mlflow.start_run(run_name="diverged"):
        mlflow.log_param("lr", 0.5)
        for step in range(10):
            loss = 1.0 + 0.4 * step
            if step == 8:
                loss = math.nan
            if step == 9:
                loss = math.inf
            mlflow.log_metric("loss", loss, step=step)
    mlflow.set_experiment("resumed")
    with mlflow.start_run(run_name="resumed") as run:
        for step in range(10):
            mlflow.log_metric("loss", 2.0 - 0.1 * step, step=step)
    with mlflow.start_run(run_id=run.info.run_id):
        for step in range(6, 15):
            mlflow.log_metric("loss", 1.5 - 0.05 * step, step=step)


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    mlflow.set_tracking_uri((OUT / "mlruns").as_uri())
    _log_runs()
    db = OUT / "mlflow.db"
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    _log_runs()
    with sqlite3.connect(db) as con:
        con.execute("VACUUM")
    # ~1 MB of mostly empty pages (mlflow creates ~60 tables): stored gzipped, unpacked by tests
    (OUT / "mlflow.db.gz").write_bytes(gzip.compress(db.read_bytes(), mtime=0))
    db.unlink()
    # artifacts are empty folders; drop them so the data stays small
    for p in sorted(OUT.rglob("artifacts"), reverse=True):
        if p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total} bytes), mlflow {mlflow.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
