"""Bad input: always an InputError, one line, naming the file (and the line/field if any)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from curvedoc.errors import InputError
from curvedoc.model import History
from curvedoc.readers import from_object, read_path


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def read_error(p: Path | str) -> InputError:
    with pytest.raises(InputError) as info:
        read_path(p)
    err = info.value
    text = str(err)
    assert "\n" not in text
    assert text.startswith(str(p))
    return err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"  \n\n\t\n", "empty file"),
        (b"\x00\x01\x02\x03garbage\xff\xfe\x00", "binary data"),
        (b"\x1f\x8b\x08\x00rest", "gzip"),
        (b":W&B\xe1\xbe\x00", "Weights & Biases"),
        (b"\x80\x04\x95\x00\x00", "pickle"),
        (b"PK\x03\x04zip", "zip"),
    ],
)
def test_empty_and_binary(tmp_path: Path, data: bytes, message: str) -> None:
    err = read_error(write(tmp_path, "log.csv", data))
    assert message in err.message


def test_tensorboard_event_file_gets_a_helpful_message(tmp_path: Path) -> None:
    p = write(tmp_path, "events.out.tfevents.1700000000.host", b"\x18\x00\x00\x00\x00\x00\x00\x00")
    assert "TensorBoard event file" in read_error(p).message


def test_non_utf8_text_names_the_line(tmp_path: Path) -> None:
    err = read_error(write(tmp_path, "log.csv", b"epoch,loss\n0,1.0\n1,0.5 \xe9t\xe9\n"))
    assert "not UTF-8" in err.message
    assert err.line == 3


def test_truncated_json_names_the_line(tmp_path: Path) -> None:
    text = '{\n  "loss": [1.0, 0.5,\n    0.4,\n'
    err = read_error(write(tmp_path, "h.json", text))
    assert "invalid JSON" in err.message
    assert err.line == 4


def test_deeply_nested_json(tmp_path: Path) -> None:
    err = read_error(write(tmp_path, "h.json", "[" * 100_000 + "]" * 100_000))
    assert "nested too deeply" in err.message


def test_deeply_nested_value_inside_records(tmp_path: Path) -> None:
    deep = "[" * 900 + "1" + "]" * 900
    text = '[{"step": 1, "loss": 1.0, "x": ' + deep + '}, {"step": 2, "loss": 0.5, "x": 3}]'
    # the nested value is a non-numeric column: dropped, and never repr()'d into a message
    h = read_path(write(tmp_path, "r.json", text))
    assert h.get("loss") is not None
    assert any("not numeric, dropped: x" in n for n in h.notes)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("42", "a lone JSON value"),
        ('"loss"', "a lone JSON value"),
        ("null", "a lone JSON value"),
        ('{"loss": "low", "lr": "high"}', "an object with keys"),
        ("[1, 2, 3]", "not a list of records"),
        ("{}", "empty JSON object"),
        ("[]", "not a list of records"),
    ],
)
def test_unknown_json_layout(tmp_path: Path, text: str, what: str) -> None:
    assert what in read_error(write(tmp_path, "h.json", text)).message


def test_ragged_row_with_more_fields(tmp_path: Path) -> None:
    err = read_error(write(tmp_path, "log.csv", "epoch,loss\n0,1.0\n1,0.5,0.3\n2,0.4\n"))
    assert err.line == 3
    assert "3 fields but the header has 2" in err.message


def test_trailing_delimiter_is_not_ragged(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "log.csv", "epoch,loss\n0,1.0,\n1,0.5,\n"))
    assert h.get("loss") is not None


def test_text_in_numeric_cell_names_line_and_column(tmp_path: Path) -> None:
    text = "epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n2,oops,0.8\n3,0.6,0.7\n"
    err = read_error(write(tmp_path, "log.csv", text))
    assert (err.line, err.field) == (4, "loss")
    assert "'oops'" in err.message


def test_text_in_jsonl_names_line(tmp_path: Path) -> None:
    lines = [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.9}, {"step": 3, "loss": "x"}]
    lines += [{"step": 4, "loss": 0.7}]
    p = write(tmp_path, "log.jsonl", "\n".join(json.dumps(r) for r in lines))
    err = read_error(p)
    assert (err.line, err.field) == (3, "loss")


def test_broken_middle_jsonl_line(tmp_path: Path) -> None:
    p = write(
        tmp_path, "log.jsonl", '{"step": 1, "loss": 1}\n{"step": 2, \n{"step": 3, "loss": 0.5}\n'
    )
    assert read_error(p).line == 2


@pytest.mark.parametrize(
    "text",
    [
        "epoch,phase\n0,warmup\n1,main\n",  # no numeric column
        "epoch,loss\n0,1.0\n",  # one point only
        "epoch,loss\n",  # header only
        "loss\nNA\n\n",  # nothing but missing
        '{"loss": [1.0]}',
        '{"loss": []}',
    ],
)
def test_nothing_to_diagnose(tmp_path: Path, text: str) -> None:
    err = read_error(write(tmp_path, "log.csv", text))
    assert "no numeric curve" in err.message or "no data rows" in err.message


def test_one_point_curve_is_fine_next_to_a_longer_one(tmp_path: Path) -> None:
    h = read_path(write(tmp_path, "log.csv", "epoch,loss,val_loss\n0,1.0,\n1,0.5,0.6\n"))
    val = h.get("val_loss")
    assert val is not None
    assert len(val) == 1


def test_directory_without_a_run_layout(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    assert "no known run layout" in read_error(tmp_path).message


def test_missing_file() -> None:
    assert "no such file" in read_error("/nonexistent/curvedoc/log.csv").message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unreadable_file(tmp_path: Path) -> None:
    p = write(tmp_path, "log.csv", "epoch,loss\n0,1\n1,0.5\n")
    p.chmod(0)
    try:
        assert "permission denied" in read_error(p).message
    finally:
        p.chmod(0o644)


def test_malformed_mlflow_metric_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "metrics").mkdir(parents=True)
    (run / "metrics" / "loss").write_text("1 0.5 0\n2 0.4 1 extra fields here\n")
    with pytest.raises(InputError) as info:
        read_path(run)
    assert info.value.line == 2
    assert info.value.field == "loss"


# --- from_object ---------------------------------------------------------------------------------


class FakeKerasHistory:
    def __init__(self) -> None:
        self.history = {"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.8]}
        self.params = {"epochs": 3, "steps": 10, "verbose": 1}


class FakeFrame:
    """Just enough of a pandas DataFrame: ``columns``, ``index`` and ``to_dict``."""

    def __init__(self, data: dict[str, list[float]]) -> None:
        self._data = data
        self.columns = list(data)
        self.index = list(range(len(next(iter(data.values())))))

    def to_dict(self, orient: str = "dict") -> dict[str, list[float]]:
        assert orient == "list"
        return {k: list(v) for k, v in self._data.items()}


def test_from_object_keras_forms() -> None:
    h = from_object({"loss": [1.0, 0.5], "val_loss": [1.2, 0.9]})
    assert h.format == "keras-history"
    assert h.source == "<object>"
    h2 = from_object(FakeKerasHistory(), source="notebook")
    assert h2.format == "keras-history"
    assert h2.meta == {"epochs": 3, "steps_per_epoch": 10}
    assert h2.source == "notebook"


def test_from_object_history_passthrough() -> None:
    h = from_object({"loss": [1.0, 0.5]})
    assert from_object(h) is h
    assert isinstance(h, History)


def test_from_object_log_history_and_records() -> None:
    log = [
        {"loss": 2.0, "learning_rate": 1e-4, "epoch": 0.5, "step": 10},
        {"loss": 1.5, "learning_rate": 5e-5, "epoch": 1.0, "step": 20},
        {"eval_loss": 1.7, "eval_runtime": 3.0, "epoch": 1.0, "step": 20},
        {"train_runtime": 60.0, "train_loss": 1.75, "epoch": 1.0, "step": 20},
    ]
    h = from_object(log)
    assert h.format == "hf-log-history"
    assert [c.name for c in h.curves] == ["loss", "learning_rate", "eval_loss"]
    r = from_object([{"epoch": 1, "acc": 0.5}, {"epoch": 2, "acc": 0.6}])
    assert r.format == "records"


def test_from_object_dataframe_dense_keeps_nan() -> None:
    h = from_object(FakeFrame({"loss": [1.0, 0.5, float("nan")], "val_loss": [1.1, 0.8, 0.9]}))
    assert h.format == "dataframe"
    loss = h.get("loss")
    assert loss is not None
    assert len(loss) == 3


def test_from_object_dataframe_sparse_drops_nan() -> None:
    nan = float("nan")
    frame = FakeFrame(
        {
            "step": [10, 20, 20, 30, 40, 40],
            "train_loss": [1.0, 0.9, nan, 0.8, 0.7, nan],
            "val_loss": [nan, nan, 1.0, nan, nan, 0.9],
        }
    )
    h = from_object(frame)
    val = h.get("val_loss")
    assert val is not None
    assert val.x.tolist() == [20.0, 40.0]
    assert val.x_unit == "step"


def test_from_object_sklearn_like() -> None:
    class MLP:
        def __init__(self) -> None:
            self.loss_curve_ = [0.9, 0.6, 0.5]
            self.validation_scores_ = [0.7, 0.8, 0.82]
            self.learning_rate_init = 0.001

    h = from_object(MLP())
    assert h.format == "sklearn-mlp"
    score = h.get("val_score")
    assert score is not None
    assert (score.role, score.direction) == ("val_metric", "max")
    assert h.meta["learning_rate"] == 0.001


@pytest.mark.parametrize(
    "obj",
    [42, "history.json", None, [1, 2, 3], {"loss": "low"}, object(), [], {}, {"a": {"b": 1}}],
)
def test_from_object_rejects_other_things(obj: object) -> None:
    with pytest.raises(InputError) as info:
        from_object(obj, source="nb")
    assert str(info.value).startswith("nb: ")


def test_from_object_broken_dataframe() -> None:
    class Broken:
        columns = ("loss",)

        def to_dict(self, orient: str = "dict") -> dict[str, list[float]]:
            raise ValueError("boom")

    with pytest.raises(InputError, match="boom"):
        from_object(Broken())


def test_read_path_never_modifies_the_file(tmp_path: Path) -> None:
    p = write(tmp_path, "training.log", "epoch,loss\n0,1.0\n1,0.5\n1,0.4\n")
    before = (p.read_bytes(), p.stat().st_mtime_ns)
    read_path(p)
    assert (p.read_bytes(), p.stat().st_mtime_ns) == before


def test_no_curve_error_says_why(tmp_path: Path) -> None:
    err = read_error(write(tmp_path, "log.csv", "epoch,phase,note\n0,warmup,a\n1,main,b\n"))
    assert "not numeric, dropped: phase, note" in err.message


def test_newline_in_a_json_key_keeps_errors_and_notes_one_line(tmp_path: Path) -> None:
    err = read_error(write(tmp_path, "h.json", json.dumps({"a\nb": ["x", "y"], "c": [1]})))
    assert "a\\nb" in err.message
    h = read_path(write(tmp_path, "g.json", json.dumps({"loss": [1, 0.5], "a\nb": ["x", "y"]})))
    assert "not numeric, dropped: a\\nb" in h.notes
