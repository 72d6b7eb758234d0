"""Finding the runs beneath a folder: every layout, and the trees that must not trip it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from curvedoc.discover import RunRef, discover, discover_runs, file_kind

DATA = Path(__file__).resolve().parent / "data"
LIGHTNING = "epoch,step,train_loss_step,val_loss\n0,10,0.9,\n0,10,,0.95\n1,20,0.7,\n1,20,,0.8\n"
KERAS = "epoch,loss,val_loss\n0,1.0,1.1\n1,0.5,0.7\n2,0.4,0.6\n"
HF_STATE = '{"log_history": [{"loss": 1.0, "step": %d, "epoch": 0.5}], "global_step": %d}'


def put(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def names(found: list[RunRef]) -> dict[str, str]:
    return {r.name: r.kind for r in found}


def test_a_sweep_folder_of_every_layout(tmp_path: Path) -> None:
    put(tmp_path, "lightning_logs/version_0/metrics.csv", LIGHTNING)
    put(tmp_path, "lightning_logs/version_0/hparams.yaml", "lr: 0.1\n")
    put(tmp_path, "lightning_logs/version_1/metrics.csv", LIGHTNING)
    for step in (500, 1000, 1500):
        put(tmp_path, f"hf_out/checkpoint-{step}/trainer_state.json", HF_STATE % (step, step))
    put(tmp_path, "hf_out/runs/Nov29/events.out.tfevents.1.host", "")  # part of the HF run
    put(tmp_path, "yolo/train/results.csv", "epoch,train/box_loss,metrics/mAP50(B)\n1,1.0,0.1\n")
    put(tmp_path, "yolo/train2/results.csv", "epoch,train/box_loss,metrics/mAP50(B)\n1,1.0,0.1\n")
    shutil.copytree(DATA / "tensorboard" / "keras_tf2", tmp_path / "keras_tb")
    shutil.copytree(DATA / "mlflow" / "mlruns", tmp_path / "mlruns")
    put(tmp_path, "loose/history.json", '{"loss": [1, 0.5], "val_loss": [1, 0.6]}')
    put(tmp_path, "loose/training.log", KERAS)
    put(tmp_path, "loose/config.json", '{"model": "resnet", "layers": 50}')
    put(tmp_path, "loose/requirements.txt", "numpy\nscipy\n")
    put(tmp_path, "loose/notes.txt", "nothing to see\n")
    found = discover_runs(tmp_path)
    got = names(found)
    mlflow_runs = [n for n in got if n.startswith("mlruns/")]
    assert len(mlflow_runs) == 3
    assert all(got[n] == "mlflow-run" for n in mlflow_runs)
    rest = {n: k for n, k in got.items() if not n.startswith("mlruns/")}
    assert rest == {
        "lightning_logs/version_0": "log-file",
        "lightning_logs/version_1": "log-file",
        "hf_out": "hf",
        "yolo/train": "log-file",
        "yolo/train2": "log-file",
        "keras_tb": "tensorboard",
        "loose/history.json": "file",
        "loose/training.log": "file",
    }
    # only the latest checkpoint of the HF run
    hf = next(r for r in found if r.name == "hf_out")
    assert hf.path.endswith("checkpoint-1500/trainer_state.json")
    assert [r.path for r in found] == sorted(r.path for r in found)


def test_a_run_folder_is_itself_the_run(tmp_path: Path) -> None:
    put(tmp_path, "metrics.csv", LIGHTNING)
    assert names(discover_runs(tmp_path)) == {tmp_path.name: "log-file"}
    f = put(tmp_path, "x/training.log", KERAS)
    assert discover_runs(f) == [RunRef(str(f), "file", "training.log")]


def test_sqlite_store_and_event_files(tmp_path: Path) -> None:
    shutil.copy(DATA / "mlflow" / "mlflow.db.gz", tmp_path / "mlflow.db.gz")
    put(tmp_path, "other.db", "not a database")
    assert names(discover_runs(tmp_path)) == {"mlflow.db.gz": "mlflow-db"}
    assert file_kind(next((DATA / "tensorboard" / "tb_writer").iterdir())) == "file"


def test_a_parameter_table_is_not_a_run(tmp_path: Path) -> None:
    """PyTorch Lightning's 2019 test-tube logger writes ``meta_tags.csv`` (``key,value``) beside
    its ``tf/`` event folder; a real one with no parameters made the whole sweep exit 2."""
    put(tmp_path, "version_10/meta_tags.csv", "key,value\n")
    put(tmp_path, "version_11/meta_tags.csv", "key,value\nlr,0.001\nbatch_size,32\n")
    put(tmp_path, "version_11/metrics.csv", LIGHTNING)
    assert file_kind(tmp_path / "version_10" / "meta_tags.csv") is None
    assert names(discover_runs(tmp_path)) == {"version_11": "log-file"}
    # a log whose first column is named key-something is still a log
    f = put(tmp_path, "keyed.csv", "key_step,value_loss\n1,0.5\n2,0.4\n")
    assert file_kind(f) == "file"


def test_symlink_loops_end(tmp_path: Path) -> None:
    put(tmp_path, "a/run/metrics.csv", LIGHTNING)
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    os.symlink(tmp_path / "a", tmp_path / "a" / "run2")
    found = discover(tmp_path)
    assert names(found.runs) == {"a/run": "log-file"}


def test_bounded_walk_and_skipped_folders(tmp_path: Path) -> None:
    for i in range(30):
        put(tmp_path, f"d{i:02d}/x/metrics.csv", LIGHTNING)
    put(tmp_path, ".git/metrics.csv", LIGHTNING)
    put(tmp_path, "wandb/run-1/files/wandb-summary.json", '{"loss": 0.1}')
    put(tmp_path, "node_modules/p/history.json", '{"loss": [1, 0.5]}')
    full = discover(tmp_path)
    assert len(full.runs) == 30
    assert any("wandb/" in n for n in full.notes)
    small = discover(tmp_path, max_dirs=10)
    assert len(small.runs) < 30
    assert "stopped after 10 folders; runs further on not searched" in small.notes
    shallow = discover(tmp_path, max_depth=1)
    assert shallow.runs == []
    assert "folders deeper than 1 levels not searched" in shallow.notes
    for i in range(5):
        put(tmp_path, f"loose/h{i}.json", '{"loss": [1, 0.5]}')
    few = discover(tmp_path / "loose", max_files=3)
    assert len(few.runs) == 3
    assert "stopped looking at loose files after 3" in few.notes


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unreadable_folder_is_skipped(tmp_path: Path) -> None:
    put(tmp_path, "ok/metrics.csv", LIGHTNING)
    locked = tmp_path / "locked"
    put(tmp_path, "locked/run/metrics.csv", LIGHTNING)
    locked.chmod(0)
    try:
        found = discover(tmp_path)
    finally:
        locked.chmod(0o755)
    assert names(found.runs) == {"ok": "log-file"}
    assert any("could not be read" in n for n in found.notes)


def test_missing_folder_and_broken_symlink(tmp_path: Path) -> None:
    assert discover(tmp_path / "nope").runs == []
    os.symlink(tmp_path / "gone", tmp_path / "dangling")
    put(tmp_path, "r/metrics.csv", LIGHTNING)
    found = discover(tmp_path)
    assert names(found.runs) == {"r": "log-file"}


def test_real_logs_are_all_found() -> None:
    real = Path(__file__).resolve().parents[1].parent / "shared" / "real-logs"
    if not real.is_dir():
        pytest.skip("shared/real-logs is not next to the repository")
    found = discover_runs(real)
    files = {p.relative_to(real).as_posix() for p in real.rglob("*") if p.is_file()}
    covered = set()
    for r in found:
        p = Path(r.path)
        if p.is_file():
            covered.add(p.relative_to(real).as_posix())
        else:
            covered |= {f for f in files if f.startswith(p.relative_to(real).as_posix() + "/")}
    assert files - covered == {"SOURCES.md"}
