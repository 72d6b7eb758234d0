"""The data model.

Two layers, on purpose:

* The numeric core (:class:`Curve`, :class:`History`) is plain frozen dataclasses holding numpy
  arrays. Detectors read these in their hot loops, so no validation framework sits in the way.
  NaN and Inf are *kept* in ``y``: reporting them is a detector's job, not a reader's.
* The output contract (:class:`Finding`, :class:`Advice`, :class:`Report`, ...) is frozen
  records (:mod:`curvedoc.record`: dataclasses with pydantic's interface) that pydantic v2
  validates with ``extra="forbid"`` when a report is read back, and that give the stable JSON
  and its JSON Schema; making them does not import pydantic (start-up). Bump
  :data:`SCHEMA_VERSION` on any breaking change to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from curvedoc.record import Field, Record

SCHEMA_VERSION = 1

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\x1b``): file and
    curve names end up in terminals, CI logs and workflow commands, where a raw newline or ESC
    could start a fake ``::error::`` line or recolour the output."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)


FloatArray = npt.NDArray[np.float64]

Role = Literal["train_loss", "val_loss", "train_metric", "val_metric", "lr", "grad_norm", "other"]
ROLES: tuple[str, ...] = (
    "train_loss",
    "val_loss",
    "train_metric",
    "val_metric",
    "lr",
    "grad_norm",
    "other",
)
Split = Literal["train", "val", "test", "none"]
XUnit = Literal["epoch", "step"]
Direction = Literal["min", "max"]
Severity = Literal["info", "warning", "error"]
Confidence = Literal["low", "medium", "high"]
Action = Literal["increase", "decrease", "set", "enable", "disable", "investigate"]

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
CONFIDENCE_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True, eq=False)
class Curve:
    """One logged series: ``y`` against ``x``, with its canonical role.

    ``name`` is the column as written in the log (``eval_loss``); ``role`` is what curvedoc
    thinks it is (``val_loss``). ``x`` is sorted ascending with unique values (readers merge
    duplicates).
    """

    name: str
    role: str
    split: str
    x: FloatArray
    y: FloatArray
    x_unit: str = "epoch"
    direction: str = "min"
    #: False when nothing said which way is better (a metric named ``validation_bas``): the
    #: direction is then a guess, and no rule builds a claim on it.
    direction_known: bool = True

    def __post_init__(self) -> None:
        if self.x.shape != self.y.shape or self.x.ndim != 1:
            raise ValueError(f"curve {self.name!r}: x and y must be 1-D arrays of equal length")

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def finite(self) -> npt.NDArray[np.bool_]:
        """Mask of the points whose value is a finite number."""
        return np.isfinite(self.y)


@dataclass(frozen=True, eq=False)
class History:
    """Everything a reader found in one training log.

    ``meta`` holds hyperparameters found in the log (``learning_rate``, ``batch_size``,
    ``weight_decay``, ``epochs``, ``max_steps``, ...); advice quotes them. ``notes`` say what the
    reader dropped, merged or guessed, and end up in the report.
    """

    source: str
    format: str
    curves: tuple[Curve, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def by_role(self, role: str) -> tuple[Curve, ...]:
        return tuple(c for c in self.curves if c.role == role)

    def get(self, name: str) -> Curve | None:
        for c in self.curves:
            if c.name == name:
                return c
        return None


class Span(Record):
    """Where on the x axis a finding lies (inclusive)."""

    start: float
    end: float
    x_unit: str


class Advice(Record):
    """One concrete change to try."""

    text: str
    param: str = Field(description="The knob: learning_rate, weight_decay, epochs, grad_clip, ...")
    action: Action
    factor: float | None = Field(default=None, description="Multiply the current value by this.")
    value: float | None = Field(default=None, description="Set the knob to this value.")
    rule: str = Field(description="The rule whose finding this advice comes from.")
    severity: Severity = "info"


class Finding(Record):
    """One diagnosed problem: what, where, how sure, the numbers behind it, what to do."""

    code: str
    rule: str
    severity: Severity
    confidence: Confidence
    curves: list[str]
    span: Span
    message: str
    evidence: dict[str, float | int | str | bool | None]
    advice: list[Advice] = Field(default_factory=list)


class CurveSummary(Record):
    """Per-curve facts for the report header."""

    name: str
    role: str
    split: str
    direction: str
    x_unit: str
    points: int
    non_finite: int
    x_start: float | None
    x_end: float | None
    first: float | None
    best: float | None
    best_x: float | None
    final: float | None
    sketch: list[float | None] = Field(
        default_factory=list,
        description=(
            "The curve resampled to a few evenly spaced buckets over [x_start, x_end] (bucket means"
            " of the finite values; null where a bucket has none), for sparklines and thumbnails."
        ),
    )


class Skip(Record):
    """A rule that did not run on this input, and why (e.g. no validation curve)."""

    rule: str
    code: str
    reason: str


class DetectorError(Record):
    """A detector that crashed; the other detectors still ran."""

    rule: str
    code: str
    error: str


class Report(Record):
    """The diagnosis of one input. This is the stable JSON contract (see ``curvedoc schema``)."""

    schema_version: int = SCHEMA_VERSION
    curvedoc_version: str
    source: str
    format: str | None = None
    curves: list[CurveSummary] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    advice: list[Advice] = Field(default_factory=list)
    skipped: list[Skip] = Field(default_factory=list)
    errors: list[DetectorError] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    meta: dict[str, float | int | str | bool | None] = Field(default_factory=dict)
    error: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        # source and error reach terminals and CI logs: one line, control characters escaped
        object.__setattr__(self, "source", one_line(self.source))
        if self.error is not None:
            object.__setattr__(self, "error", one_line(self.error))

    @property
    def worst_severity(self) -> str | None:
        """The highest severity among the findings, or None when there are none."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=SEVERITY_RANK.__getitem__)

    def to_json(self, *, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    def __rich__(self) -> Any:
        from curvedoc.formatters.terminal import render_report

        return render_report(self)

    def _repr_markdown_(self) -> str:
        from curvedoc.formatters.markdown import render_markdown

        return render_markdown([self])

    def _repr_html_(self) -> str:
        """Notebooks: the HTML report (charts drawn from the curves' sketches) in a sandboxed
        frame, so that its page styles stay out of the notebook's and nothing in it can run
        (the page has no scripts; the sandbox would forbid them anyway)."""
        import html

        from curvedoc.formatters.html import render_html

        page = html.escape(render_html([self]), quote=True)
        return (
            '<iframe sandbox title="curvedoc report" style="width:100%;height:640px;'
            f'border:1px solid #d0d7de;resize:vertical" srcdoc="{page}"></iframe>'
        )


def as_float_array(values: Any) -> FloatArray:
    """Convert a sequence to a contiguous float64 array (None becomes NaN)."""
    if isinstance(values, np.ndarray):
        return np.ascontiguousarray(values, dtype=np.float64)
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
