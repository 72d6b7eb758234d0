"""The accuracy evaluation: scoring against labels, the peer bridge, and the command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from curvedoc.eval import Case, load_cases, main, peer_input, render, score
from curvedoc.model import Curve, History


def case(path: str, must: set[str], must_not: set[str], scenario: str = "x") -> Case:
    return Case(path, scenario, frozenset(must), frozenset(must_not))


def test_score_counts_recall_precision_and_false_alarms() -> None:
    cases = [
        case("a", {"overfitting"}, {"divergence"}),
        case("b", {"overfitting"}, set()),
        case("c", set(), {"overfitting", "divergence"}, "healthy"),
    ]
    fired = [{"overfitting"}, set(), {"overfitting"}]
    t = score(cases, fired, ["overfitting", "divergence"])
    assert t["overfitting"].positives == 2
    assert t["overfitting"].recall == 0.5
    assert t["overfitting"].precision == 0.5  # one expected firing, one false alarm
    assert t["overfitting"].false_alarm_cases == ["c"]
    assert t["overfitting"].missed_cases == ["b"]
    assert math.isnan(t["divergence"].recall)


def test_peer_input_aligns_training_to_validation_points() -> None:
    x = np.arange(0, 100, dtype=float)
    t = Curve("loss", "train_loss", "train", x, 1 / (x + 1), "step")
    xv = np.arange(9, 100, 10, dtype=float)
    v = Curve("eval_loss", "val_loss", "val", xv, np.full(xv.size, 0.5), "step")
    pair = peer_input(History("s", "t", (t, v)))
    assert pair is not None
    train, val = pair
    assert len(train) == len(val) == 10
    assert train[0] == pytest.approx(1 / 10)
    nan_v = Curve("eval_loss", "val_loss", "val", xv, np.full(xv.size, math.nan), "step")
    assert peer_input(History("s", "t", (t, nan_v))) is None  # the peer rejects NaN
    assert peer_input(History("s", "t", (t,))) is None  # and needs a validation curve


def write_corpus(tmp_path: Path) -> Path:
    e = list(range(1, 31))
    over = {
        "loss": [1 / k**0.5 for k in e],
        "val_loss": [0.4 + 0.002 * (k - 14) ** 2 for k in e],
    }
    healthy = {
        "loss": [0.2 + math.exp(-k / 4) for k in e],
        "val_loss": [0.3 + math.exp(-k / 4) for k in e],
    }
    (tmp_path / "over.json").write_text(json.dumps(over))
    (tmp_path / "ok.json").write_text(json.dumps(healthy))
    (tmp_path / "cases.toml").write_text(
        '[[case]]\npath = "over.json"\nscenario = "overfitting"\n'
        'must_fire = ["overfitting"]\nmust_not_fire = ["divergence"]\n\n'
        '[[case]]\npath = "ok.json"\nscenario = "healthy"\nmust_fire = []\n'
        'must_not_fire = ["overfitting", "divergence"]\n'
    )
    return tmp_path


def test_command_prints_the_table_with_the_peer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sk_autod", reason="the peer (sk-autod) is in the test extra")
    folder = write_corpus(tmp_path)
    assert main([str(folder), "--markdown"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| overfitting"))
    assert "| 1 | 1.00 | 1.00 | 0 |" in row
    assert "sk-autod recall" in out
    assert "healthy runs with no finding: 1 of 1" in out


def test_unknown_rule_in_the_table_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "cases.toml").write_text('[[case]]\npath = "a"\nmust_fire = ["nope"]\n')
    with pytest.raises(Exception, match=r"case\[0\]\.must_fire"):
        load_cases(tmp_path)
    assert main([str(tmp_path)]) == 2


def test_render_without_peer() -> None:
    t = score([case("a", {"plateau"}, set())], [{"plateau"}], ["plateau"])
    text = render({"cases": 1, "ours": t, "healthy": 0, "healthy_clean": 0, "peer": None})
    assert "plateau" in text
    assert "sk-autod" not in text
