"""The report models are plain frozen dataclasses with pydantic's interface (curvedoc.record)."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import pydantic
import pytest

from curvedoc import api
from curvedoc.detectors import get_detector
from curvedoc.model import Finding, Report, Span
from curvedoc.record import FieldError


def _report() -> Report:
    return api.diagnose("fixtures/keras-json/overfit_digits_150_samples_big_mlp.json")


def test_json_round_trip_through_pydantic_gives_the_same_report() -> None:
    report = _report()
    assert report.findings
    again = Report.model_validate_json(report.model_dump_json(indent=2))
    assert again == report
    assert isinstance(again.findings[0], Finding)
    assert isinstance(again.findings[0].span, Span)


def test_unknown_keys_and_bad_values_are_rejected_by_pydantic() -> None:
    data = json.loads(_report().model_dump_json())
    with pytest.raises(pydantic.ValidationError):
        Report.model_validate({**data, "bogus": 1})
    data["findings"][0]["severity"] = "fatal"
    with pytest.raises(pydantic.ValidationError):
        Report.model_validate(data)


def test_records_are_frozen_and_copy_with_changes() -> None:
    report = _report()
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.source = "x"  # type: ignore[misc]
    copy = report.model_copy(update={"notes": ["n"]})
    assert copy.notes == ["n"]
    assert copy.findings == report.findings
    assert report.notes != ["n"]


def test_dumps_write_non_finite_floats_as_null_and_keep_text() -> None:
    span = Span(start=math.inf, end=math.nan, x_unit="épоch\u2028")
    assert span.model_dump() == {"start": math.inf, "end": span.end, "x_unit": "épоch\u2028"}
    assert json.loads(span.model_dump_json()) == {
        "start": None,
        "end": None,
        "x_unit": "épоch\u2028",
    }
    assert span.model_dump_json() == '{"start":null,"end":null,"x_unit":"épоch\u2028"}'


def test_tuples_become_lists_and_source_is_one_line() -> None:
    report = Report(curvedoc_version="1", source="a\nb\x1b[31m", notes=("x",))  # type: ignore[arg-type]
    assert report.notes == ["x"]
    assert "\n" not in report.source
    assert "\x1b" not in report.source


@pytest.mark.parametrize(
    ("params", "loc", "words"),
    [
        ({"min_rise": "x"}, "min_rise", "valid number"),
        ({"min_rise": -0.1}, "min_rise", "greater than 0"),
        ({"nope": 1}, "nope", "Extra inputs"),
        ({"min_rise": True}, "min_rise", "valid number"),
    ],
)
def test_params_are_checked_field_by_field(params: dict[str, object], loc: str, words: str) -> None:
    det = get_detector("overfitting")
    from curvedoc.packs import load_pack

    base = dict(load_pack("default").rules["overfitting"].params)
    with pytest.raises(FieldError) as info:
        det.Params.validate_fields({**base, **params})
    assert info.value.loc == loc
    assert words in info.value.msg


def test_params_convert_like_pydantic_lax_mode() -> None:
    det = get_detector("plateau")
    from curvedoc.packs import load_pack

    base = dict(load_pack("default").rules["plateau"].params)
    ok = det.Params.validate_fields({**base, "min_points": 4.0})
    assert ok.min_points == 4  # type: ignore[attr-defined]
    assert isinstance(ok.min_points, int)  # type: ignore[attr-defined]
    with pytest.raises(FieldError, match="fractional part"):
        det.Params.validate_fields({**base, "min_points": 2.5})
    missing = {k: v for k, v in base.items() if k != "min_points"}
    with pytest.raises(FieldError, match="Field required"):
        det.Params.validate_fields(missing)


def test_a_diagnosis_does_not_import_pydantic() -> None:
    """Start-up: pydantic is loaded only to validate reports read back and for the schema."""
    code = (
        "import sys\n"
        "from curvedoc.cli import main\n"
        "main(['diagnose', 'fixtures/keras-json/overfit_digits_150_samples_big_mlp.json',"
        " '--format', 'json', '--isolated'])\n"
        "print(sorted(m for m in ('pydantic', 'numpy.ma', 'numpy.random', 'scipy')"
        " if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"


def test_every_detector_param_has_a_type_the_fast_validator_knows() -> None:
    """validate_fields checks float, int, bool and str; a new kind needs code there first."""
    from curvedoc.detectors import DETECTORS

    for det in DETECTORS:
        for name, f in det.Params.model_fields.items():
            assert str(f.type) in {"float", "int", "bool", "str"}, (det.name, name, f.type)


def test_a_report_shows_itself_in_a_notebook_as_a_sandboxed_page() -> None:
    import html
    import re

    from curvedoc.formatters.html import render_html

    report = _report().model_copy(update={"source": 'x"><script>alert(1)</script>'})
    out = report._repr_html_()
    frame = r'<iframe sandbox title="curvedoc report" style="[^"]*" srcdoc="([^"]*)"></iframe>'
    m = re.fullmatch(frame, out)
    assert m is not None  # no quote from the page ends the attribute early
    assert "<script>" not in out
    assert html.unescape(m.group(1)) == render_html([report])
    assert "allow-scripts" not in out


def test_records_compare_hash_and_print_as_dataclasses_would() -> None:
    """repr/eq/hash are the base's own (not generated per class): the same semantics."""
    import dataclasses

    from curvedoc.model import Span

    a = Span(start=1.0, end=2.0, x_unit="epoch")
    assert a == Span(start=1.0, end=2.0, x_unit="epoch")
    assert a != Span(start=1.0, end=3.0, x_unit="epoch")
    assert a != (1.0, 2.0, "epoch")
    assert hash(a) == hash(Span(start=1.0, end=2.0, x_unit="epoch"))
    assert len({a, Span(start=1.0, end=2.0, x_unit="epoch")}) == 1
    assert repr(a) == "Span(start=1.0, end=2.0, x_unit='epoch')"
    assert dataclasses.replace(a, end=5.0).end == 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.end = 3.0  # type: ignore[misc]
