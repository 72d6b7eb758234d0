"""Measure curvedoc end to end, next to references measured in the same run, against issue 6.

``python benchmarks/run.py --quick`` (under a minute) or ``--full`` (10^7 rows, 1,000 runs,
several repeats; a few minutes). Inputs come from :mod:`generate` (written once into a temp
folder, see ``--out``); ``pandas`` is needed for the CSV reference (``pip install -e ".[bench]"``).

Every number is a separate child process timed by the parent: wall time, CPU time (user + system)
and peak resident memory, read from ``os.wait4`` for exactly that child. The machine may be busy
(CI runners, shared cores), so each command runs several times and the *best* wall and CPU times
are kept — the least disturbed run — and ratios compare best with best. What is measured:

* **start-up**: ``python -c "import numpy"`` vs ``curvedoc diagnose`` of 20-epoch Keras histories
  (one overfitting, JSON and terminal output; one still improving, which makes curvedoc fit a
  saturating curve). Target: within 2× the numpy start-up, and under 0.5 s, judged on the best
  wall time (numpy's BLAS threads inflate its CPU time; the CLI runs BLAS single-threaded).
* **large inputs**: ``curvedoc diagnose`` of a 10^6-row CSV vs ``pandas.read_csv`` of the same
  file timed around the parse call only (pandas' import excluded); a 100,000-entry
  ``trainer_state.json`` vs ``json.load``. Target: the CSV within 1.5× the pandas parse. A
  breakdown (read / diagnose / render) comes from one in-process run per file.
* **memory**: peak RSS vs 3 × the float64 arrays of the table (rows × numeric columns × 8 bytes)
  plus the interpreter (the peak of the 20-epoch run).
* **detector scaling**: :func:`curvedoc.engine.run` on synthetic runs of 10^4 … 10^6 points
  (10^7 with ``--full``); time per point should stay flat (O(n), or O(n log n) at worst).
* **a folder of runs**: ``curvedoc diagnose runs_N/`` with ``--jobs 1`` and one worker per core.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from inputs import Inputs  # noqa: E402  (numpy-free: see its docstring)

PY = sys.executable
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    "NO_COLOR": "1",
    "COLUMNS": "100",
}
CURVEDOC = [PY, "-m", "curvedoc"]


@dataclass(frozen=True)
class Sample:
    """The best of several runs of one command: seconds, seconds, bytes."""

    wall: float
    cpu: float
    peak: int
    stdout: str = ""


def _maxrss_bytes(ru_maxrss: int) -> int:
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def run_once(cmd: Sequence[str]) -> Sample:
    """Run ``cmd`` and read its own wall time, CPU time and peak RSS (``os.wait4``).

    Linux starts a child's ``ru_maxrss`` at its parent's peak, so no peak reads below this
    launcher's own (~17 MB); ``python -c pass`` in the table shows that floor.
    """
    # Output goes to files, not pipes: nothing can block the child, and ``os.wait4`` (not
    # ``Popen.wait``) reaps it, which is what returns *its* resource usage.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=ENV, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {code}: {stderr[-800:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, _maxrss_bytes(usage.ru_maxrss), stdout)


def best(cmd: Sequence[str], repeat: int) -> Sample:
    runs = [run_once(cmd) for _ in range(repeat)]
    return Sample(
        wall=min(r.wall for r in runs),
        cpu=min(r.cpu for r in runs),
        peak=max(r.peak for r in runs),
        stdout=runs[-1].stdout,
    )


def diagnose_cmd(path: Path, fmt: str = "json") -> list[str]:
    return [*CURVEDOC, "diagnose", str(path), "--isolated", "--format", fmt, "--fail-on", "never"]


#: The parse call each large input's time is compared with.
_REFERENCES = {
    "json": "json.load ",
    "jsonl": "json.loads per line ",
    "pandas": "pandas.read_csv ",
}


# -- in-process probes (run in a child: ``run.py --probe KIND ARG``) ---------------------------
def _probe(kind: str, arg: str) -> dict[str, float]:
    """Timings measured inside one process, printed as JSON by the child."""
    if kind == "pandas":
        import pandas  # type: ignore[import-untyped,unused-ignore]

        t = time.process_time()
        frame = pandas.read_csv(arg)
        return {"parse": time.process_time() - t, "cells": float(frame.size)}
    if kind == "json":
        t = time.process_time()
        with open(arg, encoding="utf-8") as fh:
            json.load(fh)
        return {"parse": time.process_time() - t}
    if kind == "jsonl":
        t = time.process_time()
        with open(arg, encoding="utf-8") as fh:
            for line in fh:
                json.loads(line)
        return {"parse": time.process_time() - t}
    if kind == "stages":
        from curvedoc import api, engine
        from curvedoc.formatters import render
        from curvedoc.packs import resolve_settings

        settings = resolve_settings(config=None)
        t0 = time.perf_counter()
        history = api.load(arg)
        t1 = time.perf_counter()
        report = engine.run(history, settings)
        t2 = time.perf_counter()
        render("json", [report])
        t3 = time.perf_counter()
        points = sum(len(c) for c in history.curves)
        return {"read": t1 - t0, "engine": t2 - t1, "render": t3 - t2, "points": float(points)}
    if kind == "scaling":
        return _scaling(int(arg))
    raise SystemExit(f"unknown probe {kind}")


def _scaling(n: int) -> dict[str, float]:
    """engine.run on a synthetic step-level run of ``n`` points (plus a warm-up run)."""
    import numpy as np
    from generate import Run

    from curvedoc import engine
    from curvedoc.detectors import get_detector
    from curvedoc.model import Curve, History
    from curvedoc.packs import resolve_settings

    settings = resolve_settings(config=None)

    def history(size: int) -> History:
        parts = list(Run(size).chunks(size=max(size, 1)))
        t, loss, lr, grad, val = (np.concatenate(p) for p in zip(*parts, strict=True))
        m = np.isfinite(val)
        curves = (
            Curve("loss", "train_loss", "train", t, loss, "step"),
            Curve("lr", "lr", "train", t, lr, "step"),
            Curve("grad_norm", "grad_norm", "train", t, grad, "step"),
            Curve("val_loss", "val_loss", "val", t[m], val[m], "step"),
        )
        return History("bench", "csv", curves, {})

    engine.run(history(2_000), settings)  # imports and first-call costs out of the way
    h = history(n)
    t = time.perf_counter()
    report = engine.run(h, settings)
    total = time.perf_counter() - t
    out = {"engine": total, "findings": float(len(report.findings))}
    # Per detector, on a fresh context: which rule dominates at this size.
    from curvedoc.context import Context

    ctx = Context(h)
    t = time.perf_counter()
    for c in h.curves:
        ctx.series(c)
    out["smoothing"] = time.perf_counter() - t
    for name in settings.selected:
        det = get_detector(name)
        t = time.perf_counter()
        list(det().detect(ctx, settings.params_for(name)))
        out[name] = time.perf_counter() - t
    return out


def probe(kind: str, arg: str) -> dict[str, float]:
    sample = run_once([PY, __file__, "--probe", kind, arg])
    result: dict[str, float] = json.loads(sample.stdout)
    result["peak"] = float(sample.peak)
    return result


# -- report ------------------------------------------------------------------------------------
def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def secs(t: float) -> str:
    return f"{t:.3f} s" if t < 10 else f"{t:.1f} s"


class Table:
    def __init__(self, title: str, header: Sequence[str]) -> None:
        self.title = title
        self.header = list(header)
        self.rows: list[list[str]] = []

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.header) + " |"]
        lines.append("|" + "|".join("---" for _ in self.header) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines)


@dataclass
class Target:
    """A target of the issue: ``measured`` must stay at or below ``limit`` (at or above it when
    ``at_least``)."""

    what: str
    measured: float
    limit: float
    unit: str
    at_least: bool = False

    @property
    def met(self) -> bool:
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit

    def show(self, value: float) -> str:
        if self.unit == "MB":
            return mb(value)
        return f"{value:.2f}×" if self.unit == "×" else f"{value:.3f} s"

    def row(self) -> list[str]:
        verdict = "met" if self.met else "**missed**"
        bound = ("≥ " if self.at_least else "≤ ") + self.show(self.limit)
        return [self.what, self.show(self.measured), bound, verdict]


def generate_inputs(out: Path, full: bool) -> Inputs:
    """Run :mod:`generate` in a child process and read its manifest.

    The parent stays a small interpreter on purpose: Linux carries a process's peak RSS over
    ``fork``/``exec`` into the child's ``ru_maxrss``, so a parent that had generated 10^7 rows
    would inflate every child's measured peak.
    """
    cmd = [PY, str(HERE / "generate.py"), "--out", str(out), "--json"]
    cmd.append("--full" if full else "--quick")
    manifest = json.loads(subprocess.run(cmd, env=ENV, check=True, capture_output=True).stdout)
    paths: dict[str, Any] = {k: Path(v) if v else None for k, v in manifest.items()}
    return Inputs(**paths)


def bench(inputs: Inputs, *, full: bool, repeat: int) -> tuple[list[Table], list[Target]]:
    tables: list[Table] = []
    targets: list[Target] = []
    print("start-up ...", file=sys.stderr, flush=True)

    # 1. start-up
    start = Table(
        "Start-up: 20-epoch Keras histories (CPU = user + system time of the process)",
        ["command", "wall", "CPU", "peak RSS", "× numpy (wall)", "× numpy (CPU)"],
    )
    numpy_ref = best([PY, "-c", "import numpy"], repeat)
    bare = best([PY, "-c", "pass"], repeat)
    version = best([*CURVEDOC, "--version"], repeat)
    floor = best([PY, "-c", "import numpy, curvedoc.model"], repeat)
    small_json = best(diagnose_cmd(inputs.keras_20, "json"), repeat)
    small_term = best(diagnose_cmd(inputs.keras_20, "terminal"), repeat)
    improving = best(diagnose_cmd(inputs.keras_20_improving, "terminal"), repeat)
    for name, s in (
        ('python -c "pass"', bare),
        ('python -c "import numpy"', numpy_ref),
        ("curvedoc --version", version),
        ('python -c "import numpy, curvedoc.model"', floor),
        ("curvedoc diagnose keras_20.json --format json", small_json),
        ("curvedoc diagnose keras_20.json (terminal)", small_term),
        ("curvedoc diagnose keras_20_improving.json (terminal)", improving),
    ):
        start.add(
            name,
            secs(s.wall),
            secs(s.cpu),
            mb(s.peak),
            f"{s.wall / numpy_ref.wall:.2f}×",
            f"{s.cpu / numpy_ref.cpu:.2f}×",
        )
    tables.append(start)
    counted = instruction_counts(inputs)
    if counted is not None:
        tables.append(counted)
    tables.append(import_breakdown(inputs.keras_20))
    # Wall time (the best of several runs, so a busy machine disturbs it least): `import numpy`
    # starts BLAS threads whose CPU time counts against numpy but not against curvedoc (the
    # command line runs BLAS single-threaded), so a CPU-time ratio would flatter curvedoc.
    for what, s in (
        ("overfitting, --format json", small_json),
        ("overfitting, terminal", small_term),
        ("still improving, terminal", improving),
    ):
        targets.append(
            Target(
                f"20 epochs ({what}): × numpy start-up (wall)", s.wall / numpy_ref.wall, 2.0, "×"
            )
        )
        targets.append(Target(f"20 epochs ({what}): end to end (wall)", s.wall, 0.5, "s"))
    interpreter = small_json.peak

    # 2. large inputs
    large = Table(
        "Large inputs (curvedoc diagnose --format json, end to end; reference = CPU time of the"
        " parse call alone, in a process of its own; × reference compares CPU with CPU)",
        [
            "input",
            "rows / entries",
            "wall",
            "CPU",
            "reference parse",
            "× reference",
            "read / diagnose / render",
            "peak RSS",
            "float64 arrays",
        ],
    )
    cases: list[tuple[str, Path, str, int, int]] = [
        ("keras_1000.json", inputs.keras_1000, "json", 1000, 5),
        ("hf_100k trainer_state.json", inputs.hf_100k, "json", 100_000, 4),
        ("plain_1e6.csv", inputs.plain_1e6, "pandas", 10**6, 5),
    ]
    if full:
        cases.append(("lightning_1e6 metrics.csv", inputs.lightning_1e6, "pandas", 10**6, 6))
    if inputs.plain_1e7 is not None and inputs.lightning_1e7 is not None:
        cases += [
            ("plain_1e7.csv", inputs.plain_1e7, "pandas", 10**7, 5),
            ("lightning_1e7 metrics.csv", inputs.lightning_1e7, "pandas", 10**7, 6),
        ]
    if inputs.jsonl_1e6 is not None:
        cases.append(("metrics_1e6.jsonl", inputs.jsonl_1e6, "jsonl", 10**6, 5))
    have_pandas = _has_pandas()
    for name, path, ref, rows, cols in cases:
        print(f"{name} ...", file=sys.stderr, flush=True)
        reps = 1 if rows >= 10**6 and not full else repeat if rows <= 10**6 else 1
        s = best(diagnose_cmd(path, "json"), reps)
        stages = probe("stages", str(path))
        ref_t: float | None = None
        if ref in ("json", "jsonl"):
            ref_t = min(probe(ref, str(path))["parse"] for _ in range(reps))
        elif have_pandas:
            ref_t = min(probe("pandas", str(path))["parse"] for _ in range(reps))
        arrays = rows * cols * 8
        ratio = f"{s.cpu / ref_t:.1f}×" if ref_t else "–"
        ref_name = _REFERENCES[ref] + (secs(ref_t) if ref_t else "(no pandas)")
        split = f"{stages['read']:.2f} / {stages['engine']:.2f} / {stages['render']:.2f} s"
        large.add(
            name,
            f"{rows:,}",
            secs(s.wall),
            secs(s.cpu),
            ref_name,
            ratio,
            split,
            mb(s.peak),
            mb(arrays),
        )
        if rows >= 10**6 or (ref == "json" and rows >= 10**5):  # every large input
            limit = 3 * arrays + interpreter
            targets.append(
                Target(f"{name}: peak memory (≤ 3 × arrays + interpreter)", s.peak, limit, "MB")
            )
        if ref == "pandas" and ref_t and rows == 10**6:
            targets.append(
                Target(f"{name}: × pandas.read_csv parse (CPU)", s.cpu / ref_t, 1.5, "×")
            )
    tables.append(large)

    # 3. detector scaling
    sizes = [10**4, 10**5, 10**6] + ([10**7] if full else [])
    scaling = Table(
        "Detector scaling (engine.run, 4 curves of n points: loss, lr, grad_norm, sparse val_loss)",
        ["n", "engine", "ns / point", "÷ log2 n", "slowest rules (ns / point)", "peak RSS"],
    )
    per_point: list[float] = []
    for n in sizes:
        print(f"scaling n={n:,} ...", file=sys.stderr, flush=True)
        r = probe("scaling", str(n))
        ns = r["engine"] / n * 1e9
        per_point.append(ns)
        parts = {k: v for k, v in r.items() if k not in ("engine", "findings", "peak")}
        slow = sorted(parts.items(), key=lambda kv: -kv[1])[:3]
        scaling.add(
            f"{n:,}",
            secs(r["engine"]),
            f"{ns:,.0f}",
            f"{ns / math.log2(n):,.0f}",
            ", ".join(f"{k} {v / n * 1e9:,.0f}" for k, v in slow),
            mb(r["peak"]),
        )
    tables.append(scaling)
    # O(n log n): from 10^5 up, the time per point may grow at most like log n (×1.4 from 10^5
    # to 10^7); 10^4 is dominated by fixed costs and left out.
    growth = per_point[-1] / per_point[1]
    allowed = math.log2(sizes[-1]) / math.log2(sizes[1]) * 1.25
    top = f"10^{round(math.log10(sizes[-1]))}"
    targets.append(
        Target(f"detectors: ns/point growth 10^5 → {top} (≤ log n growth)", growth, allowed, "×")
    )

    # 4. a folder of runs
    count = len(list(inputs.runs.iterdir()))
    print(f"folder of {count} runs ...", file=sys.stderr, flush=True)
    folder = Table(
        f"A folder of {count} small runs (CPU includes worker processes)",
        ["command", "wall", "CPU", "wall per run", "peak RSS"],
    )
    cores = os.cpu_count() or 1
    jobs = [1, cores] if _cli_has_jobs() else [0]
    walls: dict[int, float] = {}
    for n in jobs:
        extra = ["--jobs", str(n)] if n else []
        s = best([*diagnose_cmd(inputs.runs, "json"), *extra], 1)
        walls[n] = s.wall
        label = f"curvedoc diagnose runs_{count}/" + (f" --jobs {n}" if n else "")
        folder.add(label, secs(s.wall), secs(s.cpu), f"{s.wall / count * 1000:.1f} ms", mb(s.peak))
    if len(walls) == 2 and cores > 1:
        speedup = walls[1] / walls[cores]
        targets.append(
            Target(
                f"folder: speed-up with {cores} workers", speedup, 0.6 * cores, "×", at_least=True
            )
        )
    tables.append(folder)
    return tables, targets


def instructions(cmd: Sequence[str]) -> int | None:
    """Instructions executed by ``cmd`` (valgrind's callgrind), or None without valgrind.

    Unlike wall time, the count is the same on a busy machine and a quiet one, so the start-up
    ratio it gives does not move with the neighbours' load (BLAS threads aside: the reference
    is run with one, as the command line runs it).
    """
    if shutil.which("valgrind") is None:
        return None
    env = {**ENV, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) if found else None


def instruction_counts(inputs: Inputs) -> Table | None:
    """Start-up in instructions executed (valgrind), next to ``import numpy``'s."""
    reference = instructions([PY, "-c", "import numpy"])
    if reference is None:
        return None
    print("start-up, instructions (valgrind) ...", file=sys.stderr, flush=True)
    table = Table(
        "Start-up in instructions executed (valgrind callgrind; the same on a busy machine)",
        ["command", "instructions", "× numpy"],
    )
    table.add('python -c "import numpy"', f"{reference / 1e6:,.0f} M", "1.00×")
    for name, cmd in (
        ("curvedoc diagnose keras_20.json --format json", diagnose_cmd(inputs.keras_20, "json")),
        ("curvedoc diagnose keras_20.json (terminal)", diagnose_cmd(inputs.keras_20, "terminal")),
    ):
        n = instructions(cmd)
        if n is not None:
            table.add(name, f"{n / 1e6:,.0f} M", f"{n / reference:.2f}×")
    return table


def import_breakdown(path: Path, top: int = 8) -> Table:
    """Where the start-up goes: ``python -X importtime`` self times, summed per package."""
    cmd = [PY, "-X", "importtime", *diagnose_cmd(path, "json")[1:]]
    err = subprocess.run(cmd, env=ENV, capture_output=True, text=True).stderr
    totals: dict[str, int] = {}
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.split(":", 1)[1].split("|")
        parts = name.strip().split(".")
        package = ".".join(parts[:2]) if parts[0] == "curvedoc" else parts[0]
        totals[package] = totals.get(package, 0) + int(self_us)
    table = Table(
        "Where the start-up goes (python -X importtime, self time summed per package, one run)",
        ["package", "import time", "share"],
    )
    whole = sum(totals.values()) or 1
    for package, us in sorted(totals.items(), key=lambda kv: -kv[1])[:top]:
        table.add(package, f"{us / 1000:.0f} ms", f"{us / whole:.0%}")
    table.add("all imports", f"{whole / 1000:.0f} ms", "100%")
    return table


def _cli_has_jobs() -> bool:
    """Whether ``curvedoc diagnose`` takes ``--jobs`` (runs in worker processes)."""
    help_text = subprocess.run(
        [*CURVEDOC, "diagnose", "--help"], env=ENV, capture_output=True, text=True
    ).stdout
    return "--jobs" in help_text


def _has_pandas() -> bool:
    return _has_module("pandas")


def _has_module(name: str) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return subprocess.run([PY, "-c", code], env=ENV).returncode == 0


def _compile_package() -> None:
    """Byte-compile curvedoc first, as ``pip install`` does: with ``PYTHONDONTWRITEBYTECODE``
    set, or after an edit, every measured start-up would otherwise include compiling the
    modules (~50 M instructions for the terminal report's three modules alone)."""
    import compileall

    compileall.compile_dir(ROOT / "curvedoc", quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark curvedoc against issue 6's targets.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="10^6 rows at most, 100 runs (< 1 min)")
    mode.add_argument("--full", action="store_true", help="also 10^7 rows and 1,000 runs")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(tempfile.gettempdir()) / "curvedoc-bench",
        help="where the inputs live (default: curvedoc-bench in the temp folder)",
    )
    parser.add_argument("--repeat", type=int, default=None, help="runs per command (best kept)")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--probe", nargs=2, metavar=("KIND", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(_probe(*args.probe)))
        return 0
    full = bool(args.full)
    repeat = args.repeat or (5 if full else 3)
    began = time.perf_counter()
    _compile_package()
    print(f"generating inputs in {args.out} ...", file=sys.stderr, flush=True)
    inputs = generate_inputs(args.out, full)
    tables, targets = bench(inputs, full=full, repeat=repeat)
    summary = Table("Targets (issue 6)", ["target", "measured", "limit", "verdict"])
    for t in targets:
        summary.add(*t.row())
    header = (
        f"curvedoc benchmark ({'full' if full else 'quick'}), Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, {time.perf_counter() - began:.0f} s; best of {repeat} runs"
    )
    text = "\n\n".join([header, *(t.markdown() for t in [*tables, summary])]) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
