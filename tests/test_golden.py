"""Golden tests: curvedoc on the logs of real training runs, against hand-checked labels.

``fixtures/`` holds logs written by the real loggers (Keras, Hugging Face Trainer, Lightning, a
plain PyTorch loop) while small models actually trained (``fixtures/generate/train.py``).
``fixtures/cases.toml`` labels each file from what its numbers show: the reader that must recognise
it, the rules a correct diagnosis reports (``must_fire``), the rules that would be false alarms
(``must_not_fire``) and the honest grey zone (``may_fire``). A healthy run must come back with no
finding outside its grey zone.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from curvedoc.api import diagnose
from curvedoc.detectors import DETECTORS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TABLE = FIXTURES / "cases.toml"
NOT_LOGS = {"README.md", "cases.toml"}
FORMATS = {"keras-json", "keras-csv", "hf-trainer-state", "lightning-csv", "csv"}
SCENARIOS = {
    "healthy",
    "overfitting",
    "underfitting",
    "overconfidence",
    "val-better-than-train",
    "divergence",
    "non-finite",
    "gradient-spikes",
    "oscillation",
    "warmup-instability",
    "plateau",
    "not-converged",
    "slow-convergence",
    "frozen",
}


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = tomllib.loads(TABLE.read_text("utf-8"))["case"]
    return cases


CASES = load_cases()


def log_files() -> set[str]:
    """Every training log under fixtures/ (not the generator, the README or the table)."""
    return {
        p.relative_to(FIXTURES).as_posix()
        for p in FIXTURES.rglob("*")
        if p.is_file()
        and p.name not in NOT_LOGS
        and "generate" not in p.relative_to(FIXTURES).parts
        and "__pycache__" not in p.parts
    }


def test_every_log_file_has_exactly_one_case_and_every_case_a_file() -> None:
    paths = [c["path"] for c in CASES]
    assert len(paths) == len(set(paths)), "a path appears twice in cases.toml"
    files = log_files()
    assert files - set(paths) == set(), "log files without a case in cases.toml"
    assert set(paths) - files == set(), "cases whose file is missing"


@pytest.mark.parametrize("case", CASES, ids=[c["path"] for c in CASES])
def test_case_labels_are_well_formed(case: dict[str, Any]) -> None:
    known = {d.name for d in DETECTORS}
    must = set(case["must_fire"])
    must_not = set(case["must_not_fire"])
    may = set(case.get("may_fire", []))
    assert (must | must_not | may) <= known, "a label names a rule curvedoc does not have"
    # rules_version 2: every case says, for every rule, whether it must, must not or may fire.
    assert (must | must_not | may) == known, (
        f"unlabelled rules: {sorted(known - must - must_not - may)}"
    )
    assert not must & must_not, "a rule is both required and forbidden"
    assert not may & (must | must_not), "a grey-zone rule is also required or forbidden"
    assert case["format"] in FORMATS
    assert case["scenario"] in SCENARIOS
    assert case["path"].split("/")[0] == case["format"], "files live under fixtures/<format>/"
    assert len(case["description"]) > 80, "say what happened in training, with numbers"
    if case["scenario"] == "healthy":
        assert not must, "a healthy run requires no finding"
        assert known - may <= must_not, "a healthy run forbids every rule outside its grey zone"
    else:
        assert must, "an unhealthy run must name the rule that diagnoses it"


#: Cases where the labels (true to the data) and curvedoc disagree today. Each is a strict xfail,
#: so fixing the detector makes the test fail until the entry is removed; `python -m
#: curvedoc.eval fixtures/` counts them as misses and false alarms all the same.
KNOWN_GAPS: dict[str, str] = {}


def _case_param(case: dict[str, Any]) -> Any:
    gap = KNOWN_GAPS.get(case["path"])
    marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
    return pytest.param(case, id=case["path"], marks=marks)


def test_known_gaps_name_real_cases() -> None:
    assert set(KNOWN_GAPS) <= {c["path"] for c in CASES}


@pytest.mark.parametrize("case", [_case_param(c) for c in CASES])
def test_golden(case: dict[str, Any]) -> None:
    report = diagnose(FIXTURES / case["path"])
    assert report.error is None
    assert report.format == case["format"]
    fired = {f.rule for f in report.findings}
    seen = [f"{f.rule}: {f.message}" for f in report.findings]
    missing = set(case["must_fire"]) - fired
    assert not missing, f"expected {sorted(missing)} to fire; findings: {seen}"
    false_alarms = fired & set(case["must_not_fire"])
    assert not false_alarms, f"false alarms {sorted(false_alarms)}; findings: {seen}"
    if case["scenario"] == "healthy":
        assert fired <= set(case.get("may_fire", [])), f"a healthy run got findings: {seen}"
