"""Diagnosing many runs at once, on any :class:`concurrent.futures.Executor`.

>>> from curvedoc.sweep import diagnose_many
>>> reports = diagnose_many(["runs/"], jobs=4)                 # local processes
>>> from distributed import Client                               # or an existing cluster
>>> with Client("tcp://scheduler:8786") as client:
...     reports = diagnose_many(paths, executor=client.get_executor())

curvedoc grows no scheduler of its own: a sweep of thousands of runs goes to whatever engine is
already there (Dask's ``Client.get_executor()``, Ray's ``RayExecutor``, a
``ProcessPoolExecutor``...). What crosses to a worker is small and picklable: the resolved
:class:`~curvedoc.packs.Settings` and a chunk of work items (paths, :class:`RunRef` s, or
already loaded histories); what comes back is :class:`~curvedoc.model.Report` s. Workers read
the files themselves, so on a cluster the paths must be visible to the workers (a shared file
system).

Order and errors: the reports come back in input order. A folder that is not itself a run is
expanded (in the caller) into the runs beneath it (:mod:`curvedoc.discover`), and a file holding
several runs gives one report per run, in file order, so one source may give several reports. An
input that cannot be read gives a report with ``error`` set, as does a worker that crashed, and
the other inputs are still diagnosed.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curvedoc.discover import RunRef, discover
from curvedoc.errors import CurvedocError
from curvedoc.formatters.common import SummaryRow, rank, summary_rows
from curvedoc.model import History, Report
from curvedoc.packs import Settings
from curvedoc.readers.multi import split_selector

if TYPE_CHECKING:  # concurrent.futures is imported when a pool is used, not for one run
    from concurrent.futures import Executor, Future

Source = str | os.PathLike[str] | RunRef | History
_MAX_CHUNK = 64


@dataclass(frozen=True)
class _Item:
    """One unit of work: a path to read (maybe ``PATH#RUN``), a history to diagnose, or an
    input that already failed to read (standard input is read by the caller)."""

    path: str | None = None
    history: History | None = None
    pattern: str | None = None
    error: tuple[str, str] | None = None  # (source, message)


Result = tuple[Report, History | None]


def _error_report(source: str, message: str) -> Report:
    from curvedoc.api import error_report

    return error_report(source, message)


def _diagnose_item(item: _Item, settings: Settings, keep: bool) -> list[Result]:
    from curvedoc import engine
    from curvedoc.readers import read_runs

    if item.error is not None:
        return [(_error_report(*item.error), None)]
    if item.history is not None:
        return [(engine.run(item.history, settings), item.history if keep else None)]
    assert item.path is not None
    try:
        histories = read_runs(
            item.path,
            columns=settings.columns,
            directions=settings.directions,
            pattern=item.pattern,
        )
    except CurvedocError as exc:
        return [(_error_report(item.path, str(exc)), None)]
    return [(engine.run(h, settings), h if keep else None) for h in histories]


def diagnose_chunk(
    items: Sequence[_Item], settings: Settings, keep_histories: bool = False
) -> list[list[Result]]:
    """Diagnose a chunk of work items (runs in a worker); never raises for one bad item."""
    out: list[list[Result]] = []
    for item in items:
        try:
            out.append(_diagnose_item(item, settings, keep_histories))
        except Exception as exc:  # a bug must not take the rest of the sweep down
            where = _where(item)
            last = traceback.extract_tb(exc.__traceback__)[-1:]
            at = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
            msg = f"internal error ({type(exc).__name__}: {exc}){at}"
            out.append([(_error_report(where, msg), None)])
    return out


def _where(item: _Item) -> str:
    if item.path is not None:
        return item.path
    if item.history is not None:
        return item.history.source
    return item.error[0] if item.error else "?"


def expand(sources: Iterable[Source], *, pattern: str | None = None) -> list[_Item]:
    """Work items for ``sources``: folders that are not one run become the runs beneath them;
    ``-`` (standard input) is read here, since worker processes have no standard input."""
    from curvedoc.readers import read_runs

    items: list[_Item] = []
    for src in sources:
        if isinstance(src, History):
            items.append(_Item(history=src))
            continue
        path = src.path if isinstance(src, RunRef) else os.fspath(src)
        if path == "-":
            try:
                items += [_Item(history=h) for h in read_runs("-", pattern=pattern)]
            except CurvedocError as exc:
                items.append(_Item(error=("<stdin>", str(exc))))
            continue
        p = Path(path)
        if p.is_dir() and _run_kind(p) is None:
            found = discover(p).runs
            if found:
                items += [_Item(path=r.path, pattern=pattern) for r in found]
                continue
        items.append(_Item(path=path, pattern=pattern))
    return items


def _run_kind(folder: Path) -> str | None:
    from curvedoc.readers.directories import run_kind  # the folder readers, only for folders

    return run_kind(folder)


#: What the default number of workers weighs: a worker's own start-up (a Python interpreter
#: importing numpy and curvedoc), and the work of one small run and of one byte of a large log
#: (``benchmarks/run.py``: 4-7 ms per 20-epoch run, 1.3 s for a 37 MB CSV, on a 2-core VM).
_WORKER_START_S = 0.3
_PER_RUN_S = 0.006
_PER_BYTE_S = 35e-9


def _work_s(item: _Item) -> float:
    """A rough guess of the seconds one item takes, from its size on disk (or in memory)."""
    if item.history is not None:
        return _PER_RUN_S + 16 * _PER_BYTE_S * sum(len(c) for c in item.history.curves)
    if item.path is None:
        return 0.0
    path, _ = split_selector(item.path)  # (``PATH#RUN``: the file's size)
    try:
        if os.path.isdir(path):
            size = sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
        else:
            size = os.stat(path).st_size
    except OSError:
        size = 0
    return _PER_RUN_S + size * _PER_BYTE_S


def worth_workers(items: Sequence[_Item], workers: int) -> bool:
    """Whether ``workers`` processes would finish sooner than this one alone.

    Each worker first starts an interpreter and imports numpy and curvedoc: a folder of a few
    dozen small runs is diagnosed in this process before a pool would have started. A few
    large logs are worth it."""
    serial = sum(map(_work_s, items))
    return _WORKER_START_S + serial / workers < serial


def _chunks(items: list[_Item], workers: int) -> list[list[_Item]]:
    """Chunks small enough to balance the load (4 per worker), large enough to be cheap to send."""
    size = max(1, min(_MAX_CHUNK, -(-len(items) // (workers * 4))))
    return [items[i : i + size] for i in range(0, len(items), size)]


def diagnose_many(
    sources: Iterable[Source],
    *,
    executor: Executor | None = None,
    jobs: int | None = None,
    settings: Settings | None = None,
    rules: str | Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    config: str | Path | None = None,
    pattern: str | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> list[Report]:
    """Diagnose every source (paths, ``PATH#RUN``, ``-``, :class:`RunRef` s, histories) in
    parallel.

    ``executor``: any :class:`~concurrent.futures.Executor`; it is used, not shut down. Without
    one, a :class:`~concurrent.futures.ProcessPoolExecutor` with ``jobs`` workers (default: the
    number of CPUs, when the work is large enough to pay for starting them; see
    :func:`worth_workers`) is started for the call, or nothing at all when there is a single
    item or ``jobs == 1``. ``settings`` (as the CLI resolves them) or
    ``rules``/``select``/``ignore``/``params``/``columns``/``directions``/``config``/``hparams``
    (as :func:`curvedoc.diagnose` takes them) configure the rules; a configuration error
    raises :class:`~curvedoc.errors.ConfigError` here, before any work is sent. ``pattern``
    reads text inputs as console logs. Returns the reports in input order (see the module
    docstring).
    """
    if settings is None:
        from curvedoc.api import settings_for

        settings = settings_for(
            rules=rules,
            select=select,
            ignore=ignore,
            params=params,
            columns=columns,
            directions=directions,
            config=config,
            hparams=hparams,
        )
    results = diagnose_many_with_histories(
        sources, settings=settings, executor=executor, jobs=jobs, pattern=pattern, keep=False
    )
    return [r for r, _ in results]


def diagnose_many_with_histories(
    sources: Iterable[Source],
    *,
    settings: Settings,
    executor: Executor | None = None,
    jobs: int | None = None,
    pattern: str | None = None,
    keep: bool = True,
) -> list[Result]:
    """:func:`diagnose_many` returning ``(report, history)`` pairs (``history`` is None for an
    unreadable input, or when ``keep`` is false), for outputs that draw the curves (HTML,
    plots). Histories travel back from the workers, so only ask for them when needed."""
    if pattern is not None:
        from curvedoc.readers.text_log import resolve

        resolve(pattern)  # a bad regex is a ConfigError now, not one error report per input
    items = expand(sources, pattern=pattern)
    if not items:
        return []
    workers = jobs if jobs is not None and jobs > 0 else (os.cpu_count() or 1)
    if executor is None and (
        len(items) == 1 or workers == 1 or (jobs is None and not worth_workers(items, workers))
    ):
        return [r for results in diagnose_chunk(items, settings, keep) for r in results]
    chunks = _chunks(items, workers)
    own = executor is None
    if own:  # multiprocessing is imported only when a pool is needed (start-up of one run)
        from concurrent.futures import ProcessPoolExecutor
    pool: Executor = executor or ProcessPoolExecutor(max_workers=min(workers, len(chunks)))
    try:
        futures: list[Future[list[list[Result]]]] = [
            pool.submit(diagnose_chunk, chunk, settings, keep) for chunk in chunks
        ]
        out: list[Result] = []
        for chunk, fut in zip(chunks, futures, strict=True):
            try:
                results = fut.result()
            except Exception as exc:  # the worker died or the executor failed this task
                msg = f"worker failed ({type(exc).__name__}: {exc})"
                results = [[(_error_report(_where(it), msg), None)] for it in chunk]
            out += [r for per_item in results for r in per_item]
        return out
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)


# The ranking and the summary rows are pure functions of the reports; they live with the
# formatters (which draw the table) and are re-exported here for sweep users.
__all__ = [
    "RunRef",
    "SummaryRow",
    "diagnose_chunk",
    "diagnose_many",
    "diagnose_many_with_histories",
    "rank",
    "summary_rows",
]
