"""Coverage-guided fuzzing of every reader with atheris (libFuzzer for Python).

    pip install atheris
    python benchmarks/fuzz_atheris.py -atheris_runs=200000          # or -max_total_time=600
    python benchmarks/fuzz_atheris.py CORPUS_DIR -max_total_time=3600  # keep what it learns

Each input is written to a file and read by path, exactly as ``curvedoc diagnose`` reads it: the
outcome must be a History or a ``CurvedocError`` with a one-line message; anything else is a crash
that atheris reports with the input that caused it (``crash-<hash>`` in the working directory).
With ``--diagnose``, every History is also diagnosed and a detector crash counts as a failure.
With ``--numeric-block``, every delimited table goes through the byte-level numeric block (which
otherwise starts at 64 KB) in chunks of a few dozen characters, and must hold exactly what the
string route parses, cell for cell. With ``--hf-stream``, every input is also read with the
streamed JSON readers (``trainer_state.json`` and JSON Lines) forced on (they otherwise start at
4 MB) in pieces of 29 bytes, and must give the same History, or the same error, as the usual
route.
libFuzzer's ``-rss_limit_mb`` (default 2048) and ``-timeout`` (default 1200 s; pass e.g.
``-timeout=10``) turn unbounded memory or time into failures as well.

The seed corpus (written on first use into ``CORPUS_DIR`` when it is given and empty) is one small
file of every supported format, so mutations start from inputs that reach deep into each reader.
CI runs the Hypothesis tests (tests/test_fuzz_*.py); this script is for longer campaigns.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

SEEDS: dict[str, bytes] = {
    "keras.json": json.dumps({"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.8]}).encode(),
    "keras_wrapped.json": b'{"history": {"loss": [1, 0.5]}, "params": {"epochs": 2}}',
    "keras.csv": b"epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.0,0.4,1.2\n"
    b"1,0.6,0.8,NA,1.0\n",
    "pandas.csv": b",loss,val_loss\r\r\n0,1.0,1.1\r\r\n1,0.5,0.9\r\r\n",
    "lightning.csv": b"epoch,step,train_loss_step,val_loss\n0,49,0.69,\n0,99,,0.58\n1,149,0.55,\n",
    "ultralytics.csv": b"  epoch,  train/box_loss,  metrics/mAP50(B),  lr/pg0\n 1, 1.2, 0.1, 0.01\n"
    b" 2, 1.1, 0.2, 0.01\n",
    "fastai.csv": b"epoch,train_loss,valid_loss,accuracy,time\n0,1.0,0.9,0.5,00:10\n"
    b"1,0.8,0.8,0.6,00:10\n",
    "tensorboard.csv": b"Wall time,Step,Value\n1700000000.5,0,0.9\n1700000001.5,1,0.5\n",
    "wandb.csv": b'"Step","run - loss","run - loss__MIN","run - loss__MAX"\n"0","1.0","1.0","1.0"\n'
    b'"1","0.5","0.5","0.5"\n',
    "trainer_state.json": json.dumps(
        {
            "log_history": [
                {"loss": 2.0, "learning_rate": 1e-4, "epoch": 0.5, "step": 10},
                {"eval_loss": 1.5, "eval_runtime": 1.0, "epoch": 0.5, "step": 10},
                {"loss": 1.0, "learning_rate": 5e-5, "epoch": 1.0, "step": 20},
                {"train_runtime": 9.0, "train_loss": 1.5, "epoch": 1.0, "step": 20},
            ],
            "global_step": 20,
        }
    ).encode(),
    "records.jsonl": b'{"step": 1, "loss": 1.0}\n{"step": 2, "loss": NaN}\n'
    b'{"step": 3, "loss": 0.5}\n',
    "evals_result.json": b'{"validation_0": {"logloss": [0.6, 0.5]}, "validation_1": '
    b'{"logloss": [0.7, 0.6]}}',
    "mlflow_metric": b"1700000000000 0.9 0\n1700000001000 0.5 1\n",
    "utf16.csv": "epoch,loss\n1,0.5\n2,0.4\n".encode("utf-16"),
}


def _write_seeds(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        for name, data in SEEDS.items():
            (corpus / name).write_bytes(data)


def main() -> None:
    import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]

    diagnose = "--diagnose" in sys.argv
    numeric_block = "--numeric-block" in sys.argv
    hf_stream = "--hf-stream" in sys.argv
    argv = [a for a in sys.argv if a not in ("--diagnose", "--numeric-block", "--hf-stream")]
    dirs = [Path(a) for a in argv[1:] if not a.startswith("-")]
    if dirs:
        _write_seeds(dirs[0])

    with atheris.instrument_imports():
        from curvedoc import engine, readers
        from curvedoc.errors import CurvedocError
        from curvedoc.packs import resolve_settings
        from curvedoc.readers import _streaming, _table, read_path, read_runs
        from curvedoc.readers._numeric import parse_strings
        from curvedoc.readers._text import decode

    import numpy as np

    if numeric_block:
        _table._NUMERIC_BLOCK_MIN = 0
        _table._CHUNK_CHARS = 37

    def same_as_the_string_route(data: bytes) -> None:
        """The numeric block of ``data`` (if it has one) equals the string route's parse."""
        try:
            text = decode(data, "fuzz")
            block = _table.parse_delimited(text, "fuzz")
        except CurvedocError:
            return
        if block.numeric is None or block.missing is None:
            return
        numeric_rows = _table._numeric_rows
        _table._numeric_rows = lambda *a: None
        try:
            strings = _table.parse_delimited(text, "fuzz")
        finally:
            _table._numeric_rows = numeric_rows
        for j in range(len(block.names)):
            want = parse_strings(list(strings.columns[j]))
            ok = not want.text_rows and block.missing[:, j].tolist() == want.missing.tolist()
            if not ok or not np.array_equal(block.numeric[:, j], want.values, equal_nan=True):
                raise AssertionError(f"column {j}: the numeric block differs from the strings")

    def runs_or_error(path: Path, stream_min: int) -> object:
        """What reading ``path`` gives, as comparable values (curves as bytes)."""
        readers._STREAM_MIN = stream_min
        try:
            runs = read_runs(path)
        except CurvedocError as err:
            return str(err)
        return [
            (
                h.source,
                h.format,
                h.notes,
                sorted(h.meta.items(), key=repr),
                [
                    (c.name, c.role, c.split, c.x_unit, c.x.tobytes(), c.y.tobytes())
                    for c in h.curves
                ],
            )
            for h in runs
        ]

    def same_by_either_route(path: Path) -> None:
        """The streamed JSON readers give what the usual route gives."""
        _streaming.CHUNK = 29
        forced = runs_or_error(path, 0)
        usual = runs_or_error(path, 1 << 62)
        if forced != usual:
            raise AssertionError(f"the streamed read differs: {forced!r:.300} != {usual!r:.300}")

    settings = resolve_settings(config=None)
    folder = tempfile.mkdtemp(prefix="curvedoc-fuzz-")
    target = Path(folder) / "log"

    def test_one_input(data: bytes) -> None:
        if numeric_block:
            same_as_the_string_route(data)
        target.write_bytes(data)
        if hf_stream:
            same_by_either_route(target)
        try:
            history = read_path(target)
        except CurvedocError as err:
            if "\n" in str(err):
                raise AssertionError(f"a multi-line error message: {err!r}") from None
            return
        if diagnose:
            report = engine.run(history, settings)
            if report.errors:
                raise AssertionError(f"a detector crashed: {report.errors}")

    atheris.Setup(argv, test_one_input)
    try:
        atheris.Fuzz()
    finally:
        target.unlink(missing_ok=True)
        os.rmdir(folder)


if __name__ == "__main__":
    main()
