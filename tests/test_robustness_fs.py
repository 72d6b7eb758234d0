"""The file system fights back: FIFOs, devices, sockets, dangling links, link loops, folders named
like files, files that change or vanish while they are read.

Every such input gets a clear one-line error naming it — through :func:`curvedoc.api.diagnose_path`
and through the command line — and the other inputs of the same command are still diagnosed.
Tests that could block (a FIFO with no writer) run the work in a thread and unblock it themselves
after a deadline, so a regression shows up as a failure, never as a hung test run. We run as root
in CI containers, where ``chmod 000`` does not stop a read; FIFOs, devices and sockets stand in for
unreadable files (a ``chmod`` test runs too when the suite is not root).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from conftest import run_measured

from curvedoc.api import diagnose_path
from curvedoc.cli import main
from curvedoc.errors import CurvedocError
from curvedoc.model import History, Report
from curvedoc.packs import resolve_settings
from curvedoc.readers import read_path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = resolve_settings(config=None)
T = TypeVar("T")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file system features")


def good_log(path: Path, epochs: int = 25) -> Path:
    e = np.arange(float(epochs))
    train = (2 * np.exp(-e / 5) + 0.3).tolist()
    val = (2 * np.exp(-e / 5) + 0.4 + 0.004 * np.clip(e - 10, 0, None) ** 2).tolist()
    path.write_text(json.dumps({"loss": train, "val_loss": val}), encoding="utf-8")
    return path


def assert_clear_error(report: Report, path: Path, *words: str) -> None:
    assert report.error is not None
    assert "\n" not in report.error
    assert str(path) in report.error or str(path) == report.source
    for word in words:
        assert word in report.error


def _unblock_fifo(path: Path) -> None:
    """Open the FIFO's write end and close it, so a reader blocked in open() or read() gets EOF."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:  # ENXIO: nobody has it open for reading (yet)
        if exc.errno != errno.ENXIO:
            raise
        return
    os.close(fd)


def run_with_deadline(
    work: Callable[[], T], deadline: float, unblock: Callable[[], None]
) -> tuple[T | None, float, bool]:
    """Run ``work`` in a thread; past ``deadline`` seconds call ``unblock`` until it returns.

    Returns (result, seconds taken, whether it needed unblocking).
    """
    box: dict[str, T] = {}
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:
            errors.append(exc)

    start = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(deadline)
    needed = thread.is_alive()
    while thread.is_alive() and time.monotonic() - start < deadline + 30:
        unblock()
        thread.join(0.1)
    if errors:
        raise errors[0]
    return box.get("value"), time.monotonic() - start, needed


# -- special files ------------------------------------------------------------------------------
@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "metrics.csv"
    os.mkfifo(path)
    yield path
    _unblock_fifo(path)


def test_fifo_is_an_error_not_a_hang(fifo: Path) -> None:
    report, seconds, blocked = run_with_deadline(
        lambda: diagnose_path(fifo, SETTINGS), 3.0, lambda: _unblock_fifo(fifo)
    )
    assert not blocked, f"blocked on the FIFO until unblocked after {seconds:.1f} s"
    assert report is not None
    assert_clear_error(report, fifo)


def test_fifo_among_inputs_does_not_stop_the_others(
    tmp_path: Path, fifo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = good_log(tmp_path / "good.json")
    code, seconds, blocked = run_with_deadline(
        lambda: main(["diagnose", str(good), str(fifo), "--isolated", "--format", "json"]),
        3.0,
        lambda: _unblock_fifo(fifo),
    )
    assert not blocked, f"blocked on the FIFO until unblocked after {seconds:.1f} s"
    out = capsys.readouterr()
    assert code == 2
    assert str(good) in out.out


def test_fifo_in_a_folder_of_runs_does_not_hang(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    good_log(runs / "run1.json")
    good_log(runs / "run2.json")
    pipe = runs / "live.csv"
    os.mkfifo(pipe)
    code, seconds, blocked = run_with_deadline(
        lambda: main(["diagnose", str(runs), "--isolated", "--format", "json", "--jobs", "1"]),
        5.0,
        lambda: _unblock_fifo(pipe),
    )
    assert not blocked, f"blocked on the FIFO until unblocked after {seconds:.1f} s"
    assert code in (0, 1, 2)
    assert str(runs / "run1.json") in capsys.readouterr().out


_CHILD = """
import json, resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from curvedoc.api import diagnose_path
from curvedoc.packs import resolve_settings
print(json.dumps({"error": diagnose_path(sys.argv[1], resolve_settings(config=None)).error}))
"""


def _child_peak(path: Path, limit_mb: int) -> tuple[str | None, float]:
    """diagnose_path in a child under an address-space limit (a safety net for CI memory)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out, err = path.with_name("child.out"), path.with_name("child.err")
    run = run_measured(
        [sys.executable, "-c", _CHILD, str(path), str(limit_mb * 1024 * 1024)],
        stdout=out,
        stderr=err,
        deadline=120,
        env=env,
    )
    assert run.returncode == 0, err.read_text(errors="replace")[-2000:]
    error: str | None = json.loads(out.read_text())["error"]
    return error, run.peak_mb


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_device_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    link = tmp_path / "history.json"
    link.symlink_to("/dev/zero")
    error, peak = _child_peak(link, limit_mb=1200)
    assert error is not None
    assert peak < 400, f"peak {peak:.0f} MB"


def test_unix_socket_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        assert stat.S_ISSOCK(path.lstat().st_mode)
        report = diagnose_path(path, SETTINGS)
    assert_clear_error(report, path)


# -- links and names ----------------------------------------------------------------------------
def test_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "metrics.csv"
    link.symlink_to(tmp_path / "gone.csv")
    assert_clear_error(diagnose_path(link, SETTINGS), link, "no such file")


def test_symlink_loop(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.symlink_to(b)
    b.symlink_to(a)
    assert_clear_error(diagnose_path(a, SETTINGS), a)


def test_folder_linking_to_itself_terminates(tmp_path: Path) -> None:
    """A run folder with a link back to its parent: the walk ends, the run is read."""
    runs = tmp_path / "runs"
    (runs / "exp1").mkdir(parents=True)
    good_log(runs / "exp1" / "history.json")
    good_log(runs / "exp2.json")
    (runs / "exp1" / "again").symlink_to(runs, target_is_directory=True)
    (runs / "loop").symlink_to(runs / "loop")
    code, seconds, _ = run_with_deadline(
        lambda: main(["diagnose", str(runs), "--isolated", "--format", "json"]), 30.0, lambda: None
    )
    assert seconds < 30
    assert code in (0, 1, 2)


def test_directory_named_like_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "metrics.csv"
    folder.mkdir()
    assert_clear_error(diagnose_path(folder, SETTINGS), folder, "directory")


def test_file_used_as_a_folder(tmp_path: Path) -> None:
    log = good_log(tmp_path / "history.json")
    inside = log / "metrics.csv"
    assert_clear_error(diagnose_path(inside, SETTINGS), inside)


@pytest.mark.parametrize(
    "name",
    ["a" * 300 + ".csv", "x/" * 3000 + "y.csv", "nul\x00byte.csv", ""],
    ids=["name-too-long", "path-too-long", "nul-byte", "empty"],
)
def test_impossible_paths(tmp_path: Path, name: str) -> None:
    path = tmp_path / name if name else Path("")
    report = diagnose_path(str(path) if name else "", SETTINGS)
    assert report.error is not None
    assert "\n" not in report.error


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_permission_denied(tmp_path: Path) -> None:
    log = good_log(tmp_path / "history.json")
    log.chmod(0)
    try:
        assert_clear_error(diagnose_path(log, SETTINGS), log, "permission")
    finally:
        log.chmod(0o644)


# -- a folder of runs with bad entries -----------------------------------------------------------
def test_bad_entries_among_good_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Broken entries beside good runs: the command finishes and the good runs are diagnosed."""
    runs = tmp_path / "runs"
    runs.mkdir()
    good_log(runs / "run1.json")
    good_log(runs / "run2.json")
    (runs / "dangling.json").symlink_to(runs / "nowhere.json")
    (runs / "loop.json").symlink_to(runs / "loop.json")
    (runs / "folder.csv").mkdir()
    code, seconds, _ = run_with_deadline(
        lambda: main(["diagnose", str(runs), "--isolated", "--format", "json"]), 30.0, lambda: None
    )
    assert seconds < 30
    out = capsys.readouterr().out
    sources = {r["source"] for r in json.loads(out)} if out.lstrip().startswith("[") else set()
    if not sources:
        sources = {json.loads(out)["source"]}
    assert {str(runs / "run1.json"), str(runs / "run2.json")} <= sources
    assert code in (0, 1, 2)


def test_corrupt_run_in_a_folder_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    good_log(runs / "run1.json")
    good_log(runs / "run2.json")
    (runs / "run3.json").write_text('{"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.', "utf-8")
    code = main(["diagnose", str(runs), "--isolated", "--format", "json"])
    captured = capsys.readouterr()
    assert "run3.json" in captured.out + captured.err
    assert code == 2


# -- files that change or vanish while they are read ----------------------------------------------
@contextmanager
def meddler(action: Callable[[int], None]) -> Iterator[list[int]]:
    """Call ``action(i)`` in a loop in a thread while the body runs; yields the iteration count."""
    stop = threading.Event()
    count = [0]

    def loop() -> None:
        while not stop.is_set():
            action(count[0])
            count[0] += 1

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield count
    finally:
        stop.set()
        thread.join(5)


def _outcomes(path: Path, rounds: int) -> tuple[int, int]:
    """Read ``path`` ``rounds`` times: every outcome a History or a one-line CurvedocError; every
    fifth good read is diagnosed too (no detector may crash on what was read)."""
    ok = failed = 0
    for i in range(rounds):
        error: CurvedocError | None = None
        try:
            history = read_path(path)
        except CurvedocError as err:
            error = err
        if error is not None:
            assert "\n" not in str(error)
            failed += 1
            continue
        assert isinstance(history, History)
        ok += 1
        if i % 5 == 0:
            report = diagnose_path(path, SETTINGS)
            assert report.errors == []
    return ok, failed


def _csv_lines(n: int) -> str:
    return "".join(f"{i},{1.0 / (i + 1):.6f},{1.2 / (i + 1):.6f}\n" for i in range(n))


def test_file_growing_while_read(tmp_path: Path) -> None:
    """A job still writing: rows (and half rows) appended while curvedoc reads."""
    path = tmp_path / "metrics.csv"
    path.write_text("step,loss,val_loss\n" + _csv_lines(50), encoding="utf-8")

    def append(i: int) -> None:
        if i % 500 == 499:  # the job restarts: the file starts over
            path.write_text("step,loss,val_loss\n" + _csv_lines(50), encoding="utf-8")
            return
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{50 + i % 500},0.01")  # half a row...
            fh.flush()
            fh.write(",0.02\n")  # ...then the rest

    with meddler(append) as writes:
        ok, failed = _outcomes(path, 60)
    assert writes[0] > 0
    assert ok + failed == 60


def test_file_rewritten_and_truncated_while_read(tmp_path: Path) -> None:
    path = tmp_path / "trainer_state.json"
    state = {"log_history": [{"loss": 1.0 / (s + 1), "step": s} for s in range(1, 200)]}
    text = json.dumps(state, indent=1)

    def rewrite(i: int) -> None:
        with open(path, "w", encoding="utf-8") as fh:  # truncates first, then writes
            fh.write(text[: (i * 997) % len(text)])
            fh.flush()
            fh.write(text[(i * 997) % len(text) :])

    path.write_text(text, encoding="utf-8")
    with meddler(rewrite) as writes:
        ok, failed = _outcomes(path, 60)
    assert writes[0] > 0
    assert ok + failed == 60


def test_file_vanishing_while_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "runs"
    folder.mkdir()
    path = good_log(folder / "history.json")
    other = good_log(folder / "other.json")
    data = path.read_bytes()

    def flicker(i: int) -> None:
        if i % 2:
            path.write_bytes(data)
        else:
            path.unlink(missing_ok=True)

    with meddler(flicker) as flips:
        ok, failed = _outcomes(path, 40)
        for _ in range(5):  # the command over both files: the steady one is always diagnosed
            code = main(["diagnose", str(path), str(other), "--isolated", "--format", "json"])
            assert code in (0, 1, 2)
            assert str(other) in capsys.readouterr().out
    assert flips[0] > 0
    assert ok + failed == 40


def test_run_folder_changing_while_read(tmp_path: Path) -> None:
    """An MLflow run folder whose metric files come and go (a run still logging)."""
    run = tmp_path / "run"
    (run / "metrics").mkdir(parents=True)
    lines = "".join(f"{1700000000000 + s} {1.0 / (s + 1)} {s}\n" for s in range(100))
    (run / "metrics" / "loss").write_text(lines, encoding="utf-8")

    def churn(i: int) -> None:
        extra = run / "metrics" / f"val_loss_{i % 3}"
        if i % 2:
            extra.write_text(lines[: (i * 131) % len(lines)], encoding="utf-8")
        else:
            extra.unlink(missing_ok=True)

    with meddler(churn) as changes:
        ok, failed = _outcomes(run, 40)
    assert changes[0] > 0
    assert ok + failed == 40
