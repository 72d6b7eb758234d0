"""One input, several runs: how ``read_path`` picks one and how ``PATH#RUN`` selects one.

Inputs that hold several runs come in two kinds:

* *sequential*: one log appended to across restarts (a Keras ``CSVLogger(append=True)`` whose
  epoch went back to 0, a fastai log with a repeated header). The runs are named
  ``<file>#run1``, ``<file>#run2``... and the *last* is the one that a single-history reader
  returns: it is the training the user ran most recently, and splicing it onto the earlier ones
  would draw jumps that never happened. A note names the others.
* *parallel*: runs side by side (a W&B export of several runs, an MLflow experiment or SQLite
  store, a folder of runs). No run is "the" run, so asking for one is an error that lists them;
  ``read_runs`` (and the CLI) diagnose each, and ``PATH#RUN`` picks one, where RUN is what
  follows ``#`` in that run's source (``run2``, a W&B run name, an MLflow run id) or a unique
  MLflow run name.
"""

from __future__ import annotations

import os
import re

from curvedoc.errors import InputError
from curvedoc.model import History
from curvedoc.readers._assemble import with_notes

_SEQUENTIAL = re.compile(r"#run\d+$")


def split_selector(source: str) -> tuple[str, str | None]:
    """``("log.csv", "run2")`` for ``log.csv#run2`` when ``log.csv#run2`` itself does not exist."""
    if "#" not in source or os.path.exists(source):
        return source, None
    base, _, selector = source.rpartition("#")
    return base, selector


def select_run(runs: list[History], base: str, selector: str) -> History:
    """The run named by ``selector`` (see the module docstring)."""
    for h in runs:
        if h.source.rpartition("#")[2] == selector and "#" in h.source:
            return h
    named = [h for h in runs if h.meta.get("run_name") == selector]
    if len(named) == 1:
        return named[0]
    names = ", ".join(h.source.rpartition("#")[2] for h in runs[:8] if "#" in h.source)
    raise InputError(
        f"no run {selector!r} in it" + (f" (runs: {names})" if names else ""), path=base
    )


def one_run(runs: list[History], source: str) -> History:
    """The single run of ``runs``: itself, the last of sequential runs, or an error."""
    if len(runs) == 1:
        return runs[0]
    if not runs:
        raise InputError("no run in it", path=source)
    if all(_SEQUENTIAL.search(h.source) for h in runs):
        others = ", ".join(h.source.rpartition("#")[2] for h in runs[:-1])
        return with_notes(
            runs[-1],
            [
                f"the file holds {len(runs)} runs (appended across restarts); this is the last "
                f"one; the others ({others}) are diagnosed with read_runs() or the CLI"
            ],
            first=True,
        )
    names = [h.source.rpartition("#")[2] if "#" in h.source else h.source for h in runs]
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    raise InputError(
        f"holds {len(runs)} runs ({shown}); pass one as PATH#RUN, or diagnose them all "
        "(curvedoc diagnose, curvedoc.readers.read_runs)",
        path=source,
    )
