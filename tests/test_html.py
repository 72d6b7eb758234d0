"""The figure model (grouping, scales, downsampling, finding overlays), its SVG, the HTML page."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from curvedoc.engine import run as run_engine
from curvedoc.formatters import RenderContext, render
from curvedoc.formatters.figure import build_figure, downsample, quantity
from curvedoc.formatters.html import CSP, render_html
from curvedoc.formatters.svg import esc, figure_svg, log_ticks, nice_ticks, panel_svg, tick_label
from curvedoc.model import Advice, Curve, Finding, History, Report, Span
from curvedoc.packs import Settings

HOSTILE = "<script>alert(1)</script>\"'&amp;"


def curve(name: str, y: np.ndarray | list[float], role: str, split: str, **kw: object) -> Curve:
    ya = np.asarray(y, dtype=np.float64)
    x = kw.pop("x", None)
    xa = np.arange(1, ya.size + 1, dtype=np.float64) if x is None else np.asarray(x, float)
    return Curve(name=name, role=role, split=split, x=xa, y=ya, **kw)  # type: ignore[arg-type]


def overfit_history(val_name: str = "val_loss") -> History:
    n = 40
    loss = [1 / (i + 1) + 0.05 for i in range(n)]
    val = [1 / (i + 1) + 0.2 + max(0, i - 12) * 0.04 for i in range(n)]
    acc = [min(0.99, 0.5 + i * 0.02) for i in range(n)]
    return History(
        source="runs/exp1/history.json",
        format="keras-history",
        curves=(
            curve("loss", loss, "train_loss", "train"),
            curve(val_name, val, "val_loss", "val"),
            curve("accuracy", acc, "train_metric", "train", direction="max"),
            curve("val_accuracy", acc, "val_metric", "val", direction="max"),
            curve("lr", [1e-3] * n, "lr", "train"),
        ),
    )


def finding(curves: list[str], evidence: dict[str, object], **kw: object) -> Finding:
    fields: dict[str, object] = {
        "code": "CD201",
        "rule": "overfitting",
        "severity": "warning",
        "confidence": "high",
        "curves": curves,
        "span": Span(start=13, end=40, x_unit="epoch"),
        "message": "val_loss rose",
        "evidence": evidence,
    }
    fields.update(kw)
    return Finding.model_validate(fields)


def diagnosed(history: History, settings: Settings, *findings: Finding) -> Report:
    report = run_engine(history, settings)
    if findings:
        report = report.model_copy(update={"findings": list(findings)})
    return report


# --- the figure model -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("val_loss", "loss"),
        ("eval_loss", "loss"),
        ("train/box_loss", "box_loss"),
        ("val/box_loss", "box_loss"),
        ("train_loss_epoch", "loss"),
        ("valid_accuracy", "accuracy"),
        ("metrics/mAP50(B)", "metrics/mAP50(B)"),
        ("validation_1-logloss", "logloss"),
        ("val", "val"),
    ],
)
def test_quantity_strips_the_split_and_granularity(name: str, expected: str) -> None:
    assert quantity(name) == expected


def test_train_and_val_share_a_panel_and_lr_has_its_own(default_settings: Settings) -> None:
    history = overfit_history()
    figure = build_figure(diagnosed(history, default_settings), history)
    titles = [p.title for p in figure.panels]
    assert titles == ["loss", "accuracy", "learning rate"]
    loss = figure.panels[0]
    assert [(line.name, line.dashed) for line in loss.lines] == [
        ("loss", False),
        ("val_loss", True),
    ]
    assert figure.panels[2].kind == "lr"


def test_one_train_and_one_val_loss_pair_up_whatever_their_names(
    default_settings: Settings,
) -> None:
    history = overfit_history(val_name="my_objective")
    figure = build_figure(diagnosed(history, default_settings), history)
    assert [line.name for line in figure.panels[0].lines] == ["loss", "my_objective"]


def test_log_scale_only_when_values_span_more_than_two_decades() -> None:
    wide = History(
        source="s",
        format="t",
        curves=(
            curve("loss", [1e3, 10.0, 0.5], "train_loss", "train"),
            curve("grad_norm", [1.0, 2.0, 50.0], "grad_norm", "train"),
        ),
    )
    report = Report(curvedoc_version="0", source="s")
    panels = build_figure(report, wide).panels
    assert [(p.title, p.log_y) for p in panels] == [("loss", True), ("gradient norm", False)]
    assert panels[0].y_range()[0] > 0


def test_downsample_keeps_the_envelope_and_spikes() -> None:
    rng = np.random.default_rng(0)
    x = np.arange(1_000_000, dtype=np.float64)
    y = 1 + 0.1 * rng.standard_normal(x.size)
    y[123_457] = 50.0  # a one-step spike
    y[654_321] = -20.0
    xs, ys = downsample(x, y, columns=500)
    assert xs.size <= 2 * 500 + 2
    assert np.all(np.diff(xs) > 0)
    assert ys.max() == 50.0
    assert ys.min() == -20.0
    assert xs[0] == 0
    assert xs[-1] == x[-1]
    short_x, _ = downsample(x[:100], y[:100], columns=500)
    assert short_x.size == 100


def test_non_finite_values_break_the_line_and_are_marked() -> None:
    y = [1.0, 0.8, math.nan, math.inf, 0.5, 0.4]
    history = History("s", "t", (curve("loss", y, "train_loss", "train"),))
    line = build_figure(Report(curvedoc_version="0", source="s"), history).panels[0].lines[0]
    assert [list(xs) for xs, _ in line.segments] == [[1.0, 2.0], [5.0, 6.0]]
    assert list(line.bad_x) == [3.0, 4.0]


def test_findings_shade_their_span_and_mark_evidence(default_settings: Settings) -> None:
    history = overfit_history()
    over = finding(
        ["val_loss", "loss"], {"best_x": 13.0, "best_value": 0.27, "spikes": 2, "onset_x": 20}
    )
    spike = finding(
        ["loss"],
        {"first_spike_x": 5.0, "max_spike_x": 9.0, "max_spike_value": 3.5},
        code="CD302",
        rule="gradient-explosion",
        severity="error",
        span=Span(start=5, end=5, x_unit="epoch"),
    )
    converge = finding(
        ["val_accuracy"],
        {"asymptote": 0.97, "asymptote_low": 0.95, "asymptote_high": 0.99},
        code="CD402",
        rule="not-converged",
        severity="info",
    )
    report = diagnosed(history, default_settings, over, spike, converge)
    loss, acc, lr = build_figure(report, history).panels
    assert {(b.start, b.end, b.severity) for b in loss.bands} == {
        (13.0, 40.0, "warning"),
        (5.0, 5.0, "error"),
    }
    kinds = sorted((m.kind, m.x, m.y) for m in loss.marks)
    assert kinds == [
        ("best", 13.0, 0.27),
        ("onset", 20.0, None),
        ("spike", 5.0, pytest.approx(1 / 5 + 0.05)),  # y read from the curve
        ("spike", 9.0, 3.5),
    ]
    assert [(lvl.y, lvl.low, lvl.high) for lvl in acc.levels] == [(0.97, 0.95, 0.99)]
    assert acc.y_range()[1] >= 0.99  # the asymptote band is inside the axis
    assert not lr.bands


def test_a_far_projection_is_labelled_at_the_edge_not_squashing_the_curves(
    default_settings: Settings,
) -> None:
    base = overfit_history()
    decades = curve("val_loss", np.geomspace(10, 0.01, 40), "val_loss", "val")
    history = History("s", "t", (base.curves[0], decades, *base.curves[2:]))
    far = finding(["val_loss"], {"asymptote": 1e-20}, rule="slow-convergence", code="CD403")
    near = finding(["val_accuracy"], {"asymptote": 1.2}, rule="not-converged", code="CD402")
    loss, acc, _ = build_figure(diagnosed(history, default_settings, far, near), history).panels
    assert loss.log_y
    assert loss.y_range()[0] > 1e-3  # not stretched down to 1e-20
    assert "asymptote 1e-20 ↓" in panel_svg(loss)
    assert acc.y_range()[1] >= 1.2  # a near one widens the axis and is drawn as a line
    assert "asymptote 1.2 ↑" not in panel_svg(acc)


def test_spans_in_another_x_unit_are_not_drawn(default_settings: Settings) -> None:
    history = overfit_history()  # epochs
    stepped = finding(["val_loss"], {"best_x": 130.0}, span=Span(start=100, end=400, x_unit="step"))
    loss = build_figure(diagnosed(history, default_settings, stepped), history).panels[0]
    assert (loss.bands, loss.marks) == ((), ())


@pytest.mark.parametrize(
    "evidence",
    [
        {},
        {"best_x": "epoch 3", "asymptote": None, "onset_x": True},
        {"best_x": math.nan, "max_spike_x": math.inf, "asymptote": -math.inf},
    ],
)
def test_missing_or_odd_evidence_draws_nothing_and_never_fails(
    default_settings: Settings, evidence: dict[str, object]
) -> None:
    history = overfit_history()
    report = diagnosed(history, default_settings, finding(["val_loss"], evidence))
    panel = build_figure(report, history).panels[0]
    assert panel.marks == ()
    assert panel.levels == ()
    assert len(panel.bands) == 1
    assert "<svg" in panel_svg(panel)


def test_without_history_the_sketches_are_drawn(default_settings: Settings) -> None:
    history = overfit_history()
    report = diagnosed(history, default_settings)
    figure = build_figure(Report.model_validate_json(report.to_json()))
    assert [p.title for p in figure.panels] == ["loss", "accuracy", "learning rate"]
    assert sum(xs.size for xs, _ in figure.panels[0].lines[0].segments) == 40


def test_unreadable_report_has_no_panels() -> None:
    figure = build_figure(Report(curvedoc_version="0", source="x", error="bad"))
    assert figure.panels == ()
    assert "no curves to draw" in figure_svg(figure)


# --- ticks and SVG ---------------------------------------------------------------------------


def test_ticks_are_round_numbers_inside_the_range() -> None:
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(3.0, 97.0) == [20.0, 40.0, 60.0, 80.0]
    assert log_ticks(0.005, 20.0) == [0.01, 0.1, 1.0, 10.0]
    assert len(log_ticks(1e-30, 1e30)) <= 7
    assert [tick_label(v) for v in (0, 0.25, 25000, 1.5e6, 1e-4, 2e-5)] == [
        "0",
        "0.25",
        "25k",
        "1.5M",
        "1e-4",
        "2e-5",
    ]


def test_standalone_svg_is_well_formed_xml_with_hostile_names() -> None:
    history = History(
        source=f"runs/{HOSTILE}.json",
        format="t",
        curves=(
            curve(HOSTILE, [1.0, 0.5, 0.25], "train_loss", "train"),
            curve("val_loss\x1b[31m", [1.1, 0.6, 0.5], "val_loss", "val"),
        ),
    )
    report = Report(curvedoc_version="0", source=history.source)
    svg = figure_svg(build_figure(report, history))
    root = ET.fromstring(svg.encode("utf-8"))  # parses: escaped and XML-safe
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(root.itertext())
    assert "<script>alert(1)</script>" in texts  # shown as text ...
    assert "<script" not in svg  # ... never as markup
    assert "\x1b" not in svg


def test_esc_covers_markup_quotes_ampersands_and_controls() -> None:
    assert esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert esc("a\x00b\x1bc\td") == "a\ufffdb\ufffdc\td"


# --- the HTML page --------------------------------------------------------------------------


def html_for(*pairs: tuple[Report, History | None], fail_on: str = "error") -> str:
    context = RenderContext(histories=tuple(h for _, h in pairs))
    return render_html([r for r, _ in pairs], fail_on=fail_on, context=context)


def test_page_is_self_contained_with_a_strict_csp(default_settings: Settings) -> None:
    history = overfit_history()
    page = html_for((diagnosed(history, default_settings), history))
    assert page.startswith("<!DOCTYPE html>")
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "default-src 'none'" in CSP
    lowered = page.lower()
    for forbidden in ("http://", "https://", "<script", "src=", "@import", "url(http", "<link"):
        assert forbidden not in lowered, forbidden
    # The only url() references are same-document clip paths.
    assert set(re.findall(r"url\(([^)]*)\)", page)) <= {
        f"#clip-r1p{i}"
        for i in range(len(build_figure(diagnosed(history, default_settings), history).panels))
    }
    ids = re.findall(r'id="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_page_shows_plots_findings_and_advice_beside_them(default_settings: Settings) -> None:
    history = overfit_history()
    advice = Advice(text="Stop at epoch 13.", param="epochs", action="set", rule="overfitting")
    report = diagnosed(history, default_settings, finding(["val_loss", "loss"], {"best_x": 13}))
    report = report.model_copy(update={"advice": [advice]})
    page = html_for((report, history))
    assert page.count("<figure>") == 3
    assert 'class="card warning"' in page
    assert "What to try" in page
    assert "Stop at epoch 13." in page
    assert page.index("<figure>") < page.index('class="card warning"')  # plots, then findings
    assert 'class="band"' in page  # the overfitting span is shaded
    assert 'class="mark"' in page  # and the best checkpoint marked
    assert "runs/exp1/history.json" in page


def test_several_runs_start_with_an_overview_linking_to_each(default_settings: Settings) -> None:
    history = overfit_history()
    report = diagnosed(history, default_settings)
    broken = Report(curvedoc_version="0", source="runs/broken.csv", error="line 3: bad")
    page = html_for((report, history), (broken, None))
    assert page.index('id="overview"') < page.index('id="run-1"') < page.index('id="run-2"')
    assert 'href="#run-1"' in page
    assert 'href="#run-2"' in page
    assert "2 runs: 1 unreadable" in page
    assert "line 3: bad" in page
    single = html_for((report, history))
    assert 'id="overview"' not in single


def test_hostile_text_is_escaped_everywhere_on_the_page(default_settings: Settings) -> None:
    history = History(
        source=f"runs/{HOSTILE}.json",
        format="t",
        curves=(
            curve(HOSTILE, [1 / (i + 1) for i in range(30)], "train_loss", "train"),
            curve("val_loss", [0.5] * 30, "val_loss", "val"),
        ),
        meta={HOSTILE: HOSTILE},
        notes=(HOSTILE,),
    )
    report = diagnosed(
        history, default_settings, finding([HOSTILE], {"note": HOSTILE}, message=HOSTILE)
    )
    report = report.model_copy(update={"meta": {HOSTILE: HOSTILE}})
    page = html_for((report, history))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&#x27;&amp;amp;" in page  # quotes and the ampersand, escaped


def test_million_point_log_gives_a_small_page(default_settings: Settings) -> None:
    n = 1_000_000
    rng = np.random.default_rng(1)
    x = np.arange(n, dtype=np.float64)
    loss = 2 * np.exp(-x / 2e5) + 0.05 * rng.random(n)
    history = History(
        source="big.csv",
        format="t",
        curves=(
            curve("loss", loss, "train_loss", "train", x=x, x_unit="step"),
            curve("grad_norm", 1 + rng.random(n), "grad_norm", "train", x=x, x_unit="step"),
        ),
    )
    report = Report(curvedoc_version="0", source="big.csv")
    page = html_for((report, history))
    assert len(page.encode("utf-8")) < 250_000


def test_html_is_registered() -> None:
    assert render("html", []).startswith("<!DOCTYPE html>")


REAL_LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "real-logs"


@pytest.mark.skipif(not REAL_LOGS.is_dir(), reason=f"real logs not found at {REAL_LOGS}")
def test_every_real_log_is_drawn() -> None:
    from curvedoc.api import load

    logs = sorted(p for p in REAL_LOGS.iterdir() if p.is_dir())
    drawn = 0
    for folder in logs:
        for path in sorted(folder.iterdir()):
            history = load(path)
            figure = build_figure(Report(curvedoc_version="0", source=str(path)), history)
            assert figure.panels, path
            assert sum(len(p.lines) for p in figure.panels) == len(history.curves)
            root = ET.fromstring(figure_svg(figure).encode("utf-8"))
            assert sum(1 for el in root.iter() if el.tag.endswith("polyline")) >= 1, path
            drawn += 1
    assert drawn >= 10
