"""The README's quickstart stays true: its example log exists and diagnoses, and its test command
is the one CI runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from curvedoc.cli import main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def quickstart_commands() -> list[str]:
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)


def test_quickstart_has_the_two_commands() -> None:
    cmds = quickstart_commands()
    assert len(cmds) == 2
    assert cmds[0].startswith("pip install . && curvedoc diagnose ")
    assert cmds[1] == 'pip install -e ".[test]" && python -m pytest'


def test_quickstart_example_is_a_bundled_log_that_diagnoses(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    argv = shlex.split(quickstart_commands()[0].split("&&", 1)[1])
    assert argv[0] == "curvedoc"
    assert (REPO / argv[-1]).is_file()
    code = main(argv[1:])
    out = capsys.readouterr().out
    assert code in (0, 1)  # a readable log: findings or not, never a usage/input error
    assert "overfitting" in out


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_cmd = quickstart_commands()[1].split("&&", 1)[1].strip()
    assert test_cmd in ci
    assert '".[test]"' in ci
