"""The streamed JSON readers: a big HF ``trainer_state.json`` or JSON Lines log read a piece at a
time gives the same History as the usual route (``json.load`` or a ``json.loads`` per line, and
the readers behind them), or steps aside so that the usual route gives its History or its error.
Both routes are forced on every log of real runs, fixture and test file (and on the real logs
rewritten as JSON Lines), with pieces small enough that values, keys, lines and UTF-8 characters
are cut at every kind of place."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from conftest import assert_same_read, read_or_error, run_measured
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_readers import JSON_VALUES

from curvedoc import readers
from curvedoc.model import History
from curvedoc.readers import _streaming, hf_stream, jsonl_stream

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "real-logs"
Read = list[History] | str  # the runs, or the error's message


def _both_routes(path: Path, chunk: int = 97) -> tuple[Read, Read, Counter[str]]:
    """(streamed when it can, with pieces of ``chunk`` bytes; usual route only; which streamed
    reader read it, counted)."""
    taken: Counter[str] = Counter()
    hf_read, jsonl_read = hf_stream.read_trainer_state_file, jsonl_stream.read_jsonl_file

    def counting_hf(*args: Any, **kwargs: Any) -> History | None:
        got = hf_read(*args, **kwargs)
        taken["hf"] += got is not None
        return got

    def counting_jsonl(*args: Any, **kwargs: Any) -> History | None:
        got = jsonl_read(*args, **kwargs)
        taken["jsonl"] += got is not None
        return got

    with (
        mock.patch.object(readers, "_STREAM_MIN", 0),
        mock.patch.object(_streaming, "CHUNK", chunk),
        mock.patch.object(hf_stream, "read_trainer_state_file", counting_hf),
        mock.patch.object(jsonl_stream, "read_jsonl_file", counting_jsonl),
    ):
        streamed = read_or_error(path)
    with mock.patch.object(readers, "_STREAM_MIN", 1 << 62):
        usual = read_or_error(path)
    return streamed, usual, taken


def _check(path: Path, chunk: int = 97, reader: str = "hf") -> int:
    """Both routes read ``path`` alike; how often ``reader`` streamed it (0 or 1)."""
    streamed, usual, taken = _both_routes(path, chunk)
    assert_same_read(streamed, usual)
    return taken[reader]


def _logs(pattern: str) -> list[Path]:
    roots = [ROOT / "fixtures", ROOT / "tests" / "data"] + ([REAL] if REAL.is_dir() else [])
    return sorted(p for r in roots for p in r.rglob(pattern) if p.is_file())


def _json_logs() -> list[Path]:
    return _logs("*.json")


@pytest.mark.parametrize("path", _json_logs(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_every_json_log_reads_the_same_by_either_route(path: Path) -> None:
    _check(path)


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 4096, 1 << 20])
def test_every_trainer_state_is_streamed_whatever_the_piece_size(chunk: int) -> None:
    """Not vacuous: every trainer_state.json of real runs does go the streamed way."""
    states = [p for p in _json_logs() if '"log_history"' in p.read_text(encoding="utf-8")]
    assert len(states) >= 20
    for path in states:
        assert _check(path, chunk) == 1, path


def test_real_hf_logs_are_streamed() -> None:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} (real logs of public projects) is absent on this machine")
    states = sorted((REAL / "hf_trainer_state").glob("*.json"))
    assert states
    assert all(_check(p) == 1 for p in states)


def _state(log: list[Any], **top: Any) -> dict[str, Any]:
    return {"best_metric": None, "global_step": 30, **top, "log_history": log, "max_steps": 30}


def _train(step: int, loss: float = 0.5, **more: Any) -> dict[str, Any]:
    return {
        "epoch": step / 10,
        "grad_norm": 1.5,
        "learning_rate": 1e-4,
        "loss": loss,
        "step": step,
        **more,
    }


_TRAIN = [_train(s, 1 / s) for s in range(1, 31)]
_SUMMARY = {
    "epoch": 3.0,
    "step": 30,
    "total_flos": 10**30,
    "train_loss": 0.7,
    "train_runtime": 12.5,
    "train_samples_per_second": "n/a",
}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("plain", json.dumps(_state(_TRAIN), indent=2, sort_keys=True)),
        ("compact", json.dumps(_state(_TRAIN), separators=(",", ":"))),
        ("summary", json.dumps(_state([*_TRAIN, _SUMMARY]), indent=2)),
        ("summary_inside", json.dumps(_state([*_TRAIN[:9], _SUMMARY, *_TRAIN[9:]]))),
        (
            "evals",
            json.dumps(
                _state(
                    [
                        *_TRAIN[:10],
                        {"eval_loss": 0.4, "epoch": 1.0, "step": 10, "eval_runtime": 1.0},
                        *_TRAIN[10:],
                    ]
                )
            ),
        ),
        # the Trainer's NaN filter: 0.0 losses with a non-finite norm become NaN
        (
            "nan_filter",
            json.dumps(
                _state([*_TRAIN[:20], *(_train(s, 0.0, grad_norm=math.nan) for s in range(21, 31))])
            ),
        ),
        ("no_step", json.dumps(_state([*_TRAIN, {"loss": 0.1, "epoch": 3.0}]))),
        (
            "no_epoch",
            json.dumps(_state([{k: v for k, v in e.items() if k != "epoch"} for e in _TRAIN])),
        ),
        (
            "shapes_interleaved",
            json.dumps(
                _state(
                    [
                        {"step": 1, "loss": 1.0},
                        {"lr": 0.1, "step": 2},
                        {"step": 3, "lr": 0.2, "loss": 0.5},
                        {"acc": 0.1, "step": 4, "loss": 0.4},
                    ]
                    * 5
                )
            ),
        ),
        (
            "brackets_in_keys",
            json.dumps(
                _state(
                    [_train(s, acc_top1_0=0.5) | {"m[0]}": 1.0, "x}{y": 2.0} for s in range(1, 20)]
                )
            ),
        ),
        (
            "unicode_keys",
            json.dumps(
                _state([_train(s) | {"précision_δ": 0.5, "损失": 1 / s} for s in range(1, 20)]),
                ensure_ascii=False,
            ),
        ),
        (
            "ints_and_big_ints",
            json.dumps(_state([_train(s) | {"tokens": 2**60 + s} for s in range(1, 20)])),
        ),
        (
            "infinity",
            json.dumps(_state([_train(s, math.inf if s == 5 else 1 / s) for s in range(1, 20)])),
        ),
        ("null_value", json.dumps(_state([*_TRAIN, _train(31, None)]))),  # type: ignore[arg-type]
        ("text_value", json.dumps(_state([*_TRAIN, _train(31, "oops")]))),  # type: ignore[arg-type]
        ("bool_value", json.dumps(_state([*_TRAIN, _train(31, True)]))),
        ("nested_value", json.dumps(_state([*_TRAIN, _train(31, {"a": [1, 2]})]))),  # type: ignore[arg-type]
        ("huge_int", json.dumps(_state([*_TRAIN, _train(31, 10**400)]))),
        ("not_a_record", json.dumps(_state([*_TRAIN, 5]))),
        ("empty_log", json.dumps(_state([]))),
        ("only_summary", json.dumps(_state([_SUMMARY]))),
        ("log_not_a_list", json.dumps({"log_history": {"a": 1}})),
        ("twice", json.dumps(_state(_TRAIN))[:-1] + ', "log_history": []}'),
        (
            "twice_valid",
            json.dumps(_state(_TRAIN))[:-1] + ', "log_history": ' + json.dumps(_TRAIN[:5]) + "}",
        ),
        ("no_log_history", json.dumps({"loss": [0.5, 0.4, 0.3], "val_loss": [0.6, 0.5, 0.5]})),
        ("list_of_records", json.dumps(_TRAIN)),
        ("bom", "\ufeff" + json.dumps(_state(_TRAIN))),
        ("truncated", json.dumps(_state(_TRAIN), indent=2)[:-40]),
        ("trailing_data", json.dumps(_state(_TRAIN)) + "\n{}"),
        ("trailing_blank", json.dumps(_state(_TRAIN)) + "\n\n  \n"),
        ("missing_comma", json.dumps(_state(_TRAIN)).replace("}, {", "} {", 1)),
        ("trailing_comma", json.dumps(_state(_TRAIN)).replace("}]", "},]", 1)),
        ("nan_tokens", json.dumps(_state([_train(s, math.nan) for s in range(1, 9)]))),
        (
            "deep",
            '{"a": ' + "[" * 5000 + "]" * 5000 + ', "log_history": ' + json.dumps(_TRAIN) + "}",
        ),
    ],
)
def test_edge_cases_read_the_same_by_either_route(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_text(text, encoding="utf-8")
    before = path.read_bytes()
    for chunk in (1, 3, 50, 1 << 16):
        _check(path, chunk)
    assert path.read_bytes() == before  # never modified


def test_what_it_cannot_read_goes_the_usual_way(tmp_path: Path) -> None:
    """The tests above would pass with a reader that never streams: these must stream, and
    these must not."""
    cases = {
        "plain": (json.dumps(_state(_TRAIN)), 1),
        "summary": (json.dumps(_state([*_TRAIN, _SUMMARY])), 1),
        "nan_filter": (json.dumps(_state([_train(s, 0.0, grad_norm=math.inf) for s in (1, 2)])), 1),
        "null_value": (json.dumps(_state([*_TRAIN, _train(31, None)])), 0),  # type: ignore[arg-type]
        "bom": ("\ufeff" + json.dumps(_state(_TRAIN)), 0),
        "no_log_history": (json.dumps({"loss": [0.5, 0.4]}), 0),
        "truncated": (json.dumps(_state(_TRAIN))[:-5], 0),
    }
    for name, (text, want) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        assert _check(path) == want, name


def test_a_unicode_character_cut_between_pieces(tmp_path: Path) -> None:
    text = json.dumps(_state([_train(s) | {"é€𝄞": 0.5} for s in range(1, 9)]), ensure_ascii=False)
    path = tmp_path / "trainer_state.json"
    path.write_text(text, encoding="utf-8")
    for chunk in range(1, 12):
        assert _check(path, chunk) == 1


def test_invalid_utf8_gives_the_usual_error(tmp_path: Path) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_bytes(json.dumps(_state(_TRAIN)).encode().replace(b'"loss"', b'"l\xe9ss"', 3))
    streamed, usual, taken = _both_routes(path)
    assert not any(taken.values())
    assert isinstance(usual, str)
    assert "not UTF-8" in usual
    assert streamed == usual


def test_a_file_that_vanishes_gives_the_usual_error(tmp_path: Path) -> None:
    path = tmp_path / "gone.json"
    assert hf_stream.read_trainer_state_file(path, source=str(path)) is None
    streamed, usual, _ = _both_routes(path)
    assert isinstance(usual, str)
    assert "no such file" in usual
    assert streamed == usual


_NUMBER = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
)
_VALUE = st.one_of(_NUMBER, _NUMBER, _NUMBER, st.none(), st.booleans(), st.text(max_size=3))
_KEY = st.sampled_from(
    [
        "step",
        "loss",
        "grad_norm",
        "epoch",
        "eval_loss",
        "learning_rate",
        "train_runtime",
        "train_loss",
        "eval_runtime",
        "acc}",
        "é",
    ]
)
_ENTRY = st.dictionaries(_KEY, st.one_of(_NUMBER, _NUMBER, _NUMBER, _NUMBER, _VALUE), max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=st.lists(_ENTRY, min_size=0, max_size=25),
    top=st.dictionaries(st.sampled_from(["max_steps", "epoch", "x"]), _VALUE, max_size=3),
    indent=st.sampled_from([None, 0, 2]),
    chunk=st.integers(min_value=1, max_value=200),
)
def test_any_log_history_reads_the_same_by_either_route(
    tmp_path_factory: pytest.TempPathFactory,
    log: list[dict[str, Any]],
    top: dict[str, Any],
    indent: int | None,
    chunk: int,
) -> None:
    path = tmp_path_factory.mktemp("hf") / "trainer_state.json"
    path.write_text(json.dumps({**top, "log_history": log}, indent=indent), encoding="utf-8")
    _check(path, chunk)


def test_a_big_trainer_state_takes_less_memory_streamed(tmp_path: Path) -> None:
    """Streamed, a 100,000-entry log is read in less memory than ``json.load`` alone takes for
    the same file (each measured in a process of its own, in this run)."""
    log = [
        {
            "epoch": i / 2e4,
            "grad_norm": 1 + (i % 7) / 10,
            "learning_rate": 1e-4 * (1 - i / 1e5),
            "loss": 2.0 / (1 + i / 1e4) + (i % 5) / 100,
            "step": 10 * i,
        }
        for i in range(1, 100_001)
    ]
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps(_state(log), indent=2), encoding="utf-8")
    assert path.stat().st_size >= readers._STREAM_MIN  # the CLI streams it
    _assert_leaner_than(tmp_path, path, "json.load(open(PATH))", "hf-trainer-state")


@st.composite
def _mutated_state(draw: st.DrawFn) -> bytes:
    """A real-looking trainer_state.json with a few bytes inserted, deleted or replaced."""
    log = [_train(s, 1 / s) for s in range(1, draw(st.integers(1, 12)))]
    if draw(st.booleans()):
        log.append(_SUMMARY)
    data = bytearray(json.dumps(_state(log), indent=draw(st.sampled_from([None, 2]))).encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        piece = draw(st.sampled_from([b"", b",", b"}", b"]", b"{", b'"', b"\\", b"1e", b"\xe9"]))
        cut = draw(st.integers(0, 3))
        data[at : at + cut] = piece
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_mutated_state(), chunk=st.integers(min_value=1, max_value=64))
def test_any_damaged_trainer_state_reads_the_same_by_either_route(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, chunk: int
) -> None:
    path = tmp_path_factory.mktemp("hf") / "trainer_state.json"
    path.write_bytes(data)
    _check(path, chunk)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON_VALUES, chunk=st.integers(min_value=1, max_value=64))
def test_any_json_value_as_log_history_reads_the_same_by_either_route(
    tmp_path_factory: pytest.TempPathFactory, value: object, chunk: int
) -> None:
    path = tmp_path_factory.mktemp("hf") / "trainer_state.json"
    path.write_text(json.dumps({"epoch": 1.0, "log_history": value}), encoding="utf-8")
    _check(path, chunk)


# -- JSON Lines ---------------------------------------------------------------------------------


def _as_jsonl(path: Path) -> str | None:
    """A log of a real run rewritten as JSON Lines: a CSV's rows, or an HF log_history's
    entries, one object per line (as custom loggers write them)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        try:
            value = json.loads(text)
        except ValueError:
            return None
        log = value.get("log_history") if isinstance(value, dict) else None
        if not isinstance(log, list) or len(log) < 2:
            return None
        return "".join(json.dumps(entry) + "\n" for entry in log)
    if path.suffix != ".csv":
        return None
    rows = list(csv.DictReader(io.StringIO(text)))
    if len(rows) < 2:
        return None
    out = []
    for row in rows:
        record: dict[str, Any] = {}
        for key, cell in row.items():
            if key is None or cell in (None, ""):
                continue
            try:
                record[key] = int(cell)
            except ValueError:
                try:
                    record[key] = float(cell)
                except ValueError:
                    record[key] = cell
        out.append(json.dumps(record) + "\n")
    return "".join(out)


def _real_jsonl(tmp_path: Path) -> list[Path]:
    out = []
    for path in _logs("*.json") + _logs("*.csv"):
        text = _as_jsonl(path)
        if text is not None:
            target = tmp_path / (path.stem + "-" + path.suffix[1:] + ".jsonl")
            target.write_text(text, encoding="utf-8")
            out.append(target)
    return out


def test_real_logs_as_json_lines_read_the_same_by_either_route(tmp_path: Path) -> None:
    """Not vacuous: most of them (those of plain numbers) do go the streamed way."""
    paths = _real_jsonl(tmp_path)
    assert len(paths) >= 40
    streamed = sum(_check(p, 211, reader="jsonl") for p in paths)
    assert streamed >= 0.6 * len(paths)


@pytest.mark.parametrize("chunk", [1, 5, 64])
def test_json_lines_cut_into_small_pieces(tmp_path: Path, chunk: int) -> None:
    paths = _real_jsonl(tmp_path)[:12]
    assert sum(_check(p, chunk, reader="jsonl") for p in paths) >= 6


_LINES = "".join(json.dumps({"step": s, "loss": 1 / s, "lr": 0.1}) + "\n" for s in range(1, 40))


@pytest.mark.parametrize(
    ("name", "text", "streams"),
    [
        ("plain", _LINES, True),
        ("crlf", _LINES.replace("\n", "\r\n"), True),
        ("no_final_newline", _LINES.rstrip("\n"), True),
        ("blank_lines", "\n\n" + _LINES.replace("\n", "\n \n", 5) + "\n\n", True),
        ("broken_last", _LINES + '{"step": 40, "lo', True),
        ("broken_last_then_blank", _LINES + '{"step": 40, "lo\n\n  \n', True),
        ("broken_inside", _LINES + '{"step": 40, "lo\n' + _LINES, False),
        ("broken_first", '{"step": 0, \n' + _LINES, False),
        ("two_lines_second_broken", '{"step": 1, "loss": 1.0}\n{"step": 2', False),
        ("one_line", '{"step": 1, "loss": 1.0}\n', False),
        ("second_not_an_object", '{"step": 1, "loss": 1.0}\n[1, 2]\n' + _LINES, False),
        ("a_list_line", _LINES + "[1, 2]\n" + _LINES, False),
        ("null_loss", _LINES + '{"step": 40, "loss": null}\n', False),
        ("text_loss", _LINES + '{"step": 40, "loss": "n/a"}\n', False),
        ("text_bookkeeping", _LINES.replace('"lr": 0.1', '"lr": 0.1, "time": "12:00"'), True),
        (
            "nan_and_inf",
            _LINES + '{"step": 40, "loss": NaN}\n{"step": 41, "loss": Infinity}\n',
            True,
        ),
        ("no_x_key", "".join(json.dumps({"loss": 1 / s}) + "\n" for s in range(1, 30)), True),
        (
            "epoch_x",
            "".join(json.dumps({"Epoch": s, "loss": 1 / s}) + "\n" for s in range(1, 9)),
            True,
        ),
        ("x_missing_here", _LINES + '{"loss": 0.01}\n', True),
        (
            "shapes_interleaved",
            "".join(
                json.dumps({"step": s, "loss": 1 / s} if s % 3 else {"val_loss": 2 / s, "step": s})
                + "\n"
                for s in range(1, 40)
            ),
            True,
        ),
        (
            "hf_shaped_with_summary",
            "".join(
                json.dumps({"loss": 1 / s, "learning_rate": 0.1, "epoch": s / 10, "step": s}) + "\n"
                for s in range(1, 20)
            )
            + json.dumps({"train_runtime": 1.0, "train_loss": 0.5, "step": 19, "epoch": 1.9})
            + "\n",
            True,
        ),
        ("bom", "\ufeff" + _LINES, False),
        ("big_int", _LINES + '{"step": 40, "loss": 1' + "0" * 400 + "}\n", False),
        ("unicode", _LINES.replace('"lr"', '"学习率"'), True),
        ("a_json_object", json.dumps({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}), False),
    ],
)
def test_json_lines_edge_cases(tmp_path: Path, name: str, text: str, streams: bool) -> None:
    path = tmp_path / f"{name}.jsonl"
    path.write_text(text, encoding="utf-8", newline="")
    for chunk in (1, 7, 1 << 16):
        assert _check(path, chunk, reader="jsonl") == int(streams), (name, chunk)


_LINE_VALUE = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.text(max_size=3),
)
_LINE_KEY = st.sampled_from(["step", "loss", "val_loss", "epoch", "Step", "iter", "time", "é}"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(st.dictionaries(_LINE_KEY, _LINE_VALUE, max_size=5), min_size=0, max_size=25),
    tail=st.sampled_from(["", "\n", "\n\n", '{"step": 9', "\r\n", "{}"]),
    chunk=st.integers(min_value=1, max_value=100),
)
def test_any_json_lines_read_the_same_by_either_route(
    tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, Any]], tail: str, chunk: int
) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "log.jsonl"
    path.write_text("\n".join(map(json.dumps, records)) + tail, encoding="utf-8")
    _check(path, chunk, reader="jsonl")


def test_a_big_json_lines_log_takes_a_fraction_of_the_memory(tmp_path: Path) -> None:
    """Streamed, 200,000 records are diagnosed in less memory than ``json.loads`` of each line
    alone takes (each measured in a process of its own, in this run)."""
    path = tmp_path / "metrics.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(1, 200_001):
            fh.write(json.dumps({"step": i, "loss": 2 / (1 + i / 1e4) + (i % 7) / 100,
                                 "lr": 1e-4, "grad_norm": 1 + (i % 5) / 10}) + "\n")  # fmt: skip
    assert path.stat().st_size >= readers._STREAM_MIN
    _assert_leaner_than(tmp_path, path, "[json.loads(line) for line in open(PATH)]", "jsonl")


def _assert_leaner_than(tmp_path: Path, path: Path, parse: str, fmt: str) -> None:
    """``curvedoc diagnose`` of ``path`` (read as ``fmt``) peaks lower than ``parse`` alone
    (Python code where ``PATH`` is the file), each in a process of its own."""
    env = {"PATH": "", "PYTHONPATH": str(ROOT)}
    code = "import json; " + parse.replace("PATH", repr(str(path)))
    load = run_measured(
        [sys.executable, "-c", code],
        stdout=tmp_path / "o1",
        stderr=tmp_path / "e1",
        deadline=120,
        env=env,
    )
    diagnose = run_measured(
        [sys.executable, "-m", "curvedoc", "diagnose", "--format", "json", str(path)],
        stdout=tmp_path / "o2",
        stderr=tmp_path / "e2",
        deadline=120,
        env=env,
    )
    assert load.returncode == 0, (tmp_path / "e1").read_text()
    assert diagnose.returncode in (0, 1), (tmp_path / "e2").read_text()
    assert json.loads((tmp_path / "o2").read_text())["format"] == fmt
    # the whole diagnosis, numpy and all, against the parse alone
    assert diagnose.peak_mb < load.peak_mb, (diagnose.peak_mb, load.peak_mb)


def test_a_nul_byte_past_the_first_piece_is_binary_either_way(tmp_path: Path) -> None:
    """Found by atheris: the usual reader sniffs the first 8 KB for NUL bytes, whatever the
    size of the streamed readers' pieces."""
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"step": 1, "loss": 1.0}\n{"step": 2, "loss": NaN}\n{\x00\x00"step": 3}\n')
    streamed, usual, taken = _both_routes(path, chunk=29)
    assert not any(taken.values())
    assert isinstance(usual, str)
    assert "binary data" in usual
    assert streamed == usual


def test_a_big_json_that_is_no_trainer_state_is_given_up_early(tmp_path: Path) -> None:
    """A Keras history of 6 MB starts like a trainer_state.json (an object): its first field, a
    long list, is not read to its end to find out that it is not one."""
    path = tmp_path / "history.json"
    n = 300_000
    path.write_text(json.dumps({"loss": [1 / (i + 1) for i in range(n)], "val_loss": [0.5] * n}))
    read = 0
    real_open = open

    class Counting(io.BufferedReader):
        def read(self, size: int | None = -1) -> bytes:
            nonlocal read
            data = super().read(size)
            read += len(data)
            return data

    def counting_open(file: Path, mode: str) -> io.BufferedReader:
        return Counting(real_open(file, mode, buffering=0))  # type: ignore[arg-type]

    with mock.patch.object(_streaming, "open", counting_open, create=True):
        assert hf_stream.read_trainer_state_file(path, source=str(path)) is None
    assert 0 < read < 1024 * 1024 < path.stat().st_size
    _check(path, 1 << 16)  # and the usual route reads it, as before
