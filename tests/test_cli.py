"""The command line, called in-process through ``main()`` (and once as ``python -m curvedoc``)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from curvedoc import __version__
from curvedoc.cli import explain_text, main, use_color
from curvedoc.detectors import DETECTORS
from curvedoc.model import Report
from curvedoc.packs import load_pack

ROOT = Path(__file__).resolve().parents[1]

REPO = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[")

# An epoch-level Keras history: training keeps falling, validation bottoms out at epoch 13 and
# then rises by far more than its noise (CD201 overfitting, a warning in the default pack).
LOSS = [1 / (i + 1) + 0.1 for i in range(30)]
VAL_OVERFIT = [1 / (i + 1) + 0.2 + max(0, i - 12) * 0.05 for i in range(30)]
# Converged by the end (exponential decay): no rule should call this run unfinished.
VAL_HEALTHY = [0.15 + math.exp(-i / 3) for i in range(30)]


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No pyproject.toml above the working directory and no color settings from the caller."""
    monkeypatch.chdir(tmp_path)
    for var in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TTY_COMPATIBLE"):
        monkeypatch.delenv(var, raising=False)


def write_history(path: Path, val: list[float], loss: list[float] = LOSS) -> str:
    path.write_text(json.dumps({"loss": loss, "val_loss": val}), encoding="utf-8")
    return str(path)


@pytest.fixture
def overfit(tmp_path: Path) -> str:
    return write_history(tmp_path / "overfit.json", VAL_OVERFIT)


@pytest.fixture
def healthy(tmp_path: Path) -> str:
    return write_history(tmp_path / "healthy.json", VAL_HEALTHY)


#: The rule pack's numbers get tuned; these tests are about the command line, so they pin the one
#: severity they depend on (a later ``--set`` in a test still wins).
PIN = ("--set", "overfitting.severity=warning")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    if argv[:1] == ("diagnose",):
        argv = (argv[0], *PIN, *argv[1:])
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def rules_in(json_text: str) -> list[str]:
    return [f["rule"] for f in json.loads(json_text)["findings"]]


# --- diagnose: exit codes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [(None, 0), ("error", 0), ("warning", 1), ("info", 1), ("never", 0)],
)
def test_exit_code_follows_fail_on(
    capsys: pytest.CaptureFixture[str], overfit: str, fail_on: str | None, expected: int
) -> None:
    argv = ("diagnose", overfit) + (() if fail_on is None else ("--fail-on", fail_on))
    code, out, _ = run(capsys, *argv)
    assert code == expected
    assert "CD201" in out
    assert "overfitting" in out


def test_healthy_run_exits_zero_even_at_info(
    capsys: pytest.CaptureFixture[str], healthy: str
) -> None:
    code, out, err = run(capsys, "diagnose", healthy, "--fail-on", "info")
    assert code == 0
    assert "No problems found in 2 curves" in out
    assert err == ""


def test_set_severity_to_error_makes_the_default_gate_fail(
    capsys: pytest.CaptureFixture[str], overfit: str
) -> None:
    code, out, _ = run(capsys, "diagnose", overfit, "--set", "overfitting.severity=error")
    assert code == 1
    assert "1 finding: 1 error" in out


def test_set_a_parameter_changes_the_diagnosis(
    capsys: pytest.CaptureFixture[str], overfit: str
) -> None:
    # Demanding a 1000% rise above the best makes this run not overfit any more.
    code, out, _ = run(
        capsys, "diagnose", overfit, "--format", "json", "--set", "overfitting.min_rise=10"
    )
    assert code == 0
    assert "overfitting" not in rules_in(out)


@pytest.mark.parametrize(
    "setting", ["overfitting.no_such_param=1", "no-such-rule.min_rise=1", "overfitting", "=1"]
)
def test_bad_set_is_a_one_line_config_error(
    capsys: pytest.CaptureFixture[str], overfit: str, setting: str
) -> None:
    code, out, err = run(capsys, "diagnose", overfit, "--set", setting)
    assert code == 2
    assert out == ""
    assert err.startswith("curvedoc: error: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_unreadable_input_among_others(
    capsys: pytest.CaptureFixture[str], overfit: str, healthy: str, tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing.json")
    code, out, _ = run(capsys, "diagnose", overfit, missing, healthy)
    assert code == 2
    error_lines = [line for line in out.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1
    assert "missing.json" in error_lines[0]
    # The other inputs are still diagnosed and shown, in order, with a total.
    assert out.index("overfit.json") < out.index("missing.json") < out.index("healthy.json")
    assert "CD201" in out
    assert "No problems found" in out
    assert out.rstrip().splitlines()[-1] == "3 runs: 1 unreadable, 1 with warnings, 1 clean"


def test_unreadable_input_with_json_goes_to_stderr_too(
    capsys: pytest.CaptureFixture[str], overfit: str, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    code, out, err = run(capsys, "diagnose", overfit, str(garbage), "--format", "json")
    assert code == 2
    data = json.loads(out)
    assert [d["error"] is None for d in data] == [True, False]
    assert data[1]["findings"] == []
    assert err.startswith("curvedoc: error: ")
    assert "garbage.json" in err


# --- diagnose: formats and outputs ----------------------------------------------------------


def test_json_one_input_is_an_object_two_are_an_array(
    capsys: pytest.CaptureFixture[str], overfit: str, healthy: str
) -> None:
    _, one, _ = run(capsys, "diagnose", overfit, "--format", "json")
    single = json.loads(one)
    assert isinstance(single, dict)
    Report.model_validate(single)
    assert [f["rule"] for f in single["findings"]] == ["overfitting"]
    assert single["findings"][0]["severity"] == "warning"

    _, two, _ = run(capsys, "diagnose", overfit, healthy, "--format", "json")
    both = json.loads(two)
    assert isinstance(both, list)
    assert [Path(d["source"]).name for d in both] == ["overfit.json", "healthy.json"]


def test_output_files_are_written_in_addition_to_stdout(
    capsys: pytest.CaptureFixture[str], overfit: str, tmp_path: Path
) -> None:
    a, b, md = tmp_path / "a.json", tmp_path / "sub" / "b.json", tmp_path / "summary.md"
    code, out, _ = run(
        capsys,
        "diagnose",
        overfit,
        "--output",
        f"json={a}",
        "--output",
        f"json={b}",
        "--output",
        f"markdown={md}",
    )
    assert code == 0
    assert "CD201" in out  # stdout keeps the terminal format
    assert not out.lstrip().startswith("{")
    for path in (a, b):
        assert rules_in(path.read_text(encoding="utf-8")) == ["overfitting"]
    summary = md.read_text(encoding="utf-8")
    assert "| Severity | Code | Rule |" in summary
    assert "\x1b[" not in summary


@pytest.mark.parametrize("spec", ["json", "yaml=out.txt", "json="])
def test_bad_output_spec_is_an_error(
    capsys: pytest.CaptureFixture[str], overfit: str, spec: str
) -> None:
    code, _, err = run(capsys, "diagnose", overfit, "--output", spec)
    assert code == 2
    assert err.startswith("curvedoc: error: --output: ")


def test_markdown_on_stdout(capsys: pytest.CaptureFixture[str], overfit: str) -> None:
    code, out, _ = run(capsys, "diagnose", overfit, "--format", "markdown", "--fail-on", "warning")
    assert code == 1
    assert out.startswith("### ❌ curvedoc: ")


# --- diagnose: rule selection, columns, config ----------------------------------------------


@pytest.mark.parametrize(
    ("flags", "fires"),
    [
        (["--select", "overfitting"], True),
        (["--select", "CD201"], True),
        (["--select", "CD101,divergence"], False),
        (["--select", "CD101", "--select", "CD201"], True),
        (["--ignore", "overfitting"], False),
        (["--ignore", "CD301", "--ignore", "CD201"], False),
        (["--ignore", "plateau"], True),
    ],
)
def test_select_and_ignore_take_codes_or_names(
    capsys: pytest.CaptureFixture[str], overfit: str, flags: list[str], fires: bool
) -> None:
    code, out, _ = run(capsys, "diagnose", overfit, "--format", "json", *flags)
    assert code == 0
    assert ("overfitting" in rules_in(out)) is fires


def test_unknown_rule_in_select_is_a_config_error(
    capsys: pytest.CaptureFixture[str], overfit: str
) -> None:
    code, _, err = run(capsys, "diagnose", overfit, "--select", "no-such-rule")
    assert code == 2
    assert err.startswith("curvedoc: error: ")
    assert "no-such-rule" in err


def test_column_maps_unknown_names_to_roles(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "custom.json"
    path.write_text(json.dumps({"fit_objective": LOSS, "holdout_objective": VAL_OVERFIT}))
    flags = ["--column", "fit_objective=train_loss", "--column", "holdout_objective=val_loss"]
    _, out, _ = run(capsys, "diagnose", str(path), "--format", "json", *flags)
    assert rules_in(out) == ["overfitting"]
    roles = {c["name"]: c["role"] for c in json.loads(out)["curves"]}
    assert roles == {"fit_objective": "train_loss", "holdout_objective": "val_loss"}


@pytest.mark.parametrize(
    "flags",
    [["--column", "loss"], ["--column", "loss=not-a-role"], ["--direction", "val_loss=up"]],
)
def test_bad_column_or_direction_is_an_error(
    capsys: pytest.CaptureFixture[str], overfit: str, flags: list[str]
) -> None:
    code, _, err = run(capsys, "diagnose", overfit, *flags)
    assert code == 2
    assert err.startswith("curvedoc: error: ")


def test_pyproject_fail_on_applies_and_the_flag_wins(
    capsys: pytest.CaptureFixture[str], overfit: str, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.curvedoc]\nfail-on = "warning"\n')
    assert run(capsys, "diagnose", overfit)[0] == 1
    assert run(capsys, "diagnose", overfit, "--fail-on", "error")[0] == 0
    assert run(capsys, "diagnose", overfit, "--isolated")[0] == 0


def test_explicit_config_file(
    capsys: pytest.CaptureFixture[str], overfit: str, tmp_path: Path
) -> None:
    cfg = tmp_path / "elsewhere" / "pyproject.toml"
    cfg.parent.mkdir()
    cfg.write_text('[tool.curvedoc]\nignore = ["overfitting"]\n')
    _, out, _ = run(capsys, "diagnose", overfit, "--format", "json", "--config", str(cfg))
    assert rules_in(out) == []


def test_bad_config_is_one_line_naming_the_file(
    capsys: pytest.CaptureFixture[str], overfit: str, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.curvedoc]\nfail-on = "sometimes"\n')
    code, out, err = run(capsys, "diagnose", overfit)
    assert code == 2
    assert out == ""
    assert err.startswith("curvedoc: error: ")
    assert "pyproject.toml" in err
    assert err.count("\n") == 1


def test_config_and_isolated_exclude_each_other(
    capsys: pytest.CaptureFixture[str], overfit: str
) -> None:
    code, _, err = run(capsys, "diagnose", overfit, "--isolated", "--config", "pyproject.toml")
    assert code == 2
    assert "not allowed with" in err


# --- color ----------------------------------------------------------------------------------


def test_color_flag_and_environment(
    capsys: pytest.CaptureFixture[str], overfit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not ANSI.search(run(capsys, "diagnose", overfit)[1])  # captured stdout: not a TTY
    assert ANSI.search(run(capsys, "diagnose", overfit, "--color", "always")[1])
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ANSI.search(run(capsys, "diagnose", overfit)[1])
    monkeypatch.setenv("NO_COLOR", "1")  # NO_COLOR wins over FORCE_COLOR
    assert not ANSI.search(run(capsys, "diagnose", overfit)[1])
    assert not ANSI.search(run(capsys, "diagnose", overfit, "--format", "json")[1])


class _Tty:
    def isatty(self) -> bool:
        return True


def test_use_color_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = _Tty()
    assert use_color("auto", tty)  # type: ignore[arg-type]
    assert not use_color("never", tty)  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "")  # empty means unset, per no-color.org
    assert use_color("auto", tty)  # type: ignore[arg-type]
    monkeypatch.setenv("TERM", "dumb")
    assert not use_color("auto", tty)  # type: ignore[arg-type]
    monkeypatch.setenv("FORCE_COLOR", "0")  # rich's reading: any non-empty value forces
    assert use_color("auto", sys.stderr)
    monkeypatch.setenv("NO_COLOR", "x")
    assert not use_color("auto", tty)  # type: ignore[arg-type]
    assert use_color("always", tty)  # type: ignore[arg-type]


# --- other commands -------------------------------------------------------------------------


def test_rules_lists_every_detector(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0
    for det in DETECTORS:
        line = next(line for line in out.splitlines() if line.startswith(det.code))
        assert det.name in line


def test_rules_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["code"] for r in rows] == [d.code for d in DETECTORS]
    pack = load_pack("default")
    for row in rows:
        assert row["severity"] == pack.rules[row["name"]].severity
        assert row["enabled"] is pack.rules[row["name"]].enabled
        assert row["summary"]


def test_explain_by_name_and_by_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, by_name, _ = run(capsys, "explain", "overfitting")
    assert code == 0
    assert run(capsys, "explain", "CD201")[1] == by_name
    assert by_name.startswith("overfitting (CD201)")
    for heading in ("What it detects", "Why it matters", "Example", "What to try", "Parameters"):
        assert heading in by_name
    rule = load_pack("default").rules["overfitting"]
    assert f"Default severity: {rule.severity}" in by_name
    for name, value in rule.params.items():
        written = str(value).lower() if isinstance(value, bool) else str(value)
        assert f"  {name} = {written}" in by_name
    assert "Advice templates:" in by_name
    assert "[enable early_stopping]" in by_name


def test_explain_every_rule() -> None:
    for det in DETECTORS:
        assert explain_text(det.code).startswith(f"{det.name} ({det.code})")


def test_explain_unknown_rule_lists_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", "nope")
    assert code == 2
    assert out == ""
    assert err.startswith("curvedoc: error: ")
    for det in DETECTORS:
        assert det.name in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"curvedoc {__version__}"


def test_schema_is_the_report_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert json.loads(out) == Report.model_json_schema()


def test_usage_errors_exit_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys)[0] == 2  # no command
    assert run(capsys, "diagnose")[0] == 2  # no PATH
    code, _, err = run(capsys, "diagnose", "x.json", "--fail-on", "sometimes")
    assert code == 2
    assert "invalid choice" in err


# --- internal errors ------------------------------------------------------------------------


def _explode(*_args: object, **_kwargs: object) -> Report:
    raise RuntimeError("kaboom")


def test_internal_error_is_one_line_without_traceback(
    capsys: pytest.CaptureFixture[str], overfit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("curvedoc.sweep.diagnose_chunk", _explode)
    code, _, err = run(capsys, "diagnose", overfit)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("curvedoc: internal error: RuntimeError: kaboom")
    assert "--debug" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], overfit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("curvedoc.sweep.diagnose_chunk", _explode)
    for argv in (["--debug", "diagnose", overfit], ["diagnose", overfit, "--debug"]):
        code, _, err = run(capsys, *argv)
        assert code == 2
        assert "Traceback (most recent call last)" in err
        assert "RuntimeError: kaboom" in err


# --- python -m curvedoc ---------------------------------------------------------------------


def test_python_dash_m(overfit: str, healthy: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "curvedoc", "diagnose", *PIN, overfit, healthy, "--format", "json"],
        capture_output=True,
        text=True,
        cwd=Path(overfit).parent,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert [len(r["findings"]) for r in json.loads(proc.stdout)] == [1, 0]


# --- diagnose: stated hyperparameters ------------------------------------------------------


def test_hparam_values_reach_the_advice(capsys: pytest.CaptureFixture[str], overfit: str) -> None:
    code, out, _ = run(
        capsys, "diagnose", overfit, "--format", "json", "--hparam", "weight_decay=0.01"
    )
    assert code == 0
    advice = json.loads(out)["advice"]
    wd = next(a for a in advice if a["param"] == "weight_decay")
    assert "from 0.01 to 0.03" in wd["text"]


def test_bad_hparam_is_a_one_line_config_error(
    capsys: pytest.CaptureFixture[str], overfit: str
) -> None:
    code, _out, err = run(capsys, "diagnose", overfit, "--hparam", "weight_decay")
    assert code == 2
    assert "--hparam weight_decay" in err
    assert "Traceback" not in err


# --- diagnose: many runs, console logs, standard input ------------------------------------


def test_pattern_names_in_help_match_the_readers() -> None:
    from curvedoc.cli import PATTERN_NAMES
    from curvedoc.readers.text_log import PATTERNS

    assert set(PATTERN_NAMES) == set(PATTERNS)


def test_folder_of_runs_gets_a_summary_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # paths unfolded in the table
    runs = tmp_path / "runs"
    (runs / "a").mkdir(parents=True)
    (runs / "b" / "deeper").mkdir(parents=True)
    write_history(runs / "a" / "history.json", VAL_OVERFIT)
    write_history(runs / "b" / "deeper" / "history.json", VAL_HEALTHY)
    code, out, _ = run(capsys, "diagnose", str(runs), "--jobs", "1", "--color", "never")
    assert code == 0
    assert "main finding" in out
    assert "2 runs:" in out
    # Worst first: the overfitting run heads the table.
    table = out.split("main finding", 1)[1]
    assert table.index("a/history.json") < table.index("deeper/history.json")


def test_console_log_with_a_shipped_pattern(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "train.log"
    log.write_text(
        "".join(f"iter {i * 10}: loss {4.0 * 0.9**i:.4f}, time 12.0ms\n" for i in range(30))
    )
    code, out, _ = run(capsys, "diagnose", str(log), "--pattern", "nanogpt", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["format"] == "text-log"
    assert report["curves"][0]["points"] == 30


def test_bad_pattern_is_a_config_error(capsys: pytest.CaptureFixture[str], overfit: str) -> None:
    code, _out, err = run(capsys, "diagnose", overfit, "--pattern", "(?P<step")
    assert code == 2
    assert "Traceback" not in err


def test_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    data = json.dumps({"loss": LOSS, "val_loss": VAL_OVERFIT}).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(capsys, "diagnose", "-", "--format", "json")
    assert code == 0
    assert json.loads(out)["source"] == "<stdin>"


def test_a_crashed_rule_fails_the_gate_with_exit_2(
    capsys: pytest.CaptureFixture[str], overfit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curvedoc.detectors.plateau import Plateau

    def boom(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(Plateau, "detect", boom)
    code, out, err = run(capsys, "diagnose", overfit, "--format", "json", "--fail-on", "never")
    assert code == 2
    report = json.loads(out)
    assert report["errors"][0]["rule"] == "plateau"
    assert any(f["rule"] == "overfitting" for f in report["findings"])  # the others still ran
    assert "rule plateau (CD401) crashed" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("preset", "want"), [(None, "1"), ("3", "3")])
def test_the_command_line_runs_blas_single_threaded_unless_told(
    preset: str | None, want: str
) -> None:
    """Tiny matrices: BLAS threads only cost start-up CPU and oversubscribe --jobs workers."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    if preset is not None:
        env["OPENBLAS_NUM_THREADS"] = preset
    code = (
        "import os, sys\n"
        "from curvedoc.cli import main\n"
        "main(['rules'])\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'], file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stderr.strip().splitlines()[-1] == want


@pytest.mark.parametrize(("columns", "want"), [("132", 132), ("", 100), ("abc", 100), ("0", 100)])
def test_terminal_width_follows_columns_like_shutil(
    monkeypatch: pytest.MonkeyPatch, columns: str, want: int
) -> None:
    from curvedoc.cli import terminal_width

    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr("os.get_terminal_size", lambda fd: (_ for _ in ()).throw(OSError()))
    assert terminal_width() == want


def _command(
    *args: str, code: str = "", stdout: int | None = subprocess.PIPE
) -> subprocess.Popen[str]:
    """``curvedoc ARGS`` as the console script runs it (``curvedoc.cli:run``), after ``code``."""
    script = f"import sys; {code}\nsys.argv = ['curvedoc', *sys.argv[1:]]\n"
    script += "from curvedoc.cli import run\nrun()\n"
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_command_flushes_its_output_and_runs_exit_handlers(overfit: str) -> None:
    """``run`` skips the interpreter's teardown, not what a normal exit does for the user."""
    handler = "import atexit; atexit.register(lambda: print('handler ran', file=sys.stderr))"
    args = ("diagnose", overfit, "--format", "json", "--fail-on", "warning")
    proc = _command(*args, code=handler)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == main(list(args)) == 1  # the exit code main returns
    assert json.loads(out)["findings"]  # the whole report arrived
    assert err.strip().endswith("handler ran")


def test_the_command_ends_quietly_when_its_reader_goes_away() -> None:
    """``curvedoc diagnose ... | head -c 1``: no traceback, and not a success (the reports of
    every fixture run are more than a pipe holds)."""
    proc = _command("diagnose", str(ROOT / "fixtures"), "--format", "json", "--jobs", "1")
    assert proc.stdout is not None
    assert proc.stdout.read(1) == "["  # an array of reports
    proc.stdout.close()
    err = proc.stderr.read() if proc.stderr is not None else ""
    assert proc.wait(timeout=120) != 0
    assert "Traceback" not in err
