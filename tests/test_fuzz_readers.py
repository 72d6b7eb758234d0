"""Fuzzing every reader: any bytes, any JSON value, any CSV text, any Python object.

Whatever the input, reading it gives a :class:`~curvedoc.model.History` that keeps the model's
promises, or a :class:`~curvedoc.errors.CurvedocError` with a one-line message — never another
exception. Diagnosing it through :func:`curvedoc.api.diagnose_path` never raises, no detector
crashes on what a reader let through, and the report serialises.

The inputs reach the readers the way users' files do: written to disk and read by path, so the
byte-level decoding (BOMs, UTF-16, binary sniffing) and the format detection by content are
fuzzed too. Example counts are kept small enough for CI (a few seconds per test); the longer
campaign is ``benchmarks/fuzz_atheris.py`` (see docs/robustness.md).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curvedoc.api import diagnose_path
from curvedoc.errors import CurvedocError
from curvedoc.model import ROLES, History, Report
from curvedoc.packs import resolve_settings
from curvedoc.readers import from_object, read_path

SETTINGS = resolve_settings(config=None)
FUZZ = settings(
    max_examples=int(os.environ.get("CURVEDOC_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def log_file(data: bytes, name: str = "log") -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield path


def check_history(h: History) -> None:
    assert isinstance(h, History)
    assert any(len(c) >= 2 for c in h.curves)
    for c in h.curves:
        assert c.role in ROLES
        assert c.x_unit in ("epoch", "step")
        assert c.direction in ("min", "max")
        assert c.x.dtype == np.float64
        assert c.y.dtype == np.float64
        assert bool(np.all(np.isfinite(c.x)))
        assert bool(np.all(c.x[1:] > c.x[:-1]))
    assert all("\n" not in note for note in h.notes)


def outcome(read: Callable[[], History]) -> History | CurvedocError:
    """The result of ``read``: a valid History, or a one-line CurvedocError; nothing else."""
    error: CurvedocError | None = None
    try:
        h = read()
    except CurvedocError as err:
        error = err
    if error is not None:
        assert str(error).strip()
        assert "\n" not in str(error)
        return error
    check_history(h)
    return h


def check_path(path: Path) -> None:
    """Read ``path``, then diagnose it: never raises, no detector crash, valid JSON out."""
    result = outcome(lambda: read_path(path))
    report = diagnose_path(path, SETTINGS)
    assert isinstance(report, Report)
    if isinstance(result, CurvedocError):
        assert report.error is not None
    else:
        assert report.error is None
        assert report.errors == [], report.errors
    assert Report.model_validate_json(report.to_json()) == report


# -- any bytes ----------------------------------------------------------------------------------
PREFIXES = [
    b"",
    b"\xef\xbb\xbf",  # UTF-8 BOM
    b"\xff\xfe",  # UTF-16 LE BOM
    b"\xfe\xff",  # UTF-16 BE BOM
    b"\xff\xfe\x00\x00",  # UTF-32 LE BOM (read as UTF-16)
    b"{",
    b"[",
    b'{"loss": [',
    b"epoch,loss,val_loss\n",
    b"step\tloss\n",
    b"Wall time,Step,Value\n",
    b"1700000000000 0.5 1\n",
    b"\x1f\x8b",
    b"PK\x03\x04",
    b"\x80\x04",
]


@FUZZ
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=600))
def test_any_bytes(prefix: bytes, body: bytes) -> None:
    with log_file(prefix + body) as path:
        check_path(path)


# -- any JSON value -----------------------------------------------------------------------------
KEYS = st.one_of(
    st.sampled_from(
        [
            "loss",
            "val_loss",
            "accuracy",
            "val_accuracy",
            "lr",
            "learning_rate",
            "grad_norm",
            "step",
            "epoch",
            "eval_loss",
            "log_history",
            "history",
            "params",
            "validation_0",
            "train_runtime",
        ]
    ),
    st.text(max_size=12),
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, -0.0, 5e-324, 0.0, 1.0]),
    st.text(max_size=8),
    st.sampled_from(["1.5", "NA", "", "nan", "inf", "-0.0"]),
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=12) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=60,
)
# Logs that are *nearly* right: a dict of numeric lists, or a list of records.
NUMBERS = st.lists(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none(), st.integers(-5, 5)),
    max_size=40,
)
KERAS_LIKE = st.dictionaries(KEYS, NUMBERS, min_size=1, max_size=5)
RECORDS = st.lists(st.dictionaries(KEYS, st.one_of(LEAVES, NUMBERS), max_size=5), max_size=30)


@FUZZ
@given(value=st.one_of(JSON_VALUES, KERAS_LIKE, RECORDS), indent=st.sampled_from([None, 1]))
def test_any_json_value(value: object, indent: int | None) -> None:
    with log_file(json.dumps(value, indent=indent).encode("utf-8"), "log.json") as path:
        check_path(path)


@FUZZ
@given(records=RECORDS, cut=st.integers(min_value=0, max_value=40))
def test_any_json_lines(records: list[dict[str, object]], cut: int) -> None:
    """JSON Lines, possibly cut short mid-record (a job still writing)."""
    text = "\n".join(json.dumps(r) for r in records)
    data = text[: max(0, len(text) - cut)].encode("utf-8")
    with log_file(data, "log.jsonl") as path:
        check_path(path)


@FUZZ
@given(value=st.one_of(JSON_VALUES, KERAS_LIKE, RECORDS))
def test_any_python_object(value: object) -> None:
    outcome(lambda: from_object(value))


# -- any CSV ------------------------------------------------------------------------------------
NAMES = st.one_of(
    st.sampled_from(
        ["epoch", "step", "loss", "val_loss", "lr", "grad_norm", "train_loss_step", "acc", ""]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=10),
)
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(
        ["", "NA", "nan", "NaN", "inf", "-inf", "-0.0", "1e308", "1e309", "5e-324", " 1.5 "]
    ),
    st.sampled_from(['"1.5"', '"a,b"', '"', "x", "None", "1,5", "0x10", "1_000"]),
    st.text(max_size=5),
)


@st.composite
def csv_text(draw: st.DrawFn) -> bytes:
    delimiter = draw(st.sampled_from([",", "\t", ";", "|", " "]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r", "\r\r\n"]))
    names = draw(st.lists(NAMES, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(names) + 1), max_size=25))
    lines = [delimiter.join(names), *(delimiter.join(r) for r in rows)]
    if draw(st.booleans()) and len(lines) > 2:  # a header repeated mid-file (appended runs)
        lines.insert(draw(st.integers(1, len(lines) - 1)), lines[0])
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    return text.encode(encoding, errors="surrogatepass")


@FUZZ
@given(data=csv_text())
def test_any_csv(data: bytes) -> None:
    with log_file(data, "metrics.csv") as path:
        check_path(path)


# -- any table of numbers, however extreme --------------------------------------------------------
EXTREME = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, -0.0, 0.0, 5e-324, -5e-324, math.pi]),
)


@FUZZ
@given(
    steps=st.lists(
        st.one_of(
            st.integers(min_value=0, max_value=2**63),
            st.sampled_from([10**9, 10**18, 2**53 + 1, 1e308]),
        ),
        min_size=2,
        max_size=40,
    ),
    values=st.lists(EXTREME, min_size=40, max_size=40),
)
def test_extreme_numbers_in_a_plain_csv(steps: list[int | float], values: list[float]) -> None:
    """Steps up to 2^63 and 1e308, values 1e308, -0.0, subnormals, NaN/Inf."""
    rows = [
        f"{s!r},{v!r},{values[-1 - i]!r}"
        for i, (s, v) in enumerate(zip(steps, values, strict=False))
    ]
    data = ("step,loss,val_loss\n" + "\n".join(rows) + "\n").encode()
    with log_file(data, "log.csv") as path:
        check_path(path)
