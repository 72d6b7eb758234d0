"""Finding every training run beneath a folder (``curvedoc diagnose runs/``).

The folder is walked breadth-first. A folder that *is* a run is taken whole and not entered
(its sub-folders are part of it: ``checkpoint-*/``, Keras' ``train/``/``validation/``, MLflow's
``artifacts/``; only beside TensorBoard CSV exports are sub-folders searched too):

* an MLflow run (``metrics/``), a Lightning ``version_N/`` (``metrics.csv`` or event files +
  ``hparams.yaml``), an Ultralytics ``exp*/``/``train*/`` (``results.csv``), a fastai folder
  (``history.csv``), a TensorBoard run (event files, or split sub-folders holding them), a folder
  of TensorBoard CSV exports;
* a Hugging Face output folder: its ``trainer_state.json``, else the *latest*
  ``checkpoint-N/trainer_state.json`` only (checkpoints hold nested prefixes of one history);
* MLflow runs marked deleted (``lifecycle_stage: deleted``) are skipped and counted.

Elsewhere, loose files are runs when their content looks like a training log (a JSON/CSV head
naming a loss, a metric or an epoch/step axis; a console log a shipped pattern reads; an event
file; an MLflow SQLite store), so ``config.json`` or ``requirements.txt`` are not reported as
unreadable runs. Hidden folders, ``__pycache__``, ``node_modules``, virtualenvs and W&B's binary
``wandb/`` folders are skipped.

Robustness: unreadable folders are skipped and counted; symbolic links are followed but every
folder is visited once (by device and inode), so link loops end; the walk stops after
``max_dirs`` folders or below ``max_depth`` levels, and looks at no more than ``max_files`` loose
files, and says so. Nothing is read beyond a few KB per candidate file.
"""

from __future__ import annotations

import os
import re
import stat
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from curvedoc.readers._text import GZIP_MAGIC
from curvedoc.readers.tfrecord import looks_like_tfrecord

_SKIP_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        "site-packages",
        "venv",
        "env",
        "wandb",
        "artifacts",
    }
)
_LOG_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".log", ".txt", ".db", ".sqlite")
_HEAD_BYTES = 8192
_WORDS = (
    rb"loss|acc|accuracy|epoch|step|metric|error|mae|mse|rmse|auc|map|reward|perplexity|ppl"
    rb"|log_history|wall time|iter|lr|learning_rate|f1|score|eval|val|train"
)
# a JSON *key* (not any value) naming a curve or an axis
_JSON_KEY = re.compile(rb'"[^"\n]{0,60}(?:' + _WORDS + rb')[^"\n]{0,60}"\s*:', re.IGNORECASE)
# a header word: a curve or axis name as a whole token
_HEADER_WORD = re.compile(rb"(?<![A-Za-z])(?:" + _WORDS + rb")", re.IGNORECASE)


# the header of a two-column parameter table: ``key,value`` (PyTorch Lightning's 2019 test-tube
# logger wrote its hyperparameters as ``meta_tags.csv``), ``name,value``, ``param,value``
_KEY_VALUE = re.compile(
    rb'"?(?:key|name|param|parameter|hparam|tag)"?[,\t;]"?value"?', re.IGNORECASE
)


@dataclass(frozen=True)
class RunRef:
    """A run found on disk: ``path`` is what to read (a run folder or a log file), ``kind`` what
    it is (``mlflow-run``, ``tensorboard``, ``tensorboard-csv``, ``log-file``, ``hf``, ``file``,
    ``mlflow-db``), ``name`` its path relative to the searched folder. Picklable, so it can be
    sent to a worker process or a cluster."""

    path: str
    kind: str
    name: str


@dataclass
class Discovery:
    runs: list[RunRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _hf_state(folder: Path) -> Path | None:
    from curvedoc.readers import directories

    if (folder / "trainer_state.json").is_file():
        return folder / "trainer_state.json"
    found = directories.find_log_file(folder)
    return found if found is not None and found.name == "trainer_state.json" else None


def _head(path: Path, size: int = _HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of the file, decompressed when it is gzip."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return b""  # a FIFO or device would block or never end: not a log
        with open(path, "rb") as fh:
            head = fh.read(size)
            if head.startswith(GZIP_MAGIC):
                head += fh.read(size * 4)
                try:
                    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, size)
                except zlib.error:
                    return b""
    except OSError:
        return b""
    return head


def file_kind(path: Path) -> str | None:
    """``file``/``mlflow-db`` when a loose file looks like a training log, else None."""
    from curvedoc.readers import mlflow, tensorboard

    name = path.name.lower()
    if tensorboard.is_event_file_name(name):
        return "file"
    stem = name[:-3] if name.endswith(".gz") else name
    if not stem.endswith(_LOG_SUFFIXES):
        return None
    head = _head(path)
    if not head:
        return None
    if mlflow.is_sqlite_store(head):
        return "mlflow-db" if name.endswith(".gz") or mlflow.has_store_tables(path) else None
    if looks_like_tfrecord(head[:12]):
        return "file"
    if b"\x00" in head:
        return None
    text = head.lstrip()
    if text.startswith((b"{", b"[")):
        return "file" if _JSON_KEY.search(head) else None
    first_line = text.split(b"\n", 1)[0]
    if _KEY_VALUE.fullmatch(first_line.strip()):
        return None  # a parameter table (test-tube's meta_tags.csv), not a log
    if len(first_line) < 4096 and _HEADER_WORD.search(first_line) and b"," in first_line + b"\t":
        return "file"
    from curvedoc.readers.text_log import sniff_pattern

    if sniff_pattern(head.decode("utf-8", "replace")) is not None:
        return "file"
    return None


def _folder_run(folder: Path) -> tuple[str, Path] | None:
    from curvedoc.readers import directories

    kind = directories.run_kind(folder)
    if kind is None:
        return None
    if kind == "log-file":
        state = _hf_state(folder)
        if state is not None:
            return "hf", state
    return kind, folder


def discover(
    root: str | os.PathLike[str],
    *,
    max_dirs: int = 100_000,
    max_depth: int = 32,
    max_files: int = 100_000,
) -> Discovery:
    """Every run beneath ``root`` (see the module docstring), sorted by path.

    At most ``max_dirs`` folders are entered, ``max_depth`` levels deep, and the heads of at most
    ``max_files`` loose files are looked at; the notes say when a bound was hit."""
    from curvedoc.readers import mlflow

    top = Path(root)
    out = Discovery()
    if top.is_file():
        out.runs.append(RunRef(str(top), file_kind(top) or "file", top.name))
        return out
    seen: set[tuple[int, int]] = set()
    queue: deque[tuple[Path, int]] = deque([(top, 0)])
    visited = 0
    examined = 0
    unreadable = 0
    deleted = 0
    skipped: set[str] = set()
    while queue:
        folder, depth = queue.popleft()
        try:
            st = folder.stat()
        except OSError:
            unreadable += 1
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            continue
        seen.add(key)
        visited += 1
        if visited > max_dirs:
            out.notes.append(f"stopped after {max_dirs} folders; runs further on not searched")
            break
        try:
            run = _folder_run(folder)
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            unreadable += 1
            continue
        if run is not None:
            kind, path = run
            if kind == "mlflow-run" and mlflow.is_deleted(folder):
                deleted += 1
                continue
            out.runs.append(RunRef(str(path), kind, _rel(folder, top)))
            if kind != "tensorboard-csv":
                continue
            # loose CSV exports beside sub-folders: the sub-folders may be runs of their own
            entries = [e for e in entries if e.is_dir()]
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                unreadable += 1
                continue
            if is_dir:
                if entry.name.startswith(".") or entry.name.lower() in _SKIP_DIRS:
                    if entry.name.lower() == "wandb":
                        skipped.add("wandb/ (binary W&B run files: export the runs as CSV)")
                    continue
                if depth + 1 > max_depth:
                    out.notes.append(f"folders deeper than {max_depth} levels not searched")
                    continue
                queue.append((Path(entry.path), depth + 1))
            else:
                if examined >= max_files:
                    out.notes.append(f"stopped looking at loose files after {max_files}")
                    continue
                examined += 1
                kind_f = file_kind(Path(entry.path))
                if kind_f is not None:
                    out.runs.append(RunRef(entry.path, kind_f, _rel(Path(entry.path), top)))
    if unreadable:
        out.notes.append(f"{unreadable} folder(s) or file(s) could not be read: skipped")
    if deleted:
        out.notes.append(f"{deleted} deleted MLflow run(s) skipped")
    out.notes += [f"skipped {s}" for s in sorted(skipped)]
    out.notes = list(dict.fromkeys(out.notes))
    out.runs.sort(key=lambda r: r.path)
    return out


def _rel(path: Path, top: Path) -> str:
    try:
        rel = path.relative_to(top).as_posix()
    except ValueError:
        return str(path)
    return rel if rel != "." else path.name or str(path)


def discover_runs(root: str | os.PathLike[str]) -> list[RunRef]:
    """The runs beneath ``root`` (:func:`discover` without its notes)."""
    return discover(root).runs


__all__ = ["Discovery", "RunRef", "discover", "discover_runs", "file_kind"]
