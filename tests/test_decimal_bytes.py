"""The byte-level decimal parser: every value it decides is exactly ``float(cell)``; every cell
it leaves undecided is one ``float`` reads differently, or cannot read, or one beyond its fast,
exact path."""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_block_reads_as_strings
from hypothesis import example, given, settings
from hypothesis import strategies as st

from curvedoc.errors import InputError
from curvedoc.readers import _table
from curvedoc.readers._decimal_bytes import MAX_WIDTH, cell_bounds, parse_cells
from curvedoc.readers._text import read_text


def _parse(cells: list[str], delimiter: str = ",") -> tuple[np.ndarray, np.ndarray]:
    raw = np.frombuffer(delimiter.join(cells).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    starts, ends = cell_bounds(raw, ord(delimiter))
    assert starts.shape[0] == len(cells)
    return parse_cells(raw, starts, ends)


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def _float_or_none(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _check(cells: list[str]) -> np.ndarray:
    values, decided = _parse(cells)
    for cell, value, ok in zip(cells, values.tolist(), decided.tolist(), strict=True):
        if ok:
            want = _float_or_none(cell)
            assert want is not None, f"decided {cell!r}, which float() refuses"
            assert _bits(value) == _bits(want), (cell, value, want)
        else:
            assert math.isnan(value)
    return decided


def test_plain_decimals_are_decided_exactly() -> None:
    cells = ["0", "1", "-2.5", "+7", ".5", "5.", "-0.0", "0.1", "3.37024", "1.5e-08", "1E+05"]
    cells += ["7e22", "-1E-5", "0e0", "123456789012345", "2.60709", "1e22", "9e-22"]
    # beyond Clinger's single division: 17 digits, or 10^-23 .. 10^-44
    cells += ["0.22003084421157837", "1.5015015009112176e-08", "1e-30", "-0e-40", "3e-44"]
    # padded as old Ultralytics results.csv and hand-aligned logs write them
    cells += [" 1", "1 ", "   -2.5e-3   ", "                      0.08", " +7"]
    assert _check(cells).all()


@pytest.mark.parametrize(
    "cell",
    [
        "",  # blank: the caller decides
        "nan",
        "inf",
        "-Infinity",
        " ",  # only padding: the caller tells it is blank
        "1 2",
        "- 1",
        "1e 5",
        "\t1",  # a tab: float() strips it too, but the fast path reads spaces only
        "NA",
        "2.2250738585072014e-308",  # beyond both exact paths
        "9007199254740993",  # mantissa beyond 2^53
        "1234567890123456789",  # 19 digits
        "1.2.3",
        "e5",
        "1e",
        "1e+",
        "--1",
        "1-2",
        "-",
        "+.",
        ".",
        "1e5.0",
        "5e+-3",
        "5e3e3",
        "-e5",
        "1_000",
        "0x10",
        "1" * (MAX_WIDTH + 1),
        "\u0661",  # an Arabic-Indic digit: float() reads it, bytes are not ASCII digits
    ],
)
def test_everything_else_is_left_to_float(cell: str) -> None:
    assert not _check(["1.5", cell, "2"])[1]


_finite = st.floats(allow_nan=False, allow_infinity=False)
_formats = st.sampled_from(["{!r}", "{:.6g}", "{:.5e}", "{:.3f}", "{:.17g}", "{:E}", "{:+.4g}"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_finite, _formats), min_size=1, max_size=40))
def test_formatted_floats_match_float(items: list[tuple[float, str]]) -> None:
    _check([fmt.format(x) for x, fmt in items])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet="0123456789.eE+-nai ", max_size=12), min_size=1, max_size=30))
@example(["1e5", "", "-.", "00012", "0.000"])
def test_any_short_text_is_decided_only_when_float_agrees(cells: list[str]) -> None:
    _check([c.replace(",", "") for c in cells])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-(10**20), max_value=10**20), min_size=1, max_size=30))
def test_integers(values: list[int]) -> None:
    decided = _check([str(v) for v in values])
    for v, ok in zip(values, decided.tolist(), strict=True):
        assert ok == (abs(v) <= 2**53)


def test_a_million_row_chunk_agrees_with_the_string_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The table reader's numeric block equals what the string route reads, cell for cell,
    on a log with every spelling the fast path leaves to ``float`` mixed in."""
    rng = np.random.default_rng(3)
    n = 20_000
    loss = rng.lognormal(0, 1, n).tolist()
    spellings = ["nan", " 1.5", "NA", "1e-30", "inf", "9007199254740993", ""]
    rows = []
    for i in range(n):
        odd = spellings[i % len(spellings)] if i % 97 == 0 else f"{loss[i]:.6g}"
        rows.append(f"{i},{loss[i]!r},{odd},{loss[i] * 1e-5:.3e}")
    text = "step,loss,val_loss,lr\n" + "\n".join(rows) + "\n"
    monkeypatch.setattr(_table, "_CHUNK_CHARS", 4099)
    table = _table.parse_delimited(text, "mixed.csv")
    assert table.numeric is not None
    assert table.missing is not None
    assert_block_reads_as_strings(
        table.numeric, table.missing, [[r.split(",")[j] for r in rows] for j in range(4)]
    )


def test_text_or_ragged_rows_leave_the_block_to_the_string_route() -> None:
    rows = [f"{i},{i * 0.5}" for i in range(20_000)]
    text = "step,loss\n" + "\n".join(rows) + "\n"
    assert _table.parse_delimited(text, "ok.csv").numeric is not None
    word = rows.copy()
    word[15_000] = "15000,oops"
    assert _table.parse_delimited("step,loss\n" + "\n".join(word), "w.csv").numeric is None
    ragged = rows.copy()
    ragged[12_345] = "12345,1.0,2.0"
    with pytest.raises(Exception, match="12347"):
        _table.parse_delimited("step,loss\n" + "\n".join(ragged), "r.csv")
    # one field short in one row and one too many in the next: same cell count, still ragged
    shifted = rows.copy()
    shifted[100] = "100"
    shifted[101] = "101,1.0,"  # a trailing empty field
    assert _table.parse_delimited("step,loss\n" + "\n".join(shifted), "s.csv").numeric is None


_cell = st.one_of(
    st.sampled_from(["", "1", "-2.5", "nan", "NA", " 3", "1e-30", "x", "1e5", "0.1", "inf", "7,"]),
    st.text(alphabet="0123456789.eE+- na", max_size=7),
    _finite.map(repr),
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=40),
    st.integers(min_value=1, max_value=120),
)
def test_the_numeric_block_reads_any_table_as_the_string_route_does(
    rows: list[list[str]], chunk: int
) -> None:
    """Whatever the cells (text, padding, ragged rows from a stray comma), the fast block
    either declines (None: the string route reads the file) or holds exactly the values and
    blanks the string route would parse."""
    from unittest import mock

    text = "a,b,c\n" + "\n".join(",".join(r) for r in rows) + "\n"
    with (
        mock.patch.object(_table, "_NUMERIC_BLOCK_MIN", 0),
        mock.patch.object(_table, "_CHUNK_CHARS", chunk),
    ):
        block = _table._numeric_rows(text, 6, len(text) - 1, ",", 3)
    if block is None:
        return
    values, missing = block
    lines = text[6:-1].split("\n")
    assert_block_reads_as_strings(
        values, missing, [[line.split(",")[j] for line in lines] for j in range(3)]
    )


_ROOT = Path(__file__).resolve().parents[1]
_REAL = _ROOT.parent / "shared" / "real-logs"
_TABLES = (".csv", ".tsv", ".log", ".txt")


def _real_tables() -> list[Path]:
    roots = [_ROOT / "fixtures"] + ([_REAL] if _REAL.is_dir() else [])
    return sorted(p for r in roots for p in r.rglob("*") if p.suffix in _TABLES and p.is_file())


def test_real_logs_are_present_or_skipped_with_a_reason() -> None:
    if not _REAL.is_dir():
        pytest.skip(f"{_REAL} is absent: only the fixtures' tables are compared")
    tables = _real_tables()
    assert any(p.is_relative_to(_REAL) for p in tables)
    # the comparison below is not vacuous: most real tables do go through the numeric block
    from unittest import mock

    through = 0
    with mock.patch.object(_table, "_NUMERIC_BLOCK_MIN", 0):
        for path in tables:
            try:
                table = _table.parse_delimited(read_text(path, str(path)), str(path))
            except InputError:
                continue
            through += table.numeric is not None
    assert through >= 0.8 * len(tables)


@pytest.mark.parametrize("path", _real_tables(), ids=lambda p: p.name)
def test_real_tables_read_the_same_through_the_numeric_block(path: Path) -> None:
    """Every delimited log of real runs (fixtures and ../shared/real-logs), forced through the
    numeric block whatever its size, holds exactly what the string route parses."""
    from unittest import mock

    text = read_text(path, str(path))
    with mock.patch.object(_table, "_numeric_rows", return_value=None):
        try:
            slow = _table.parse_delimited(text, str(path))
        except InputError as exc:
            with pytest.raises(InputError, match=re.escape(exc.message)):
                _table.parse_delimited(text, str(path))
            return
    with mock.patch.object(_table, "_NUMERIC_BLOCK_MIN", 0):
        fast = _table.parse_delimited(text, str(path))
    if fast.numeric is None:
        return
    assert fast.missing is not None
    assert_block_reads_as_strings(fast.numeric, fast.missing, slow.columns)


def test_undecided_cells_are_read_by_float_in_c_or_left_to_the_string_route() -> None:
    """17 significant digits (half of all float32 values logged as Python floats) are beyond
    the exact fast path; ``float_cells`` reads them with ``float`` on bytes, exactly, and
    declines whatever ``float`` would read differently from text."""
    from curvedoc.readers._decimal_bytes import float_cells

    def run(cells: list[str]) -> np.ndarray | None:
        raw = np.frombuffer(",".join(cells).encode("utf-8", "surrogatepass"), dtype=np.uint8)
        starts, ends = cell_bounds(raw, ord(","))
        return float_cells(raw, starts, ends)

    cells = ["0.22003084421157837", "2.0636961460113525", "nan", "-inf", "1e-30", " 3 "]
    got = run(cells)
    assert got is not None
    assert [_bits(v) for v in got.tolist()] == [_bits(float(c)) for c in cells]
    assert run(["1.5", "NA"]) is None  # text: the string route says which cell
    assert run(["1.5", "\u0661"]) is None  # float() reads an Arabic-Indic 1 in text only
    assert run(["1.5", "1\x00"]) is None  # NUL: numpy's bytes would drop it
    assert run(["1." + "5" * 80]) is None  # too wide to gather


def test_float32_values_logged_as_python_floats_are_decided_exactly() -> None:
    """What Lightning and Keras write (a float32 as a Python float's repr, 17 digits half the
    time) is decided by the byte parser almost always, and bit for bit as ``float()``."""
    rng = np.random.default_rng(11)
    scales = 10.0 ** rng.uniform(-12, 4, 200_000)
    values = (rng.standard_normal(200_000) * scales).astype(np.float32).astype(np.float64)
    cells = [repr(v) for v in values.tolist()]
    decided = _check(cells)
    assert decided.mean() > 0.99


def test_long_mantissas_and_near_midpoints_are_exact_or_undecided() -> None:
    """The residual check against a rounding boundary: random 15–18 digit mantissas over
    10^-44 .. 1, and decimals within a hundredth of an ulp of the midpoint between two
    doubles, the hardest to round. Every decided value is ``float()``'s, bit for bit."""
    from decimal import Decimal, localcontext

    rng = np.random.default_rng(5)
    cells = []
    for _ in range(40_000):
        nd = int(rng.integers(15, 19))
        m = int(rng.integers(10 ** (nd - 1), 10**nd))
        cells.append(f"{m}e{int(rng.integers(-44, 1))}")
    with localcontext() as ctx:
        ctx.prec = 60
        for d in rng.uniform(1e-10, 1e5, 20_000).tolist():
            mid = (Decimal(d) + Decimal(float(np.nextafter(d, np.inf)))) / 2
            cells.append(f"{mid:.17e}")
    decided = _check(cells)
    assert decided.mean() > 0.95


@pytest.mark.parametrize("ncols", [1, 2, 3])
@pytest.mark.parametrize("chunk", [5, 17, 64, 1 << 20])
def test_a_blank_line_anywhere_leaves_the_block_to_the_string_route(ncols: int, chunk: int) -> None:
    """The string route skips blank lines and keeps line numbers: the block must decline any
    text with one, wherever it falls against the chunk boundaries."""
    from unittest import mock

    rows = [",".join(f"{i + j / 10}" for j in range(ncols)) for i in range(60)]
    for at in (1, 7, 30, 59):
        text = "\n".join([*rows[:at], "", *rows[at:]])
        with (
            mock.patch.object(_table, "_NUMERIC_BLOCK_MIN", 0),
            mock.patch.object(_table, "_CHUNK_CHARS", chunk),
        ):
            assert _table._numeric_rows(text, 0, len(text), ",", ncols) is None, at
