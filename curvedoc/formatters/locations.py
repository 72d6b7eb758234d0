"""Where a finding "is", for the CI formats that want a file location and a stable identity.

A finding is about a log file, not a line of code: the location is the input path (relative to the
working directory, which in CI is the repository root) and, where a line is required, line 1.
The identity (:func:`fingerprint`) hashes the rule, the path and the curve the finding is about,
never its message or numbers, so the same problem in the next pipeline has the same fingerprint
(GitLab's merge-request widget and GitHub code scanning both compare fingerprints across runs).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from curvedoc.formatters.common import subject_curve
from curvedoc.model import Finding, Report


def repo_path(source: str) -> str:
    """``source`` as a POSIX path relative to the working directory when it lies inside it.

    ``./runs/a.csv`` → ``runs/a.csv`` (GitLab rejects a leading ``./``). An absolute path inside
    the working directory is made relative; one outside it stays absolute (there is nothing in
    the repository to point at).
    """
    path = Path(source)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(Path.cwd().resolve())
        except (ValueError, OSError):
            return path.as_posix()
    text = PurePosixPath(path.as_posix()).as_posix()
    while text.startswith("./"):
        text = text[2:]
    return text or "."


def artifact_uri(source: str) -> str:
    """A URI reference for SARIF's ``artifactLocation.uri``: relative and percent-encoded when
    the file is inside the working directory, else an absolute ``file://`` URI."""
    rel = repo_path(source)
    if PurePosixPath(rel).is_absolute():
        return Path(rel).as_uri()
    return quote(rel, safe="/")


def fingerprint(rule: str, path: str, curve: str, occurrence: int = 0) -> str:
    """A stable 32-hex-digit identity for (rule, path, curve), plus which occurrence it is when
    one rule flags the same curve more than once (two plateaus), in order along the x axis."""
    key = "\x1f".join((rule, path, curve, str(occurrence)))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def fingerprinted(report: Report) -> Iterator[tuple[Finding, str]]:
    """Each finding of ``report`` with its fingerprint (occurrences counted by span start)."""
    path = repo_path(report.source)
    seen: Counter[tuple[str, str]] = Counter()
    for f in sorted(report.findings, key=lambda f: (f.span.start, f.span.end)):
        key = (f.rule, subject_curve(f.curves))
        yield f, fingerprint(f.rule, path, key[1], seen[key])
        seen[key] += 1


def single_line(text: str) -> str:
    """Text from a log on one line: CR/LF and other control characters become spaces."""
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)


def finding_title(f: Finding) -> str:
    """``CD201 overfitting (val_loss)``: the short label CI annotations and test cases show."""
    curve = subject_curve(f.curves)
    return f"{f.code} {f.rule}" + (f" ({curve})" if curve else "")
