"""The HTML report in a real headless Chromium (from the OS packages): it loads with no console
message, nothing tries to leave the page, a screenshot comes out, and markup in metric names is
text, not elements.

How "no request leaves the page" is checked: the page carries a Content-Security-Policy of
``default-src 'none'``, so any attempt to fetch (an image, a font, a script, a stylesheet) is
blocked *and reported on the console*, which ``--enable-logging=stderr`` prints as ``CONSOLE``
lines; the test asserts there are none. A control page with a remote image proves the harness sees
such a violation. ``test_html.py`` also checks the page text for any URL or ``src=``. Host names
are mapped to nothing, so even a miss could not reach the network.

Skipped, with the reason, only when no Chromium is installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from curvedoc.formatters import RenderContext
from curvedoc.formatters.html import CSP, render_html
from curvedoc.model import Advice, Curve, Finding, History, Report, Span

HOSTILE = "<script>alert(1)</script>\"q'&amp;"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found (apt-get install chromium; .ci/run does this)"
)


def chromium(page: Path, tmp: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    argv = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={tmp / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,1600",
        *mode,
        page.resolve().as_uri(),
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Refused to" in line]


def hostile_page(tmp: Path) -> Path:
    n = 60
    x = np.arange(1, n + 1, dtype=np.float64)
    loss = 1 / x + 0.05
    val = 1 / x + 0.2 + np.maximum(0, x - 15) * 0.03
    history = History(
        source=f"runs/{HOSTILE}.json",
        format="keras-history",
        curves=(
            Curve(HOSTILE, "train_loss", "train", x, loss),
            Curve("val_loss", "val_loss", "val", x, val),
            Curve("lr", "lr", "train", x, np.geomspace(1e-2, 1e-5, n)),
        ),
    )
    finding = Finding(
        code="CD201",
        rule="overfitting",
        severity="warning",
        confidence="high",
        curves=["val_loss", HOSTILE],
        span=Span(start=15, end=60, x_unit="epoch"),
        message=f"val_loss rose while {HOSTILE} kept falling",
        evidence={"best_x": 15.0, "label": HOSTILE},
    )
    advice = Advice(text=f"Stop at epoch 15 {HOSTILE}", param="epochs", action="set", rule="x")
    report = Report(
        curvedoc_version="0.0",
        source=history.source,
        format="keras-history",
        findings=[finding],
        advice=[advice],
        notes=[HOSTILE],
    )
    page = tmp / "report.html"
    html = render_html([report], context=RenderContext(histories=(history,)))
    page.write_text(html, encoding="utf-8")
    return page


def test_report_loads_clean_in_chromium_and_screenshots(tmp_path: Path) -> None:
    page = hostile_page(tmp_path)
    shot = tmp_path / "shot.png"
    proc = chromium(page, tmp_path, f"--screenshot={shot}")
    assert shot.is_file(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000  # a drawn page, not a blank one
    assert console_lines(proc.stderr) == []


def test_markup_in_names_is_text_in_the_dom(tmp_path: Path) -> None:
    page = hostile_page(tmp_path)
    proc = chromium(page, tmp_path, "--dump-dom")
    dom = proc.stdout
    assert "<main>" in dom, proc.stderr[-2000:]
    assert "<script" not in dom.lower()  # no element was created from a name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # it is shown as text
    assert dom.count("<svg") >= 2  # the plots are in the document
    assert console_lines(proc.stderr) == []


def test_the_harness_sees_a_request_that_tries_to_leave(tmp_path: Path) -> None:
    """Control: the same CSP with a remote image produces a console line the tests would catch."""
    page = tmp_path / "leaky.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{CSP}"></head><body><img src="https://example.invalid/x.png"></body></html>',
        encoding="utf-8",
    )
    proc = chromium(page, tmp_path, "--dump-dom")
    assert console_lines(proc.stderr), proc.stderr[-2000:]
