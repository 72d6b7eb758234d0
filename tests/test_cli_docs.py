"""The documented CI setups work: the curvedoc commands of ``docs/github-actions.yml`` and the
``.pre-commit-hooks.yaml`` entry are run as written on a log, and the README points at both.

The YAML is read with a small line-based extraction (no YAML dependency): ``run: curvedoc ...``
steps and the ``LOGS:`` value of the workflow; ``entry``/``args``/``files`` of the hook.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from curvedoc.cli import main

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "docs" / "github-actions.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
FIXTURES = REPO / "fixtures"

# A Keras history whose loss blows up after epoch 12: an error-level divergence.
DIVERGING = {
    "loss": [1 / (i + 1) + 0.1 for i in range(12)] + [0.3 * 2.0**i for i in range(12)],
    "val_loss": [1 / (i + 1) + 0.2 for i in range(12)] + [0.5 * 2.0**i for i in range(12)],
}


def bundled_log() -> Path | None:
    """A real training log from ``fixtures/`` (a diverging one when there is one)."""
    logs = sorted(
        p
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.suffix in (".csv", ".json") and "generate" not in p.parts
    )
    diverging = [p for p in logs if "diverge" in p.name]
    return (diverging or logs or [None])[0]


def workflow_commands() -> tuple[list[str], dict[str, str]]:
    text = WORKFLOW.read_text(encoding="utf-8")
    commands = re.findall(r"^\s*(?:-\s+)?run:\s*(curvedoc\s.+?)\s*$", text, flags=re.MULTILINE)
    env = dict(re.findall(r"^\s+(LOGS):\s*(\S+)\s*$", text, flags=re.MULTILINE))
    return commands, env


def hook() -> dict[str, str]:
    text = HOOKS.read_text(encoding="utf-8")
    return dict(re.findall(r"^\s+(entry|args|files|language):\s*(.+?)\s*$", text, re.MULTILINE))


@pytest.fixture(params=["synthetic", "bundled"])
def logs(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()
    if request.param == "bundled":
        fixture = bundled_log()
        if fixture is None:
            pytest.skip("no training log under fixtures/")
        shutil.copy(fixture, runs / fixture.name)
    else:
        (runs / "history.json").write_text(json.dumps(DIVERGING), encoding="utf-8")
    return runs


def test_the_workflow_has_curvedoc_commands_and_a_logs_variable() -> None:
    commands, env = workflow_commands()
    assert commands, "docs/github-actions.yml lost its curvedoc step"
    assert env == {"LOGS": "runs/"}
    assert all("$LOGS" in c for c in commands)


def test_the_workflow_commands_run_as_written(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    commands, env = workflow_commands()
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for command in commands:
        argv = shlex.split(os.path.expandvars(command))
        assert argv[0] == "curvedoc"
        code = main(argv[1:])
        out = capsys.readouterr().out
        assert code in (0, 1), out
        # The gate agrees with the findings: exit 1 exactly when an error-level finding exists.
        sarif = json.loads((tmp_path / "curvedoc.sarif").read_text(encoding="utf-8"))
        levels = [r["level"] for r in sarif["runs"][0]["results"]]
        assert code == (1 if "error" in levels else 0)
        annotations = [line for line in out.splitlines() if line.startswith("::")]
        assert len(annotations) == len(levels)
        junit = ET.parse(tmp_path / "curvedoc-junit.xml").getroot()
        assert int(junit.get("tests", "0")) > 0
        page = (tmp_path / "curvedoc-report.html").read_text(encoding="utf-8")
        assert "<svg" in page
        assert summary.read_text(encoding="utf-8").startswith("### ")
    if (logs / "history.json").exists():
        assert "error" in levels  # the synthetic divergence is found and fails the gate


def test_the_pre_commit_hook_runs_on_a_matching_log(
    logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = hook()
    assert entry["language"] == "python"
    files = re.compile(entry["files"])
    assert files.search("runs/exp1/history.json")
    assert files.search("lightning_logs/version_0/metrics.csv")
    assert not files.search("README.md")
    command = shlex.split(entry["entry"])
    args = re.findall(r"[^\s,\[\]]+", entry["args"])
    assert command[0] == "curvedoc"
    for log in sorted(logs.iterdir()):
        code = main([*command[1:], *args, os.path.relpath(log)])  # pre-commit passes these
        out = capsys.readouterr().out
        assert code in (0, 1)
        assert log.name in out


def test_the_readme_documents_both() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/github-actions.yml" in readme
    assert ".pre-commit-hooks.yaml" in readme
    assert "id: curvedoc" in readme
    assert "--baseline" in readme
    assert "curvedoc compare" in readme
