"""Re-check curvedoc against the real-world logs of ``docs/real-world-review.md``.

The logs are not in this repository (their owners did not license them to us);
``docs/real-world-logs.tsv`` names each one (``repo``, ``commit``, ``paths``), the pattern a
console log is read with, and the findings curvedoc gave when the review was written
(``code subject-curve`` pairs, or ``clean``/``error``; ``N runs:`` for a file of several runs).

Fetch the ones you want into a folder, each under its ``id`` (a file, or a folder holding a
run's files with their paths below the run folder), e.g.::

    git clone https://github.com/10844110/t5-summarization-demo /tmp/t5
    git -C /tmp/t5 show bf0ebb24...:trainer_state.json > logs/r1-hf-01

(a TensorBoard CSV export keeps its own file name, which holds its tag:
``logs/r2-keras-yolo-35/run-.-tag-loss.csv``), then
``python benchmarks/real_world_check.py logs/`` diagnoses every id present and prints the
ones whose findings changed. Exit status 1 when any did: after a rule change, each difference is
a verdict of the review to read again.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

MANIFEST = Path(__file__).resolve().parent.parent / "docs" / "real-world-logs.tsv"


def findings_of(path: Path, pattern: str) -> str:
    """The findings column of the manifest, for what curvedoc says about ``path`` now."""
    cmd = [sys.executable, "-m", "curvedoc", "diagnose", str(path), "--format", "json"]
    cmd += ["--fail-on", "never", *(["--pattern", pattern] if pattern else [])]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if not out.stdout.strip():
        return "error"
    reports = json.loads(out.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    if any(r.get("error") for r in reports):
        return "error"
    pairs = {f"{f['code']} {f['curves'][0]}" for r in reports for f in r["findings"]}
    found = "; ".join(sorted(pairs)) or "clean"
    return f"{len(reports)} runs: {found}" if len(reports) > 1 else found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a folder holding logs named by their id")
    args = parser.parse_args(argv)
    with MANIFEST.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    checked = changed = 0
    for row in rows:
        path = args.folder / row["id"]
        if not path.exists():
            continue
        checked += 1
        now = findings_of(path, row["pattern"])
        if now != row["findings"]:
            changed += 1
            print(f"{row['id']} ({row['repo']}):\n  was: {row['findings']}\n  now: {now}")
    print(f"{checked} of {len(rows)} logs present; {changed} changed", file=sys.stderr)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
