"""Weights & Biases chart export ("Export -> CSV" in the W&B UI).

The first column is the chart's x axis (``Step``, or ``epoch``...); then, per run,
``"<run> - <key>"``, ``"<run> - <key>__MIN"`` and ``"<run> - <key>__MAX"``. The ``__MIN``/``__MAX``
columns are the envelope of W&B's down-sampling buckets, not metrics, so they are dropped. With a
run the curves are named by their key (``train/loss``). An export of several runs (or groups,
``"Group: <name> - <key>"``) is split into one history per run, named ``<file>#<run>``
(:func:`read_wandb_runs`); :func:`read_wandb_table` keeps them together under their full
``"<run> - <key>"`` names. Exports can be sampled: W&B may leave steps out of a long run, which
the report cannot know.
"""

from __future__ import annotations

from collections.abc import Mapping

from curvedoc.errors import InputError
from curvedoc.model import History
from curvedoc.readers._assemble import Series, assemble
from curvedoc.readers._records import x_unit_of
from curvedoc.readers._table import Table, table_series, x_from_column

FORMATS: tuple[tuple[str, str], ...] = (
    ("wandb-csv", "Weights & Biases chart CSV export ('<run> - <key>', __MIN/__MAX dropped)"),
)

_ENVELOPE = ("__MIN", "__MAX")


def looks_like_wandb(names: list[str]) -> bool:
    if len(names) < 2:
        return False
    if any(n.endswith(_ENVELOPE) for n in names):
        return True
    return all(" - " in n for n in names[1:]) and " - " not in names[0]


def read_wandb_table(
    table: Table,
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> History:
    x_name = table.names[0]
    x = x_from_column(table, x_name, source)
    envelope = [j for j, n in enumerate(table.names) if n.endswith(_ENVELOPE)]
    series, notes = table_series(
        table,
        source,
        x=x,
        skip=[0, *envelope],
        keep_names=tuple((columns or {}).keys()),
    )
    runs = {s.name.split(" - ", 1)[0] for s in series if " - " in s.name}
    renamed: list[Series] = []
    for s in series:
        key = s.name.split(" - ", 1)[1] if " - " in s.name else s.name
        s.classify_as = key
        if len(runs) <= 1:
            s.name = key
        renamed.append(s)
    out_notes = list(table.notes)
    if envelope:
        out_notes.append(f"{len(envelope)} __MIN/__MAX envelope column(s) dropped")
    if len(runs) > 1:
        out_notes.append(f"{len(runs)} runs in one export: {', '.join(sorted(runs))}")
    x_unit = x_unit_of(x_name)
    return assemble(
        source=source,
        fmt="wandb-csv",
        series=renamed,
        x_unit=x_unit,
        notes=[*out_notes, *notes],
        columns=columns,
        directions=directions,
    )


def _run_of(name: str) -> str | None:
    return name.split(" - ", 1)[0] if " - " in name else None


def read_wandb_runs(
    table: Table,
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> list[History]:
    """One history per run of the export (just one, with the file as source, for one run)."""
    runs = list(dict.fromkeys(r for n in table.names[1:] if (r := _run_of(n)) is not None))
    if len(runs) <= 1:
        return [read_wandb_table(table, source=source, columns=columns, directions=directions)]
    out: list[History] = []
    failed: list[str] = []
    for run in runs:
        keep = [0] + [j for j, n in enumerate(table.names) if _run_of(n) == run]
        part = Table(
            [table.names[j] for j in keep],
            [table.columns[j] for j in keep],
            table.lines,
            [f"run {run!r}, one of {len(runs)} in the export", *table.notes],
            numeric=None if table.numeric is None else table.numeric[:, keep],
            missing=None if table.missing is None else table.missing[:, keep],
        )
        try:
            out.append(
                read_wandb_table(
                    part, source=f"{source}#{run}", columns=columns, directions=directions
                )
            )
        except InputError as exc:
            failed.append(f"{run}: {exc.message}")
    if not out:
        raise InputError(f"no run of the export is readable ({'; '.join(failed)})", path=source)
    return out
