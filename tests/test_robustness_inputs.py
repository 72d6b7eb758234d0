"""Inputs built to hurt: huge, deep, wide, extreme or mis-encoded — bounded time and memory.

The giants (100 MB on one line, a million nesting levels, a million columns) are written lazily
to a temporary folder and read in a child process, so that the parent can measure the child's
own wall time and peak memory (``os.wait4``) and kill it if it hangs. Each must end with a
diagnosis or a one-line ``curvedoc`` error, inside the bounds below. The bounds are several times
what was measured on a busy 2-core machine (docs/robustness.md has the numbers), so they catch a
quadratic path or a leak, not a slow runner.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_measured

from curvedoc.api import diagnose_path
from curvedoc.cli import main
from curvedoc.errors import InputError
from curvedoc.formatters import FORMATTERS
from curvedoc.model import Report
from curvedoc.packs import resolve_settings
from curvedoc.readers import read_path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = resolve_settings(config=None)
MB = 1024 * 1024
_CHILD = """
import json, sys
from curvedoc.api import diagnose_path
from curvedoc.packs import resolve_settings
report = diagnose_path(sys.argv[1], resolve_settings(config=None))
print(json.dumps({"error": report.error, "curves": len(report.curves),
                  "crashes": [e.error for e in report.errors]}))
"""


@dataclass(frozen=True)
class Outcome:
    result: dict[str, object] | None  # None when the child was killed at the time limit
    wall: float
    peak_mb: float
    stderr: str


def diagnose_in_child(path: Path, timeout: float) -> Outcome:
    """``diagnose_path(path)`` in a fresh interpreter: its result, wall time and peak RSS."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    out, err = path.with_name(path.name + ".out"), path.with_name(path.name + ".stderr")
    run = run_measured(
        [sys.executable, "-c", _CHILD, str(path)], stdout=out, stderr=err, deadline=timeout, env=env
    )
    stderr = err.read_text(errors="replace")
    assert run.killed or run.returncode == 0, f"child crashed ({run.returncode}): {stderr[-2000:]}"
    return Outcome(
        None if run.killed else json.loads(out.read_text()), run.wall, run.peak_mb, stderr
    )


def write_lazily(path: Path, parts: Iterable[bytes]) -> Path:
    with open(path, "wb") as fh:
        for part in parts:
            fh.write(part)
    return path


def repeat(chunk: bytes, total: int) -> Iterable[bytes]:
    block = chunk * max(1, (1 * MB) // len(chunk))
    for _ in range(total // len(block)):
        yield block


def assert_bounded(outcome: Outcome, *, seconds: float, megabytes: float) -> dict[str, object]:
    assert outcome.result is not None, f"still running after {outcome.wall:.0f} s"
    assert outcome.wall <= seconds, f"{outcome.wall:.1f} s"
    assert outcome.peak_mb <= megabytes, f"{outcome.peak_mb:.0f} MB"
    assert outcome.result["crashes"] == []
    error = outcome.result["error"]
    assert error is None or (isinstance(error, str) and "\n" not in error)
    return outcome.result


# -- giants -------------------------------------------------------------------------------------
def test_deeply_nested_json_arrays(tmp_path: Path) -> None:
    path = write_lazily(tmp_path / "deep.json", [b"[" * 1_000_000])
    result = assert_bounded(diagnose_in_child(path, 60), seconds=30, megabytes=400)
    assert "nested too deeply" in str(result["error"])


def test_deeply_nested_json_objects_and_mixed(tmp_path: Path) -> None:
    depth = 200_000
    path = write_lazily(tmp_path / "deep.json", [b'{"a":' * depth, b"1", b"}" * depth])
    assert_bounded(diagnose_in_child(path, 60), seconds=30, megabytes=400)
    # deep nesting *inside* an otherwise valid Keras history
    tail = b', 0.2], "val_loss": [1, 2, 3, 4]}'
    inner = [b'{"loss": [1.0, 0.5, ', b"[" * depth, b"]" * depth, tail]
    path = write_lazily(tmp_path / "deep_in_log.json", inner)
    assert_bounded(diagnose_in_child(path, 60), seconds=30, megabytes=400)


def test_100_mb_single_line_of_text(tmp_path: Path) -> None:
    path = write_lazily(tmp_path / "line.txt", repeat(b"a", 100 * MB))
    result = assert_bounded(diagnose_in_child(path, 90), seconds=45, megabytes=1200)
    assert result["error"] is not None


def test_100_mb_json_string_on_one_line(tmp_path: Path) -> None:
    parts = [b'{"loss": ["', *repeat(b"x", 100 * MB), b'"], "val_loss": [1.0, 0.5]}']
    path = write_lazily(tmp_path / "string.json", parts)
    assert_bounded(diagnose_in_child(path, 90), seconds=45, megabytes=2000)


def test_100_mb_number_in_one_csv_cell(tmp_path: Path) -> None:
    parts = [b"epoch,loss\n1,", *repeat(b"9", 100 * MB), b"\n2,0.5\n3,0.4\n"]
    path = write_lazily(tmp_path / "cell.csv", parts)
    # 100 million digits read as a float are +inf: a finding, not a crash
    assert_bounded(diagnose_in_child(path, 120), seconds=60, megabytes=3000)


def test_ten_mb_of_numbers_on_one_json_line(tmp_path: Path) -> None:
    """2.6 million epochs in one line of a Keras history: a real (if odd) log, read in full."""
    parts = [b'{"loss": [', *repeat(b"1.5,0.25,", 10 * MB), b"1.0]}"]
    path = write_lazily(tmp_path / "numbers.json", parts)
    result = assert_bounded(diagnose_in_child(path, 150), seconds=90, megabytes=1500)
    assert result["error"] is None


def test_a_million_columns(tmp_path: Path) -> None:
    """Beyond MAX_COLUMNS a table is refused at once, with a one-line error naming the file and
    the header line (reading it would mean a curve per column: minutes and gigabytes)."""
    n = 1_000_000
    header = ",".join(f"c{i}" for i in range(n)).encode()
    row = b",".join([b"0.5"] * n)
    path = write_lazily(tmp_path / "wide.csv", [header, b"\n", row, b"\n", row, b"\n", row, b"\n"])
    result = assert_bounded(diagnose_in_child(path, 10), seconds=10, megabytes=1500)
    assert result["error"] is not None
    assert "wide.csv:1: 1,000,000 columns: more than the 100,000" in result["error"]


def test_a_wide_table_below_the_cap_is_read(tmp_path: Path) -> None:
    n = 2_000
    header = ",".join(["epoch", *(f"c{i}_loss" for i in range(n))]).encode()
    rows = [
        ",".join([str(e), *(f"{1.0 / (e + 1 + i % 7):.4f}" for i in range(n))]).encode()
        for e in range(5)
    ]
    path = write_lazily(tmp_path / "wide.csv", [header, b"\n", *(r + b"\n" for r in rows)])
    result = assert_bounded(diagnose_in_child(path, 60), seconds=60, megabytes=1500)
    assert result["error"] is None


# -- extreme numbers, through every output ----------------------------------------------------
EXTREME_LOGS = {
    "billion_steps": "step,loss,val_loss\n0,1.0,1.1\n1000000000,0.5,0.7\n2000000000,0.4,0.8\n"
    "3000000000,0.3,0.9\n",
    "steps_2_63": "step,loss\n0,1.0\n9223372036854775807,0.5\n18446744073709551616,0.4\n",
    "values_1e308": "step,loss,val_loss\n0,1e308,-0.0\n1,1e307,5e-324\n2,-0.0,1e308\n3,0.0,0.0\n",
    "values_pm_1e308": "step,loss\n0,1e308\n1,-1e308\n2,1.0\n",
    "steps_1e308": "step,loss,val_loss\n0,1.0,-0.0\n9223372036854775807,0.5,5e-324\n"
    "1e308,0.25,1e308\n",
    "subnormal": "epoch,loss,val_loss\n1,5e-324,1e-320\n2,4e-324,2e-320\n3,3e-324,3e-320\n",
    "overflow_to_inf": "epoch,loss\n1,1e309\n2,-1e309\n3,0.5\n4,0.4\n",
}
#: Known crashes per (log, format), kept as strict xfails; the drawing overflows are fixed.
_CRASHES: dict[tuple[str, str], str] = {}


def _extreme_params() -> list[object]:
    out: list[object] = []
    for name in EXTREME_LOGS:
        for fmt in FORMATTERS:
            reason = _CRASHES.get((name, fmt))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(name, fmt, marks=marks, id=f"{name}-{fmt}"))
    return out


@pytest.mark.parametrize(("name", "fmt"), _extreme_params())
def test_extreme_numbers_render_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, fmt: str
) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(EXTREME_LOGS[name], encoding="utf-8")
    code = main(["diagnose", str(path), "--isolated", "--format", fmt, "--fail-on", "never"])
    captured = capsys.readouterr()
    assert "internal error" not in captured.err
    assert code == 0, captured.err
    assert captured.out.strip()
    assert len(captured.out) < 2 * MB


@pytest.mark.parametrize("name", list(EXTREME_LOGS))
@pytest.mark.filterwarnings("error::RuntimeWarning")  # nothing printed on the user's terminal
def test_extreme_numbers_plot_to_png(tmp_path: Path, name: str) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / f"{name}.csv"
    path.write_text(EXTREME_LOGS[name], encoding="utf-8")
    target = tmp_path / "plot.png"
    assert main(["plot", str(path), "-o", str(target), "--isolated"]) == 0
    assert target.read_bytes().startswith(b"\x89PNG")


def test_extreme_numbers_plot_to_svg(tmp_path: Path) -> None:
    for name, text in EXTREME_LOGS.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        target = tmp_path / f"{name}.svg"
        assert main(["plot", str(path), "-o", str(target), "--isolated"]) == 0, name
        numbers = _SVG_GEOMETRY.findall(target.read_text())
        assert numbers, name
        assert not [v for v in numbers if re.search(r"nan|inf", v, re.IGNORECASE)], name


_SVG_GEOMETRY = re.compile(
    r'\s(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height|d|points|transform|viewBox)="([^"]*)"'
)


# -- encodings ----------------------------------------------------------------------------------
CSV = "epoch,loss,val_loss\n1,1.0,1.1\n2,0.5,0.8\n3,0.4,0.9\n"


def _read(tmp_path: Path, data: bytes) -> Callable[[], object]:
    path = tmp_path / "log.csv"
    path.write_bytes(data)
    return lambda: read_path(path)


@pytest.mark.parametrize(
    "data",
    [
        CSV.encode("utf-8-sig"),
        CSV.encode("utf-16"),  # with BOM
        CSV.replace("\n", "\r\n").encode("utf-16-le").join([b"\xff\xfe", b""]),
    ],
    ids=["utf8-bom", "utf16-bom", "utf16le-bom-crlf"],
)
def test_byte_order_marks_are_read_and_stripped(tmp_path: Path, data: bytes) -> None:
    history = _read(tmp_path, data)()
    names = [c.name for c in history.curves]  # type: ignore[attr-defined]
    assert names == ["loss", "val_loss"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (CSV.encode("utf-16-le"), "binary"),  # UTF-16 without a BOM: NUL bytes
        (CSV.encode("utf-32"), ""),  # a UTF-32 BOM starts like UTF-16's
        (b"epoch,loss\n1,0.5\n2,0.4 \xe9t\xe9\n", "not UTF-8"),  # Latin-1 inside UTF-8
        (b"epoch,loss\n1,0.5\n2,0.4\n\x93q\x94\n", "UTF-8"),  # cp1252 curly quotes
        (b"epoch,loss\n1,0.5\n\xef\xbb\xbf2,0.4\n3,0.3\n", ""),  # a BOM in the middle
        (b"epoch,loss\x00\n1,0.5\n2,0.4\n", "binary"),
        (b"\xef\xbb\xbf\xef\xbb\xbf" + CSV.encode(), ""),  # two BOMs
    ],
    ids=["utf16-no-bom", "utf32", "latin1", "cp1252-quotes", "bom-mid-file", "nul", "two-boms"],
)
def test_mixed_and_foreign_encodings(tmp_path: Path, data: bytes, words: str) -> None:
    """Read or refused in one line; an encoding error names the line."""
    error: InputError | None = None
    try:
        _read(tmp_path, data)()
    except InputError as err:
        error = err
    if error is not None:
        assert "\n" not in str(error)
        assert words in str(error)
        if "UTF-8" in words:
            assert error.line is not None
    report = diagnose_path(tmp_path / "log.csv", SETTINGS)
    assert isinstance(report, Report)
    assert report.errors == []


def test_a_childs_measured_peak_is_its_own(tmp_path: Path) -> None:
    """The bounds above hold for the child, not for pytest: a parent that has touched 300 MB
    still measures a bare interpreter at a few tens of MB."""
    ballast = bytearray(300 * MB)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: it is resident
    run = run_measured(
        [sys.executable, "-c", "pass"],
        stdout=tmp_path / "out",
        stderr=tmp_path / "err",
        deadline=30,
        env=dict(os.environ),
    )
    del ballast
    assert run.returncode == 0
    assert run.peak_mb < 100, f"{run.peak_mb:.0f} MB"
