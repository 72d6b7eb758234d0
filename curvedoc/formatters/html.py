"""The HTML report: one self-contained file that works offline and that people want to open.

Per run: every curve plotted (:mod:`curvedoc.formatters.figure`, drawn as inline SVG by
:mod:`curvedoc.formatters.svg` — see there why not a plotting library), each finding drawn on
its curve, the findings and the advice beside the plots, and the details (curves, skipped rules,
notes) folded underneath. For several runs an overview table comes first, linking to each run.

Safety and weight, by construction rather than by care:

* No script, no external font, stylesheet or image: the page declares the Content Security
  Policy ``default-src 'none'; style-src 'unsafe-inline'; img-src data:``, so even a bug could not
  make the browser fetch anything. Tooltips are SVG ``<title>`` elements and folding is
  ``<details>``, both native.
* Every string that comes from a log (source path, curve names, messages, advice, notes, meta) is
  escaped with :func:`~curvedoc.formatters.svg.esc`: a metric called ``<script>alert(1)</script>``
  is shown as text.
* Long curves are downsampled per pixel column, so a 10^6-point log yields a small page.

Light and dark colour schemes follow the reader's system setting.
"""

from __future__ import annotations

from collections.abc import Sequence

from curvedoc.formatters.common import (
    RenderContext,
    clean_message,
    error_line,
    fails,
    findings_count,
    fmt_num,
    fmt_span,
    fmt_x,
    run_facts,
    run_status,
    total_line,
)
from curvedoc.formatters.figure import build_figure
from curvedoc.formatters.svg import FONT, PALETTE, SEVERITY_COLORS, esc, panel_svg
from curvedoc.model import CurveSummary, Finding, Report

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_DARK_SEVERITY = {"error": "#ff7b72", "warning": "#d29922", "info": "#58a6ff"}


def _css() -> str:
    light_sev = "".join(f"--{s}:{c};" for s, c in SEVERITY_COLORS.items())
    dark_sev = "".join(f"--{s}:{c};" for s, c in _DARK_SEVERITY.items())
    curves = "".join(f".cd .s{i}{{stroke:{c}}}.cd .f{i}{{fill:{c}}}" for i, c in enumerate(PALETTE))
    sev = "".join(
        f".cd .sev-{s} .band{{fill:var(--{s});fill-opacity:.14}}"
        f".cd .sev-{s} .edge{{stroke:var(--{s})}}"
        f".cd .sev-{s} .mark{{stroke:var(--{s});fill:var(--panel)}}"
        f".badge.{s}{{background:var(--{s})}}.card.{s}{{border-left-color:var(--{s})}}"
        for s in SEVERITY_COLORS
    )
    return (
        ":root{color-scheme:light dark;--bg:#f6f8fa;--panel:#fff;--fg:#1f2328;--muted:#59636e;"
        f"--line:#d0d7de;--grid:#eaeef2;--ok:#1a7f37;--bad:#cf222e;{light_sev}}}"
        "@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--panel:#161b22;--fg:#e6edf3;"
        f"--muted:#9198a1;--line:#3d444d;--grid:#262c36;--ok:#3fb950;--bad:#f85149;{dark_sev}}}}}"
        f"*{{box-sizing:border-box}}body{{margin:0;background:var(--bg);color:var(--fg);"
        f"font:14px/1.45 {FONT}}}"
        "main{max-width:1500px;margin:0 auto;padding:20px 24px 40px}"
        "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0;word-break:break-all}"
        "h3{font-size:14px;margin:16px 0 8px}"
        ".muted{color:var(--muted)}.small{font-size:12px}"
        "section.run{background:var(--panel);border:1px solid var(--line);border-radius:8px;"
        "padding:16px 18px;margin:18px 0}"
        ".head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}"
        ".layout{display:grid;grid-template-columns:minmax(0,1fr) minmax(300px,420px);gap:18px;"
        "margin-top:12px}@media (max-width:1000px){.layout{grid-template-columns:1fr}}"
        ".plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:10px;"
        "align-content:start}"
        "figure{margin:0;border:1px solid var(--line);border-radius:6px;overflow:hidden}"
        "figure svg{display:block;width:100%;height:auto}"
        ".badge{display:inline-block;color:#fff;border-radius:10px;padding:0 8px;font-size:12px;"
        "font-weight:600;white-space:nowrap}.badge.clean{background:var(--ok)}"
        ".badge.unreadable{background:var(--bad)}"
        ".card{border:1px solid var(--line);border-left:4px solid var(--line);border-radius:6px;"
        "padding:8px 10px;margin:0 0 10px}.card p{margin:4px 0}"
        ".card .title{font-weight:600}.card ul{margin:4px 0 0;padding-left:18px}"
        "table{border-collapse:collapse;width:100%;font-size:13px}"
        "th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);"
        "vertical-align:top}th{font-weight:600}td.num{text-align:right;"
        "font-variant-numeric:tabular-nums;white-space:nowrap}"
        "details{margin-top:10px}summary{cursor:pointer;color:var(--muted)}"
        ".ok{color:var(--ok);font-weight:600}.error-box{color:var(--bad);font-weight:600}"
        "a{color:inherit}.chips span{display:inline-block;border:1px solid var(--line);"
        "border-radius:10px;padding:0 8px;margin:2px 4px 2px 0;font-size:12px}"
        "ol.advice{padding-left:20px;margin:4px 0}ol.advice li{margin:0 0 6px}"
        "svg.spark{width:120px;height:22px;vertical-align:middle}"
        ".spark polyline{fill:none;stroke:var(--muted);stroke-width:1.4}"
        # The plot classes, as in svg.STYLE but following the page's colour scheme.
        ".cd{font-size:11px;fill:var(--fg)}.cd .bg,.cd .area{fill:var(--panel)}"
        ".cd .area{stroke:var(--line)}.cd .grid{stroke:var(--grid)}.cd .tick{fill:var(--muted)}"
        ".cd .title{font-weight:600;font-size:12px}"
        ".cd .curve{fill:none;stroke-width:1.6;stroke-linejoin:round;stroke-linecap:round}"
        ".cd .dashed{stroke-dasharray:5 3}.cd .edge{stroke-width:1.2;stroke-dasharray:3 3;"
        "fill:none}.cd .mark{stroke-width:1.8}.cd .nan{stroke:var(--bad);stroke-width:1.5}"
        + curves
        + sev
    )


def _badge(report: Report, fail_on: str) -> str:
    status = run_status(report)
    text = {"unreadable": "unreadable", "clean": "clean"}.get(status, status)
    if report.findings:
        text = findings_count(report).split(":")[0]
        if fails(report, fail_on):
            text += " · fails"
    return f'<span class="badge {status}">{esc(text)}</span>'


def _spark(curve: CurveSummary) -> str:
    values = [v for v in curve.sketch if v is not None]
    if len(values) < 2:
        return ""
    lo, hi = min(values), max(values)
    n = len(curve.sketch)
    pts = []
    for i, v in enumerate(curve.sketch):
        if v is not None:
            y = 11.0 if hi == lo else 20 - (v - lo) / (hi - lo) * 18
            pts.append(f"{i * 118 / max(1, n - 1) + 1:.1f},{y:.1f}")
    return (
        f'<svg class="spark" viewBox="0 0 120 22" role="img" aria-label="{esc(curve.name)}">'
        f'<polyline points="{" ".join(pts)}"/></svg>'
    )


def _headline(report: Report) -> CurveSummary | None:
    for role in ("val_loss", "val_metric", "train_loss", "train_metric"):
        for c in report.curves:
            if c.role == role:
                return c
    return report.curves[0] if report.curves else None


def _overview(reports: Sequence[Report], fail_on: str) -> list[str]:
    rows = []
    for i, r in enumerate(reports, start=1):
        head = _headline(r)
        curve = best = final = spark = ""
        if head is not None:
            curve = esc(head.name)
            best = fmt_num(head.best)
            if head.best_x is not None:
                best += f" @ {esc(head.x_unit)} {fmt_x(head.best_x)}"
            final, spark = fmt_num(head.final), _spark(head)
        rules = ", ".join(dict.fromkeys(f.rule for f in r.findings))
        rows.append(
            f'<tr><td><a href="#run-{i}">{esc(r.source)}</a></td><td>{_badge(r, fail_on)}</td>'
            f"<td>{esc(rules)}</td><td>{curve}</td><td class=num>{best}</td>"
            f"<td class=num>{final}</td><td>{spark}</td></tr>"
        )
    return [
        '<section class="run" id="overview"><h2>Overview</h2>',
        f'<p class="muted">{esc(total_line(reports))}</p>',
        "<table><thead><tr><th>Run</th><th>Status</th><th>Findings</th><th>Main curve</th>"
        "<th>Best</th><th>Final</th><th>Shape</th></tr></thead><tbody>",
        *rows,
        "</tbody></table></section>",
    ]


def _evidence(f: Finding) -> str:
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td class=num>"
        f"{esc(fmt_num(v) if isinstance(v, float) else str(v))}</td></tr>"
        for k, v in f.evidence.items()
    )
    return f"<details><summary>evidence</summary><table>{rows}</table></details>"


def _finding(f: Finding) -> str:
    where = fmt_span(f.span.start, f.span.end, f.span.x_unit)
    curves = ", ".join(f.curves)
    return (
        f'<div class="card {f.severity}"><div><span class="badge {f.severity}">'
        f"{esc(f.severity)}</span> <span class=title>{esc(f.code)} {esc(f.rule)}</span></div>"
        f'<p class="muted small">{esc(where)} · {esc(curves)} · {esc(f.confidence)} confidence'
        f"</p><p>{esc(f.message)}</p>" + _evidence(f) + "</div>"
    )


def _curves_table(report: Report) -> str:
    rows = []
    for c in report.curves:
        best = fmt_num(c.best)
        if c.best_x is not None:
            best += f" @ {fmt_x(c.best_x)}"
        bad = f"{c.non_finite}" if c.non_finite else ""
        rows.append(
            f"<tr><td>{esc(c.name)}</td><td>{esc(c.role)}</td><td>{esc(c.direction)}</td>"
            f"<td class=num>{c.points}</td><td class=num>{bad}</td>"
            f"<td class=num>{fmt_num(c.first)}</td><td class=num>{esc(best)}</td>"
            f"<td class=num>{fmt_num(c.final)}</td><td>{_spark(c)}</td></tr>"
        )
    return (
        f"<details><summary>Curves ({len(report.curves)})</summary><table><thead><tr>"
        "<th>Curve</th><th>Role</th><th>Better</th><th>Points</th><th>Non-finite</th>"
        "<th>First</th><th>Best</th><th>Final</th><th>Shape</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></details>"
    )


def _listing(title: str, items: Sequence[str]) -> str:
    if not items:
        return ""
    lis = "".join(f"<li>{esc(i)}</li>" for i in items)
    return f"<details><summary>{esc(title)} ({len(items)})</summary><ul>{lis}</ul></details>"


def _run(report: Report, index: int, fail_on: str, context: RenderContext | None) -> list[str]:
    out = [
        f'<section class="run" id="run-{index}">',
        f'<div class="head">{_badge(report, fail_on)}<h2>{esc(report.source)}</h2></div>',
    ]
    if report.error is not None:
        out += [f'<p class="error-box">{esc(error_line(report))}</p>', "</section>"]
        return out
    out.append(f'<p class="muted">{esc(" · ".join(run_facts(report)))}</p>')
    if report.meta:
        chips = "".join(
            f"<span>{esc(k)} {esc(fmt_num(v) if isinstance(v, float) else str(v))}</span>"
            for k, v in report.meta.items()
        )
        out.append(f'<div class="chips">{chips}</div>')
    history = context.history_of(index - 1) if context is not None else None
    figure = build_figure(report, history)
    plots = [
        f"<figure>{panel_svg(p, uid=f'r{index}p{i}')}</figure>" for i, p in enumerate(figure.panels)
    ]
    if history is None and figure.panels:
        plots.append(
            '<p class="muted small">Drawn from the report\'s curve sketches (48 buckets a curve);'
            " every point is drawn when the report is made from the log itself.</p>"
        )
    side: list[str] = []
    if report.findings:
        side.append(f"<h3>{esc(findings_count(report))}</h3>")
        side += [_finding(f) for f in report.findings]
    else:
        side.append(f'<p class="ok">✓ {esc(clean_message(report))}.</p>')
    if report.advice:
        items = "".join(
            f'<li>{esc(a.text)} <span class="muted small">({esc(a.rule)})</span></li>'
            for a in report.advice
        )
        side.append(f'<h3>What to try</h3><ol class="advice">{items}</ol>')
    out.append('<div class="layout"><div class="plots">')
    out += plots or ['<p class="muted">No curves to draw.</p>']
    out.append("</div><aside>")
    out += side
    out.append("</aside></div>")
    out.append(_curves_table(report))
    crashed = [f"{e.rule} ({e.code}): {e.error}" for e in report.errors]
    out.append(_listing("Rules that crashed (their results are missing)", crashed))
    out.append(
        _listing("Skipped rules", [f"{s.rule} ({s.code}): {s.reason}" for s in report.skipped])
    )
    out.append(_listing("Notes", report.notes))
    out.append("</section>")
    return out


def render_html(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
    context: RenderContext | None = None,
) -> str:
    """The whole page. ``context.histories`` (parallel to ``reports``) gives every point."""
    # The overview of several runs carries the total line; one run needs none.
    title = (
        f"curvedoc: {reports[0].source}" if len(reports) == 1 else f"curvedoc: {len(reports)} runs"
    )
    heading = "curvedoc report" if len(reports) == 1 else title
    version = next((r.curvedoc_version for r in reports), "")
    body: list[str] = []
    if len(reports) > 1:
        body += _overview(reports, fail_on)
    for i, report in enumerate(reports, start=1):
        body += _run(report, i, fail_on, context)
    gate = "never fails" if fail_on == "never" else f"fails on {fail_on} and above"
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                '<meta name="generator" content="curvedoc">',
                f"<title>{esc(title)}</title>",
                f"<style>{_css()}</style></head><body><main>",
                f"<header><h1>{esc(heading)}</h1>",
                f'<p class="muted">gate: {esc(gate)} · '
                f"curvedoc {esc(version)} · a self-contained page: no scripts, no network</p>"
                "</header>",
                *body,
                "</main></body></html>",
            ]
        )
        + "\n"
    )
