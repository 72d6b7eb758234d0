"""The exception tree.

Every error curvedoc raises on purpose derives from :class:`CurvedocError`, so callers (the CLI, a
notebook, a sweep runner) can tell "your input or config is wrong" from "curvedoc has a bug". Each
error renders as one line that names the file and, where it applies, the line or field.
"""

from __future__ import annotations


class CurvedocError(Exception):
    """Base class: a problem with the user's input or configuration, reported in one line."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        field = f"{self.field}: " if self.field is not None else ""
        return f"{where}{field}{self.message}"


class InputError(CurvedocError):
    """A training log could not be read or holds nothing curvedoc can diagnose."""


class ConfigError(CurvedocError):
    """A rule pack, ``[tool.curvedoc]`` table or command-line option is invalid."""


class UnknownRuleError(ConfigError):
    """A rule code or name that no detector has."""
