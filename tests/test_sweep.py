"""diagnose_many: order, errors per item, folders and multi-run files, any Executor (in-process,
threads, processes, a real dask.distributed cluster), and the summary ranking."""

from __future__ import annotations

import os
import pickle
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from curvedoc import diagnose
from curvedoc.errors import ConfigError
from curvedoc.model import Report
from curvedoc.readers import read_path
from curvedoc.sweep import RunRef, diagnose_many, rank, summary_rows

OVERFIT = "epoch,loss,val_loss\n" + "".join(
    f"{e},{1.0 / (e + 1):.4f},{0.6 + abs(e - 6) * 0.05 if e > 6 else 1.0 / (e + 1) + 0.1:.4f}\n"
    for e in range(20)
)
HEALTHY = "epoch,loss,val_loss\n" + "".join(
    f"{e},{1.0 / (e + 1):.4f},{1.0 / (e + 1) + 0.05:.4f}\n" for e in range(20)
)


def put(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    put(tmp_path, "a/training.log", OVERFIT)
    put(tmp_path, "b/training.log", HEALTHY)
    put(tmp_path, "c/training.log", HEALTHY + "".join(f"{e},nan,nan\n" for e in range(20, 23)))
    return tmp_path


def test_order_errors_and_multi_run_files(sweep: Path) -> None:
    two = put(sweep, "two.log", OVERFIT + HEALTHY.split("\n", 1)[1])
    sources = [sweep / "b" / "training.log", sweep / "nope.csv", two, sweep / "a" / "training.log"]
    reports = diagnose_many(sources, jobs=1)
    assert [r.source for r in reports] == [
        str(sweep / "b" / "training.log"),
        str(sweep / "nope.csv"),
        f"{two}#run1",
        f"{two}#run2",
        str(sweep / "a" / "training.log"),
    ]
    assert reports[1].error is not None
    assert "no such file" in reports[1].error
    # the same answer as diagnosing one by one
    single = diagnose(str(sweep / "a" / "training.log"))
    assert [f.rule for f in reports[-1].findings] == [f.rule for f in single.findings]
    assert "overfitting" in [f.rule for f in reports[-1].findings]


def test_a_folder_is_expanded_into_its_runs(sweep: Path) -> None:
    reports = diagnose_many([sweep], jobs=1)
    assert [Path(r.source).parent.name for r in reports] == ["a", "b", "c"]
    worst = [f.rule for f in reports[2].findings]
    assert "non-finite" in worst


def test_process_pool_gives_the_same_reports(sweep: Path) -> None:
    paths = sorted(str(p) for p in sweep.rglob("training.log"))
    local = diagnose_many(paths, jobs=1)
    pooled = diagnose_many(paths, jobs=2)
    assert [r.model_dump() for r in pooled] == [r.model_dump() for r in local]


def test_any_executor_histories_and_runrefs(sweep: Path) -> None:
    history = read_path(sweep / "a" / "training.log")
    ref = RunRef(str(sweep / "b" / "training.log"), "file", "b/training.log")
    with ThreadPoolExecutor(2) as pool:
        reports = diagnose_many([history, ref], executor=pool, select=["overfitting"])
    assert [r.source for r in reports] == [history.source, ref.path]
    assert [f.rule for f in reports[0].findings] == ["overfitting"]
    assert reports[1].findings == []


def test_work_items_are_picklable(sweep: Path) -> None:
    from curvedoc.sweep import expand

    history = read_path(sweep / "a" / "training.log")
    items = expand([sweep, history])
    back = pickle.loads(pickle.dumps(items))
    assert [i.path for i in back[:3]] == sorted(str(p) for p in sweep.rglob("training.log"))
    assert back[3].history is not None
    assert back[3].history.source == history.source
    assert back[3].history.curves[0].y.tolist() == history.curves[0].y.tolist()


class _FailingExecutor(Executor):
    """An executor whose tasks all fail, as a cluster does when a worker dies."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        fut.set_exception(RuntimeError("worker lost"))
        return fut


def test_a_failed_task_becomes_error_reports(sweep: Path) -> None:
    paths = sorted(str(p) for p in sweep.rglob("training.log"))
    reports = diagnose_many(paths, executor=_FailingExecutor())
    assert [r.source for r in reports] == paths
    assert all(r.error == "worker failed (RuntimeError: worker lost)" for r in reports)


def test_configuration_errors_raise_before_any_work(sweep: Path) -> None:
    with pytest.raises(ConfigError):
        diagnose_many([sweep], select=["no-such-rule"])
    with pytest.raises(ConfigError, match="invalid regular expression"):
        diagnose_many([sweep], pattern="(?P<loss")
    assert diagnose_many([], jobs=1) == []


def test_pattern_is_passed_to_every_item(tmp_path: Path) -> None:
    log = put(
        tmp_path, "train.txt", "".join(f"iter {i}: loss {1 / (i + 1):.4f}\n" for i in range(30))
    )
    (report,) = diagnose_many([log], pattern="nanogpt", jobs=1)
    assert report.error is None
    assert report.format == "text-log"


def _report(source: str, rules: list[tuple[str, str]], error: str | None = None) -> Report:
    from curvedoc.model import Finding, Span

    findings = [
        Finding(
            code="X",
            rule=rule,
            severity=sev,  # type: ignore[arg-type]
            confidence="high",
            curves=["loss"],
            span=Span(start=0, end=1, x_unit="epoch"),
            message=f"{rule} happened",
            evidence={},
        )
        for rule, sev in rules
    ]
    return Report(curvedoc_version="0", source=source, findings=findings, error=error)


def test_rank_and_summary_rows() -> None:
    reports = [
        _report("clean", []),
        _report("warn", [("plateau", "warning")]),
        _report("bad", [], error="bad: no such file"),
        _report("err2", [("divergence", "error"), ("plateau", "warning")]),
        _report("err1", [("non-finite", "error")]),
    ]
    assert [r.source for r in rank(reports)] == ["bad", "err2", "err1", "warn", "clean"]
    rows = summary_rows(reports)
    assert [(r.source, r.status, r.findings) for r in rows] == [
        ("bad", "unreadable", 0),
        ("err2", "error", 2),
        ("err1", "error", 1),
        ("warn", "warning", 1),
        ("clean", "clean", 0),
    ]
    assert rows[1].main == "divergence: divergence happened"
    assert rows[0].main == "bad: no such file"


def test_dask_distributed_cluster(sweep: Path) -> None:
    """The README recipe: a dask.distributed cluster's executor runs the sweep."""
    distributed = pytest.importorskip("distributed")
    paths = sorted(str(p) for p in sweep.rglob("training.log"))
    expected = [r.model_dump() for r in diagnose_many(paths, jobs=1)]
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        reports = diagnose_many([sweep, sweep / "missing.log"], executor=client.get_executor())
    assert [r.model_dump() for r in reports[:3]] == expected
    assert reports[3].error is not None


def test_standard_input_is_read_by_the_caller(sweep: Path) -> None:
    """Worker processes have no standard input: '-' must be read before work is sent."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from curvedoc.sweep import diagnose_many\n"
        "if __name__ == '__main__':\n"
        "    reports = diagnose_many(['-', sys.argv[1]], jobs=2)\n"
        "    print([(r.source, r.error is None, len(r.curves)) for r in reports])\n"
    )
    root = Path(__file__).resolve().parents[1]
    script = sweep / "run_sweep.py"
    script.write_text(code)
    done = subprocess.run(
        [sys.executable, str(script), str(sweep / "a" / "training.log")],
        input=OVERFIT.encode(),
        capture_output=True,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=True,
    )
    assert done.stdout.decode().strip() == str(
        [("<stdin>", True, 2), (str(sweep / "a" / "training.log"), True, 2)]
    )


def test_with_histories(sweep: Path) -> None:
    from curvedoc.packs import resolve_settings
    from curvedoc.sweep import diagnose_many_with_histories

    settings = resolve_settings(config=None)
    pairs = diagnose_many_with_histories(
        [sweep / "a" / "training.log", sweep / "nope.log"], settings=settings, jobs=2
    )
    assert [type(h).__name__ for _, h in pairs] == ["History", "NoneType"]
    assert pairs[0][1] is not None
    assert pairs[0][1].get("val_loss") is not None
    assert pairs[1][0].error is not None


def test_diagnose_many_takes_stated_hyperparameters_like_diagnose(tmp_path: Path) -> None:
    import json

    log = tmp_path / "history.json"
    log.write_text(
        json.dumps(
            {
                "loss": [1.0, 0.7, 0.5, 0.4, 0.33, 0.28, 0.24, 0.21, 0.18, 0.16, 0.14, 0.12],
                "val_loss": [1.0, 0.8, 0.66, 0.6, 0.58, 0.6, 0.63, 0.67, 0.72, 0.78, 0.84, 0.9],
            }
        )
    )
    (report,) = diagnose_many([log], jobs=1, hparams={"weight_decay": 1e-4})
    wd = next(a for a in report.advice if a.param == "weight_decay")
    assert "from 0.0001 to 0.0003" in wd.text


def test_by_default_a_few_small_runs_start_no_workers(
    sweep: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starting a worker (an interpreter importing numpy) costs more than these runs take."""
    import concurrent.futures

    def no_pool(*args: Any, **kwargs: Any) -> Executor:
        raise AssertionError("a process pool was started for three small runs")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    reports = diagnose_many([sweep])
    assert [Path(r.source).parent.name for r in reports] == ["a", "b", "c"]
    assert reports[0].error is None
    with pytest.raises(AssertionError, match="process pool"):
        diagnose_many([sweep], jobs=2)  # asked for: started


def test_workers_are_worth_it_for_many_runs_or_large_logs(tmp_path: Path) -> None:
    from curvedoc.sweep import expand, worth_workers

    small = [put(tmp_path, f"runs/{i}/log.csv", HEALTHY) for i in range(400)]
    assert not worth_workers(expand(small[:20]), 2)
    assert worth_workers(expand(small), 2)
    big = []
    for name in ("a.csv", "b.csv"):
        path = tmp_path / name
        path.write_text(HEALTHY)
        os.truncate(path, 40 * 1024 * 1024)  # sparse: only its size is looked at
        big.append(path)
    assert worth_workers(expand(big), 2)
    assert not worth_workers(expand(big[:1]), 1)
