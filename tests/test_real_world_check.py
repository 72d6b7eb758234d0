"""benchmarks/real_world_check.py: the tool that re-checks the real-world review's logs."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "real_world_check.py"
MANIFEST = ROOT / "docs" / "real-world-logs.tsv"


def run(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(folder)], capture_output=True, text=True, check=False
    )


def test_the_manifest_names_every_log_of_the_review() -> None:
    with MANIFEST.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 224
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(len(r["commit"]) == 40 and "/" in r["repo"] and r["findings"] for r in rows)
    review = (ROOT / "docs" / "real-world-review.md").read_text(encoding="utf-8")
    assert "224 logs" in review


def test_a_changed_verdict_is_reported_and_fails(tmp_path: Path) -> None:
    """Put a log under an id whose recorded findings differ (a healthy fixture where the
    review's T5 run had underfitting): the tool names it and exits 1; absent ids are skipped."""
    healthy = ROOT / "fixtures" / "hf-trainer-state" / "healthy_digits_warmup_cosine.json"
    shutil.copy(healthy, tmp_path / "r1-hf-01")
    out = run(tmp_path)
    assert out.returncode == 1
    assert "r1-hf-01 (10844110/t5-summarization-demo)" in out.stdout
    assert "was: CD202 loss" in out.stdout
    assert "now: clean" in out.stdout
    assert "1 of 224 logs present; 1 changed" in out.stderr
    (tmp_path / "r1-hf-01").unlink()
    shutil.copy(healthy, tmp_path / "r1-hf-02")  # recorded clean: unchanged
    assert run(tmp_path).returncode == 0
