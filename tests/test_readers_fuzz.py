"""Whatever the bytes or the object, a reader returns a valid History or raises InputError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curvedoc.errors import InputError
from curvedoc.model import ROLES, History
from curvedoc.readers import from_object, read_path

SEEDS = [
    b"epoch,loss,val_loss\n0,1.0,1.1\n1,0.5,NA\n2,0.4,0.6\n",
    b"epoch,step,train_loss_step,val_loss\n0,9,0.5,\n0,9,,0.6\n1,19,0.4,\n1,19,,0.5\n",
    b'{"loss": [1.0, 0.5, NaN], "val_loss": [1.2, 0.9, 0.8]}',
    b'{"log_history": [{"loss": 2.0, "step": 10}, {"eval_loss": 1.0, "step": 10},'
    b' {"loss": 1.0, "step": 20}, {"train_runtime": 1.0, "train_loss": 1.5, "step": 20}]}',
    b"Wall time,Step,Value\n1,0,0.9\n2,1,0.5\n",
    b'{"validation_0": {"logloss": [0.6, 0.5]}, "validation_1": {"logloss": [0.7, 0.6]}}',
]

TOKENS = [b",", b"\n", b'"', b"{", b"}", b"[", b"]", b"NaN", b"NA", b"\r", b";", b"\t", b"1e999"]


def check(h: History) -> None:
    assert isinstance(h, History)
    assert any(len(c) >= 2 for c in h.curves)
    for c in h.curves:
        assert c.role in ROLES
        assert c.x_unit in ("epoch", "step")
        assert c.direction in ("min", "max")
        assert bool((c.x[1:] > c.x[:-1]).all())
    assert all("\n" not in n for n in h.notes)


def check_outcome(read: Callable[[], History]) -> None:
    """A valid History, or an InputError whose text is one line; nothing else may escape."""
    result: History | InputError
    try:
        result = read()
    except InputError as err:
        result = err
    if isinstance(result, InputError):
        assert "\n" not in str(result)
    else:
        check(result)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        action = draw(st.integers(0, 2))
        if action == 0:
            data[pos] = draw(st.integers(0, 255))
        elif action == 1:
            del data[pos : pos + draw(st.integers(1, 20))]
        else:
            data[pos:pos] = draw(st.sampled_from(TOKENS))
    return bytes(data)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=mutated())
def test_mutated_files(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "log"
    p.write_bytes(data)
    check_outcome(lambda: read_path(p))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.sampled_from(["1.5", "NA", "", "x", "a\nb"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["loss", "val_loss", "step", "epoch", "lr", "log_history", "a\nb"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_arbitrary_objects(value: object) -> None:
    check_outcome(lambda: from_object(value))


@pytest.mark.parametrize("seed", SEEDS)
def test_each_seed_reads(tmp_path: Path, seed: bytes) -> None:
    p = tmp_path / "log"
    p.write_bytes(seed)
    check(read_path(p))
