"""Several runs in one input (read_runs, PATH#RUN), gzip-compressed input and standard input."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from curvedoc.errors import InputError
from curvedoc.model import Curve, History
from curvedoc.readers import read_path, read_runs, read_stream, read_stream_runs

KERAS_APPENDED = (
    "epoch,accuracy,loss,val_accuracy,val_loss\n"
    "0,0.80,0.50,0.78,0.55\n"
    "1,0.85,0.40,0.80,0.50\n"
    "2,0.88,0.35,0.81,0.48\n"
    # restarted from scratch with append=True: the epoch goes back to 0
    "0,0.70,0.70,0.70,0.72\n"
    "1,0.82,0.45,0.79,0.52\n"
    "2,0.86,0.38,0.82,0.47\n"
    "3,0.89,0.33,0.83,0.46\n"
)


def curve(h: History, name: str) -> Curve:
    c = h.get(name)
    assert c is not None, f"{name} not in {[c.name for c in h.curves]}"
    return c


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def test_keras_log_appended_across_restarts_is_split(tmp_path: Path) -> None:
    p = write(tmp_path, "training.log", KERAS_APPENDED)
    runs = read_runs(p)
    assert [r.source for r in runs] == [f"{p}#run1", f"{p}#run2"]
    assert curve(runs[0], "loss").y.tolist() == [0.50, 0.40, 0.35]
    assert curve(runs[1], "val_loss").x.tolist() == [0, 1, 2, 3]
    assert runs[0].notes[0] == "run 1 of 2 in training.log (lines 2-4)"
    assert runs[1].notes[0] == "run 2 of 2 in training.log (lines 5-8: the epoch went back to 0)"
    # one history wanted: the last run, with a note naming the other
    last = read_path(p)
    assert last.source == f"{p}#run2"
    assert curve(last, "loss").y.tolist() == [0.70, 0.45, 0.38, 0.33]
    assert last.notes[0].startswith("the file holds 2 runs (appended across restarts)")
    assert "(run1)" in last.notes[0]
    # PATH#RUN selects one
    assert curve(read_path(f"{p}#run1"), "loss").y.tolist() == [0.50, 0.40, 0.35]


def test_keras_resume_from_a_checkpoint_stays_one_run(tmp_path: Path) -> None:
    text = (
        "epoch,loss,val_loss\n0,0.9,0.95\n1,0.7,0.8\n2,0.6,0.7\n3,0.55,0.69\n"
        # crashed after epoch 3, resumed with initial_epoch=2: epochs 2-3 are written again
        "2,0.58,0.68\n3,0.52,0.66\n4,0.5,0.65\n"
    )
    runs = read_runs(write(tmp_path, "training.log", text))
    assert len(runs) == 1
    loss = curve(runs[0], "loss")
    assert loss.x.tolist() == [0, 1, 2, 3, 4]
    assert loss.y.tolist() == [0.9, 0.7, 0.58, 0.52, 0.5]
    assert any("2 duplicate epochs merged (last value kept)" in n for n in runs[0].notes)


def test_a_one_row_run_is_skipped_with_a_note(tmp_path: Path) -> None:
    text = "epoch,loss\n0,1.0\n1,0.8\n2,0.7\n0,1.1\n"  # restarted, crashed after one epoch
    runs = read_runs(write(tmp_path, "training.log", text))
    assert len(runs) == 1
    assert runs[0].source.endswith("#run1")
    assert any(n.startswith("skipped: run 2 (line 5): no numeric curve") for n in runs[0].notes)


def test_fastai_appended_fits_are_runs(tmp_path: Path) -> None:
    header = "epoch,train_loss,valid_loss,accuracy,time\n"
    text = header + "0,0.9,0.8,0.6,00:10\n1,0.7,0.6,0.7,00:10\n"
    text += header + "0,0.5,0.55,0.8,00:12\n1,0.45,0.5,0.82,00:12\n2,0.4,0.48,0.83,00:12\n"
    runs = read_runs(write(tmp_path, "history.csv", text))
    assert [r.format for r in runs] == ["fastai-csv", "fastai-csv"]
    assert curve(runs[1], "valid_loss").y.tolist() == [0.55, 0.5, 0.48]
    assert "a repeated header" in runs[1].notes[0]


def test_ultralytics_resume_is_not_split(tmp_path: Path) -> None:
    text = (
        "epoch,train/box_loss,metrics/mAP50(B),val/box_loss,lr/pg0\n"
        "1,1.5,0.2,1.6,0.01\n2,1.3,0.3,1.4,0.01\n3,1.2,0.35,1.3,0.01\n"
        "3,1.21,0.36,1.31,0.01\n4,1.1,0.4,1.2,0.01\n"
    )
    runs = read_runs(write(tmp_path, "results.csv", text))
    assert len(runs) == 1
    assert runs[0].format == "ultralytics"


def test_gzip_input_of_any_format(tmp_path: Path) -> None:
    p = write(tmp_path, "training.log.gz", gzip.compress(KERAS_APPENDED.encode()))
    runs = read_runs(p)
    assert len(runs) == 2
    assert runs[0].notes[0] == "gzip-compressed input, decompressed"
    j = write(
        tmp_path, "h.json.gz", gzip.compress(b'{"loss": [1, 0.5, 0.4], "val_loss": [1, 0.7, 0.6]}')
    )
    assert read_path(j).format == "keras-json"
    # two gzip members (cat a.gz b.gz) are one stream
    two = gzip.compress(b"epoch,loss\n0,1.0\n") + gzip.compress(b"1,0.5\n2,0.4\n")
    assert curve(read_path(write(tmp_path, "two.csv.gz", two)), "loss").y.tolist() == [
        1.0,
        0.5,
        0.4,
    ]


def test_broken_gzip(tmp_path: Path) -> None:
    data = gzip.compress(b"epoch,loss\n0,1.0\n1,0.5\n" * 100)
    with pytest.raises(InputError, match="truncated gzip data"):
        read_path(write(tmp_path, "cut.csv.gz", data[: len(data) // 2]))
    with pytest.raises(InputError, match="corrupt gzip data"):
        read_path(write(tmp_path, "bad.csv.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 40))


def test_read_stream(tmp_path: Path) -> None:
    h = read_stream(io.BytesIO(b"epoch,loss,val_loss\n0,1.0,1.1\n1,0.5,0.7\n"))
    assert h.source == "<stdin>"
    assert h.format == "keras-csv"
    runs = read_stream_runs(io.BytesIO(gzip.compress(KERAS_APPENDED.encode())), source="-")
    assert [r.source for r in runs] == ["-#run1", "-#run2"]
    with pytest.raises(InputError, match="<stdin>: empty file"):
        read_stream(io.BytesIO(b""))


def test_dash_reads_standard_input(tmp_path: Path) -> None:
    code = (
        "from curvedoc.readers import read_path, read_runs\n"
        "h = read_path('-')\n"
        "print(h.format, h.source, len(h.curves))\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=b'{"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.8, 0.7]}',
        capture_output=True,
        cwd=root,
        timeout=60,
        check=True,
    )
    assert done.stdout.decode().split() == ["keras-json", "<stdin>", "2"]


def test_selector_on_a_plain_file_and_a_real_hash(tmp_path: Path) -> None:
    p = write(tmp_path, "log.csv", "epoch,loss\n0,1.0\n1,0.5\n")
    with pytest.raises(InputError, match="no run 'run2' in it"):
        read_path(f"{p}#run2")
    # a file whose name holds '#' is read as it is
    q = write(tmp_path, "a#b.csv", "epoch,loss\n0,1.0\n1,0.5\n")
    assert read_path(q).source == str(q)


def test_big_numeric_block_is_parsed_in_one_go(tmp_path: Path) -> None:
    """A big regular block is parsed chunk by chunk into a float matrix with a blank mask, with
    exactly float()'s values; NA is a blank there; a word sends it down the string route."""
    import random

    from curvedoc.readers._table import parse_delimited

    rnd = random.Random(3)
    rows = [
        f"{e},{rnd.random()!r},{rnd.uniform(-5, 5):.6g},{rnd.random() * 1e-7!r}"
        for e in range(6000)
    ]
    # Keras' order: epoch, then the sorted names (the values are arbitrary numbers)
    text = "epoch,learning_rate,loss,val_loss\n" + "\n".join(rows) + "\n"
    table = parse_delimited(text, "big.csv")
    assert table.numeric is not None
    assert not table.has_blank_cells()
    want = [[float(c) for c in r.split(",")] for r in rows]
    assert table.numeric.tolist() == want
    h = read_path(write(tmp_path, "big.csv", text))
    assert curve(h, "loss").y.tolist() == [r[2] for r in want]
    assert h.format == "keras-csv"
    # a NA cell: still the matrix, the cell marked blank, the NA dropped
    na = text.replace(rows[100], rows[100].rsplit(",", 1)[0] + ",NA")
    na_table = parse_delimited(na, "big.csv")
    assert na_table.numeric is not None
    assert na_table.missing is not None
    assert na_table.has_blank_cells()
    assert np.argwhere(na_table.missing).tolist() == [[100, 3]]
    assert na_table.columns[3][100] == ""
    assert "" in na_table.columns[3]
    # a word in a cell: the string route, which names the line
    word = text.replace(rows[200], rows[200].rsplit(",", 1)[0] + ",oops")
    assert parse_delimited(word, "big.csv").numeric is None
    with pytest.raises(InputError, match=r"big_word.csv:202: val_loss: not a number"):
        read_path(write(tmp_path, "big_word.csv", word))
    h2 = read_path(write(tmp_path, "big_na.csv", na))
    assert curve(h2, "loss").y.tolist() == [r[2] for r in want]
    assert len(curve(h2, "val_loss")) == 5999
    # appended runs split the block too
    appended = text + "\n".join(rows[:50]) + "\n"
    runs = read_runs(write(tmp_path, "appended.csv", appended))
    assert [len(curve(r, "loss")) for r in runs] == [6000, 50]


def test_chunked_numeric_parse_matches_the_string_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk boundaries fall anywhere: every cell still lands in its own row and column, blanks
    stay blanks, NaN stays a number."""
    import random

    from conftest import assert_block_reads_as_strings

    from curvedoc.readers import _table

    rnd = random.Random(7)

    def cell() -> str:
        r = rnd.random()
        return "" if r < 0.3 else ("nan" if r < 0.35 else f"{rnd.uniform(-3, 3):.5g}")

    rows = [",".join([str(i), *(cell() for _ in range(3))]) for i in range(3000)]
    text = "step,loss,val_loss,lr\n" + "\n".join(rows) + "\n"
    monkeypatch.setattr(_table, "_NUMERIC_BLOCK_MIN", 0)
    monkeypatch.setattr(_table, "_CHUNK_CHARS", 997)
    table = _table.parse_delimited(text, "sparse.csv")
    assert table.numeric is not None
    assert table.missing is not None
    assert_block_reads_as_strings(
        table.numeric, table.missing, [[r.split(",")[j] for r in rows] for j in range(4)]
    )
    assert list(table.lines) == list(range(2, 3002))
