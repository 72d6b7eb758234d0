"""The bytes route: a big numeric log read without decoding it to text gives the same History as
the text route, and every file it should not take (JSON, quotes, CRLF, repeated headers, text
cells, invalid UTF-8, event files, console logs...) still goes the text route, with the same
result or the same error."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from conftest import assert_same_read, read_or_error

from curvedoc import readers
from curvedoc.model import History

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "real-logs"


def _both_routes(path: Path) -> tuple[list[History] | str, list[History] | str, int]:
    """(bytes route forced on every file, text route only, how often the bytes route read)."""
    from curvedoc.readers import _table

    taken = 0

    parse = _table.parse_numeric_bytes

    def counting(data: bytes, source: str) -> _table.Table | None:
        nonlocal taken
        table = parse(data, source)
        taken += table is not None
        return table

    with (
        mock.patch.object(readers, "_BYTES_ROUTE_MIN", 0),
        mock.patch.object(_table, "_NUMERIC_BLOCK_MIN", 0),
        mock.patch.object(_table, "parse_numeric_bytes", counting),
    ):
        forced = read_or_error(path)
    with mock.patch.object(readers, "_BYTES_ROUTE_MIN", 1 << 62):
        text = read_or_error(path)
    return forced, text, taken


def _check(path: Path) -> int:
    forced, text, taken = _both_routes(path)
    assert_same_read(forced, text)
    return taken


def _logs() -> list[Path]:
    roots = [ROOT / "fixtures", ROOT / "tests" / "data"] + ([REAL] if REAL.is_dir() else [])
    skip = {".py", ".md", ".toml", ".yaml", ".json5"}
    return sorted(p for r in roots for p in r.rglob("*") if p.is_file() and p.suffix not in skip)


@pytest.mark.parametrize("path", _logs(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_every_log_reads_the_same_by_either_route(path: Path) -> None:
    _check(path)


def test_the_bytes_route_does_read_the_plain_tables() -> None:
    """Not vacuous: most delimited logs of real runs go through it when it is forced."""
    tables = [p for p in _logs() if p.suffix in (".csv", ".tsv")]
    assert sum(_check(p) > 0 for p in tables) >= 0.6 * len(tables)


def _body(n: int = 200) -> str:
    return "".join(f"{i},{1.0 / (i + 1)!r},{'' if i % 7 else 0.5}\n" for i in range(n))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("plain.csv", "step,loss,val_loss\n" + _body()),
        ("bom.csv", "\ufeffstep,loss,val_loss\n" + _body()),
        ("crlf.csv", ("step,loss,val_loss\n" + _body()).replace("\n", "\r\n")),
        ("quoted.csv", '"step","loss","val_loss"\n' + _body()),
        ("appended.csv", "step,loss,val_loss\n" + _body(50) + "step,loss,val_loss\n" + _body(30)),
        ("blank_first.csv", "\nstep,loss,val_loss\n" + _body()),
        ("blank_inside.csv", "step,loss,val_loss\n" + _body(50) + "\n" + _body(20)),
        ("word.csv", "step,loss,val_loss\n" + _body(50) + "50,oops,\n" + _body(20)),
        ("ragged.csv", "step,loss,val_loss\n" + _body(50) + "50,1.0,2.0,3.0\n"),
        ("na.csv", "epoch,loss,val_loss\n" + "".join(f"{i},0.{i + 1},NA\n" for i in range(99))),
        ("tsv.tsv", "step\tloss\n" + "".join(f"{i}\t{i / 3!r}\n" for i in range(300))),
        ("spaces.txt", "step loss\n" + "".join(f"{i} {i / 3!r}\n" for i in range(300))),
        ("single_row.csv", "step,loss\n1,0.5\n"),
        ("one_column_blank.csv", "loss\n" + "0.5\n" * 50 + "\n" + "0.4\n" * 20),
        ("one_column_crlf_blank.csv", "loss\r\n" + "0.5\r\n" * 50 + "\r\n" + "0.4\r\n" * 20),
        (
            "unicode_digit.csv",
            "step,loss\n" + "".join(f"{i},{i}.5\n" for i in range(99)) + "99,\u0661\n",
        ),
    ],
)
def test_edge_cases_read_the_same_by_either_route(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    _check(path)


def test_invalid_utf8_names_the_line_either_way(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"step,loss\n1,0.5\n2,\xe90.4\n")
    forced, text, _ = _both_routes(path)
    assert isinstance(text, str)
    assert "not UTF-8" in text
    assert forced == text
