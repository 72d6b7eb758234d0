"""The command line's outputs for people and CI: report, plot, compare, --baseline, the CI formats,
the GitHub job summary, and folders of runs."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from curvedoc.cli import FORMAT_CHOICES, main
from curvedoc.formatters import FORMATTERS

LOSS = [1 / (i + 1) + 0.1 for i in range(30)]
VAL_OVERFIT = [1 / (i + 1) + 0.2 + max(0, i - 12) * 0.05 for i in range(30)]
# Converged by the end (exponential decay): no rule should call this run unfinished.
VAL_HEALTHY = [0.15 + math.exp(-i / 3) for i in range(30)]
#: These tests are about outputs: keep the diagnosis to the one rule they rely on.
PIN = ("--isolated", "--select", "overfitting", "--set", "overfitting.severity=warning")


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS"):
        monkeypatch.delenv(var, raising=False)


def write(path: Path, val: list[float], loss: list[float] = LOSS) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"loss": loss, "val_loss": val}), encoding="utf-8")
    return str(path)


@pytest.fixture
def overfit(tmp_path: Path) -> str:
    return write(tmp_path / "runs" / "overfit.json", VAL_OVERFIT)


@pytest.fixture
def healthy(tmp_path: Path) -> str:
    return write(tmp_path / "runs" / "healthy.json", VAL_HEALTHY)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    command, *rest = argv
    code = main([command, *PIN, *rest] if command != "compare" else list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_registered_format_is_a_cli_choice() -> None:
    assert set(FORMAT_CHOICES) == set(FORMATTERS)


# --- diagnose: CI formats -------------------------------------------------------------------


def test_github_format_annotates_and_appends_the_step_summary(
    capsys: pytest.CaptureFixture[str],
    overfit: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = cli(capsys, "diagnose", "runs/overfit.json", "--format", "github")
    assert code == 0
    assert out.startswith(
        "::warning file=runs/overfit.json,title=curvedoc CD201 overfitting (val_loss)::"
    )
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")  # appended, not overwritten
    assert "### ⚠️ curvedoc: runs/overfit.json" in text
    assert "| Severity | Code | Rule |" in text
    # Other formats leave the summary alone.
    cli(capsys, "diagnose", overfit, "--format", "json")
    assert summary.read_text(encoding="utf-8") == text


def test_github_format_without_the_summary_variable_writes_no_file(
    capsys: pytest.CaptureFixture[str], overfit: str, tmp_path: Path
) -> None:
    before = set(tmp_path.rglob("*"))
    code, out, _ = cli(capsys, "diagnose", overfit, "--format", "github", "--fail-on", "warning")
    assert code == 1
    assert "::warning" in out
    assert set(tmp_path.rglob("*")) == before


def test_one_run_writes_every_artifact(
    capsys: pytest.CaptureFixture[str], overfit: str, tmp_path: Path
) -> None:
    argv = ["diagnose", overfit]
    for fmt in ("junit", "sarif", "gitlab", "html", "github", "markdown", "json"):
        argv += ["--output", f"{fmt}=out/report.{fmt}"]
    code, out, _ = cli(capsys, *argv, "--fail-on", "warning")
    assert code == 1
    assert "CD201" in out  # the terminal view on stdout
    root = ET.parse(tmp_path / "out" / "report.junit").getroot()
    failures = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failures] == ["CD201 overfitting"]
    sarif = json.loads((tmp_path / "out" / "report.sarif").read_text(encoding="utf-8"))
    driver = sarif["runs"][0]["tool"]["driver"]
    assert [r["name"] for r in driver["rules"]] == ["overfitting"]  # the selected rules
    assert "What it detects" in driver["rules"][0]["fullDescription"]["text"]
    gitlab = json.loads((tmp_path / "out" / "report.gitlab").read_text(encoding="utf-8"))
    assert gitlab[0]["check_name"] == "curvedoc/overfitting"
    assert gitlab[0]["location"]["path"] == "runs/overfit.json"
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<polyline" in page
    assert (tmp_path / "out" / "report.github").read_text(encoding="utf-8").startswith("::")


def test_junit_has_a_case_for_every_selected_rule(
    capsys: pytest.CaptureFixture[str], healthy: str
) -> None:
    code = main(["diagnose", "--isolated", healthy, "--format", "junit"])
    out = capsys.readouterr().out
    assert code == 0
    names = [c.get("name") for c in ET.fromstring(out.encode()).iter("testcase")]
    from curvedoc.packs import resolve_settings

    selected = resolve_settings(config=None).selected
    assert len(names) == len(selected)
    assert all(any(n.endswith(" " + rule) for n in names if n) for rule in selected)


# --- --baseline -----------------------------------------------------------------------------


def test_baseline_gates_only_on_new_findings(
    capsys: pytest.CaptureFixture[str], overfit: str, healthy: str, tmp_path: Path
) -> None:
    base = tmp_path / "baseline.json"
    # The documented way to create a baseline.
    code, out, _ = cli(
        capsys, "diagnose", overfit, healthy, "--format", "json", "--fail-on", "never"
    )
    assert code == 0
    base.write_text(out, encoding="utf-8")
    code, out, _ = cli(capsys, "diagnose", overfit, "--baseline", str(base), "--fail-on", "warning")
    assert code == 0
    assert "already in the baseline" in out
    # The healthy run starts to overfit: that finding is new and fails the gate.
    write(Path(healthy), VAL_OVERFIT)
    code, out, _ = cli(
        capsys,
        "diagnose",
        overfit,
        healthy,
        "--baseline",
        str(base),
        "--fail-on",
        "warning",
        "--format",
        "json",
    )
    assert code == 1
    data = json.loads(out)
    assert [len(r["findings"]) for r in data] == [0, 1]


def test_bad_baseline_is_exit_two(capsys: pytest.CaptureFixture[str], overfit: str) -> None:
    code, out, err = cli(capsys, "diagnose", overfit, "--baseline", "missing.json")
    assert code == 2
    assert out == ""
    assert err.startswith("curvedoc: error: missing.json: baseline file not found")


# --- report and plot ------------------------------------------------------------------------


def test_report_writes_one_html_file_for_several_runs(
    capsys: pytest.CaptureFixture[str], overfit: str, healthy: str, tmp_path: Path
) -> None:
    code, out, _ = cli(capsys, "report", overfit, healthy, "-o", "site/report.html")
    assert code == 0
    assert out.strip() == ("curvedoc: wrote site/report.html (2 runs: 1 with warnings, 1 clean)")
    page = (tmp_path / "site" / "report.html").read_text(encoding="utf-8")
    assert page.index('id="overview"') < page.index('id="run-1"') < page.index('id="run-2"')


def test_report_on_a_folder_of_runs_expands_it(
    capsys: pytest.CaptureFixture[str], overfit: str, healthy: str, tmp_path: Path
) -> None:
    (tmp_path / "runs" / "README.md").write_text("not a log\n", encoding="utf-8")
    code, out, _ = cli(capsys, "report", "runs", "--fail-on", "warning")
    assert code == 1
    assert "(2 runs: 1 with warnings, 1 clean)" in out
    page = (tmp_path / "curvedoc-report.html").read_text(encoding="utf-8")
    assert "runs/healthy.json" in page
    assert "runs/overfit.json" in page
    # A folder with no run in it is still one unreadable input.
    (tmp_path / "empty").mkdir()
    code, out, _ = cli(capsys, "diagnose", "empty")
    assert code == 2
    assert out.startswith("error: empty: ")


def test_plot_svg_needs_no_extra(
    capsys: pytest.CaptureFixture[str], overfit: str, tmp_path: Path
) -> None:
    code, out, _ = cli(capsys, "plot", overfit, "-o", "img/curves.svg")
    assert code == 0
    assert out.strip() == "curvedoc: wrote img/curves.svg"
    root = ET.parse(tmp_path / "img" / "curves.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert any(el.tag.endswith("polyline") for el in root.iter())


def test_plot_png_with_matplotlib(
    capsys: pytest.CaptureFixture[str], overfit: str, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib", reason="PNG output needs the plot extra")
    code, _, err = cli(capsys, "plot", overfit, "-o", "curves.png")
    assert code == 0, err
    data = (tmp_path / "curves.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000


def test_plot_png_without_matplotlib_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], overfit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib → ImportError
    code, out, err = cli(capsys, "plot", overfit, "-o", "curves.png")
    assert code == 2
    assert out == ""
    assert (
        err == 'curvedoc: error: PNG output needs matplotlib: pip install "curvedoc[plot]"'
        " (or write a .svg file)\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("-o", "curves.pdf"), "use a .svg or .png file name"),
        (("-o", "x.svg", "--rules", "nope.toml"), "nope.toml"),
    ],
)
def test_plot_errors_exit_two(
    capsys: pytest.CaptureFixture[str], overfit: str, argv: tuple[str, ...], message: str
) -> None:
    code, _, err = cli(capsys, "plot", overfit, *argv)
    assert code == 2
    assert message in err


def test_plot_unreadable_input_exit_two(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    code, _, err = cli(capsys, "plot", str(bad), "-o", "x.svg")
    assert code == 2
    assert "bad.json" in err
    assert not (tmp_path / "x.svg").exists()


# --- compare --------------------------------------------------------------------------------


def test_compare_exit_codes(
    capsys: pytest.CaptureFixture[str], overfit: str, healthy: str, tmp_path: Path
) -> None:
    code, out, _ = cli(capsys, "compare", healthy, healthy, "--isolated")
    assert code == 0
    assert "No regression" in out
    # The overfitting run's validation loss ends far higher: a regression.
    code, out, _ = cli(capsys, "compare", healthy, overfit, "--isolated")
    assert code == 1
    assert "Regression" in out
    assert "val_loss: final" in out
    # Against itself the other way round the candidate is better: no regression.
    code, out, _ = cli(capsys, "compare", overfit, healthy, "--isolated", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["regressed"] is False
    assert {f["rule"] for f in data["resolved"]} >= {"overfitting"}


def test_compare_accepts_a_json_report_as_baseline_and_writes_outputs(
    capsys: pytest.CaptureFixture[str], healthy: str, overfit: str, tmp_path: Path
) -> None:
    main(["diagnose", "--isolated", healthy, "--format", "json", "--output", "json=main.json"])
    capsys.readouterr()
    code, _, _ = cli(
        capsys,
        "compare",
        "main.json",
        overfit,
        "--isolated",
        "--output",
        "markdown=cmp.md",
        "--format",
        "json",
    )
    assert code == 1
    assert (tmp_path / "cmp.md").read_text(encoding="utf-8").startswith("### ❌")


@pytest.mark.parametrize(
    "extra",
    [("--tolerance", "-1"), ("--metric", "nope"), ("--output", "html=x.html")],
)
def test_compare_usage_errors_exit_two(
    capsys: pytest.CaptureFixture[str], healthy: str, extra: tuple[str, ...]
) -> None:
    code, _, err = cli(capsys, "compare", healthy, healthy, "--isolated", *extra)
    assert code == 2
    assert err.startswith("curvedoc: error: ")


def test_compare_unreadable_input_exit_two(
    capsys: pytest.CaptureFixture[str], healthy: str, tmp_path: Path
) -> None:
    code, _, err = cli(capsys, "compare", healthy, str(tmp_path / "missing.csv"), "--isolated")
    assert code == 2
    assert "missing.csv" in err
