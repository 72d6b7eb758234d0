"""MLflow: a file store and an SQLite store written by the real mlflow package
(tests/data/make_mlflow.py), the shapes around them, and stores built by hand to the documented
schema for the cases mlflow's API will not write (deleted runs, an odd schema)."""

from __future__ import annotations

import gzip
import math
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from curvedoc.errors import InputError
from curvedoc.model import Curve, History
from curvedoc.readers import read_path, read_runs

DATA = Path(__file__).resolve().parent / "data" / "mlflow"
MLRUNS = DATA / "mlruns"


def curve(h: History, name: str) -> Curve:
    c = h.get(name)
    assert c is not None, f"{name} not in {[c.name for c in h.curves]}"
    return c


def by_name(runs: list[History]) -> dict[str, History]:
    return {str(h.meta["run_name"]): h for h in runs}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    p = tmp_path / "mlflow.db"
    p.write_bytes(gzip.decompress((DATA / "mlflow.db.gz").read_bytes()))
    return p


def _check_runs(runs: list[History], fmt: str) -> None:
    named = by_name(runs)
    assert sorted(named) == ["diverged", "healthy", "resumed"]
    healthy = named["healthy"]
    assert healthy.format == fmt
    assert {c.name: c.role for c in healthy.curves} == {
        "lr": "lr",
        "train/loss": "train_loss",
        "val/accuracy": "val_metric",
        "val/loss": "val_loss",
    }
    assert curve(healthy, "train/loss").x.tolist() == list(range(12))
    assert curve(healthy, "train/loss").y[0] == pytest.approx(1.6)
    assert healthy.meta["learning_rate"] == 0.001
    assert healthy.meta["batch_size"] == 32
    loss = curve(named["diverged"], "loss")
    assert math.isnan(loss.y[8])
    assert loss.y[9] == math.inf
    assert loss.y[7] == pytest.approx(3.8)
    resumed = curve(named["resumed"], "loss")
    # steps 6-9 were logged twice; the resumed run's (later) values win
    assert resumed.x.tolist() == list(range(15))
    assert resumed.y[5] == pytest.approx(1.5)
    assert resumed.y[6] == pytest.approx(1.5 - 0.05 * 6)
    assert any("4 duplicate steps merged" in n for n in named["resumed"].notes)


def test_file_store_root_experiment_and_run() -> None:
    runs = read_runs(MLRUNS)
    _check_runs(runs, "mlflow")
    healthy = by_name(runs)["healthy"]
    experiment = Path(healthy.source).parent
    assert len(read_runs(experiment)) == 2
    with pytest.raises(InputError, match="holding 2 runs"):
        read_path(experiment)
    one = read_path(healthy.source)
    assert one.meta["run_name"] == "healthy"
    # a metric key with '/' is a sub-folder
    assert (Path(healthy.source) / "metrics" / "train" / "loss").is_file()


def test_sqlite_store(db: Path) -> None:
    runs = read_runs(db)
    _check_runs(runs, "mlflow-sqlite")
    healthy = by_name(runs)["healthy"]
    assert healthy.source.startswith(f"{db}#")
    assert healthy.meta["experiment"] == "cnn"
    with pytest.raises(InputError, match="holds 3 runs"):
        read_path(db)
    # PATH#RUN by run id, or by a unique run name
    assert read_path(healthy.source).meta["run_name"] == "healthy"
    assert read_path(f"{db}#diverged").meta["run_name"] == "diverged"


def test_sqlite_store_gzipped_and_the_file_is_not_modified(db: Path, tmp_path: Path) -> None:
    before = db.read_bytes()
    gz = tmp_path / "store.db.gz"
    gz.write_bytes(gzip.compress(before))
    runs = read_runs(gz)
    assert len(runs) == 3
    assert runs[0].notes[0] == "gzip-compressed input, decompressed"
    read_runs(db)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db", "store.db.gz"]


def _handmade(path: Path, rows: list[tuple[str, float, int, str, int, int]]) -> Path:
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY, name VARCHAR(250),
            experiment_id INTEGER, lifecycle_stage VARCHAR(20), start_time BIGINT);
        CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name VARCHAR(256));
        CREATE TABLE metrics ("key" VARCHAR(250), value FLOAT NOT NULL, timestamp BIGINT,
            run_uuid VARCHAR(32), step BIGINT DEFAULT 0, is_nan BOOLEAN DEFAULT 0);
        CREATE TABLE latest_metrics (x INTEGER);
        INSERT INTO experiments VALUES (1, 'exp');
        INSERT INTO runs VALUES ('a', 'live', 1, 'active', 1), ('b', 'gone', 1, 'deleted', 2);
        """
    )
    con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return path


def test_sqlite_nan_inf_encoding_and_deleted_runs(tmp_path: Path) -> None:
    big = sys.float_info.max
    rows = [
        ("loss", 1.0, 10, "a", 0, 0),
        ("loss", 0.0, 11, "a", 1, 1),  # NaN is stored as 0 with is_nan
        ("loss", big, 12, "a", 2, 0),
        ("loss", -big, 13, "a", 3, 0),
        ("loss", 0.5, 14, "a", 4, 0),
        ("loss", 9.0, 15, "b", 0, 0),
        ("loss", 8.0, 16, "b", 1, 0),
    ]
    runs = read_runs(_handmade(tmp_path / "m.db", rows))
    assert len(runs) == 1  # the deleted run is skipped
    y = curve(runs[0], "loss").y.tolist()
    assert y[0] == 1.0
    assert math.isnan(y[1])
    assert y[2] == math.inf
    assert y[3] == -math.inf
    assert y[4] == 0.5
    assert runs[0].source.endswith("m.db#a")


def test_metrics_logged_without_a_step_are_numbered_in_logging_order(tmp_path: Path) -> None:
    """``mlflow.log_metric(key, value)`` without ``step=`` records step 0 every time (a real
    gesture-recognition run: 30 epochs, every line at step 0). Read by step, they collapsed to
    one point and the run was unreadable."""
    run = tmp_path / "0" / "abc"
    (run / "metrics").mkdir(parents=True)
    losses = [3.16, 3.09, 3.08, 3.02, 2.9, 2.7]
    lines = "".join(f"{1598540320723 + 1000 * i} {v} 0\n" for i, v in enumerate(losses))
    (run / "metrics" / "train_loss").write_text(lines)
    (run / "metrics" / "eval_loss").write_text("1598540421906 3.1 0\n1598540981102 3.0 1\n")
    h = read_path(run)
    assert curve(h, "train_loss").y.tolist() == losses
    assert curve(h, "train_loss").x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert curve(h, "eval_loss").x.tolist() == [0.0, 1.0]  # logged with steps: kept
    assert any("without a step" in n and "train_loss" in n for n in h.notes)
    # the store keeps them in timestamp order, and reads them the same way
    rows = [("loss", v, 10 + i, "a", 0, 0) for i, v in enumerate(losses)]
    (stored,) = read_runs(_handmade(tmp_path / "m.db", rows))
    assert curve(stored, "loss").y.tolist() == losses
    assert any("without a step" in n for n in stored.notes)


def test_sqlite_without_mlflow_tables(tmp_path: Path) -> None:
    p = tmp_path / "other.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE t (x INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="without MLflow's metrics and runs tables"):
        read_path(p)


def test_sqlite_store_with_no_metrics(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no run with a metric curve"):
        read_path(_handmade(tmp_path / "empty.db", []))


def test_deleted_file_store_run_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    shutil.copytree(MLRUNS, root)
    healthy = Path(by_name(read_runs(root))["healthy"].source)
    meta = healthy / "meta.yaml"
    meta.write_text(meta.read_text().replace("lifecycle_stage: active", "lifecycle_stage: deleted"))
    assert sorted(by_name(read_runs(root))) == ["diverged", "resumed"]


def test_broken_metric_file_names_the_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "metrics").mkdir(parents=True)
    (run / "metrics" / "loss").write_text("1 0.5 0\n2 0.4 1\nnot a metric line\n")
    with pytest.raises(InputError, match="expected '<timestamp> <value> <step>'") as info:
        read_path(run)
    assert info.value.line == 3


def test_real_mlflow_runs_in_shared_logs() -> None:
    real = Path(__file__).resolve().parents[1].parent / "shared" / "real-logs" / "mlflow"
    if not real.is_dir():
        pytest.skip("shared/real-logs is not next to the repository")
    runs = read_runs(real)
    assert sorted(Path(r.source).name for r in runs) == ["amh_stt_ctc", "swahili_stt_ctc"]
    amh = next(r for r in runs if r.source.endswith("amh_stt_ctc"))
    assert {c.name: c.role for c in amh.curves} == {
        "loss": "train_loss",
        "val_ler": "val_metric",
        "val_loss": "val_loss",
    }
