"""What a detector is.

A detector is one class per rule. Its identity lives in class constants (``code``, ``name``,
``needs``); the *shape* of its thresholds is a nested ``Params`` record with no defaults,
because the *numbers* live in the rule pack (``rules/default.toml``). ``detect`` is pure: it reads
the :class:`~curvedoc.context.Context` and yields :class:`Observation` objects. It never decides
severity and never writes advice; the engine and the pack do that. The class docstring uses the
fixed headings that ``curvedoc explain`` prints: What it detects / Why it matters / Example /
What to try / Parameters.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from curvedoc.record import Record

if TYPE_CHECKING:
    from curvedoc.context import Context
    from curvedoc.model import Curve

EvidenceValue = float | int | str | bool | None


@dataclass(frozen=True)
class Observation:
    """What a detector saw: where, on which curves, how sure, and the numbers behind it.

    ``subject`` is the curve the observation is *about* (supersession between rules works per
    subject); it defaults to the first entry of ``curves``.
    """

    curves: tuple[str, ...]
    start: float
    end: float
    x_unit: str
    message: str
    confidence: str
    evidence: dict[str, EvidenceValue] = field(default_factory=dict)
    subject: str | None = None

    @property
    def subject_curve(self) -> str:
        return self.subject if self.subject is not None else self.curves[0]


class DetectorParams(Record):
    """Base of every detector's parameter record: frozen, unknown keys rejected, checked by
    :meth:`~curvedoc.record.Record.validate_fields` (numbers and their bounds)."""


class Detector(ABC):
    """Base class of every rule's detector."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    #: Curve roles required, as groups: every group must be satisfied by at least one role in it.
    needs: ClassVar[tuple[tuple[str, ...], ...]] = ()
    #: Evidence keys every observation carries (advice templates may use them freely).
    evidence_keys: ClassVar[tuple[str, ...]] = ()
    #: Evidence keys present only when the log allows (advice using them needs a fallback text).
    optional_evidence_keys: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type[DetectorParams]] = DetectorParams

    @abstractmethod
    def detect(self, ctx: Context, params: Any) -> Iterator[Observation]:
        """Yield observations; must not raise on any finite or non-finite input."""

    @classmethod
    def missing_roles(cls, roles: set[str]) -> list[tuple[str, ...]]:
        """The groups of ``needs`` that ``roles`` does not satisfy."""
        return [group for group in cls.needs if not roles.intersection(group)]


class PerLossDetector(Detector):
    """A rule judged on each training loss curve (not on the terms of a logged sum), or on each
    validation loss when the log has no training loss (divergence, oscillation, plateau): the
    loop lives here once."""

    def detect(self, ctx: Context, params: Any) -> Iterator[Observation]:
        for curve in ctx.judged_losses():
            obs = self._curve(ctx, curve, params)
            if obs is not None:
                yield obs

    @abstractmethod
    def _curve(self, ctx: Context, curve: Curve, p: Any) -> Observation | None:
        """The observation for one loss curve, or None."""
