"""The command line: ``curvedoc diagnose | report | plot | compare | rules | explain | schema``.

Exit codes follow ruff/mypy (FORMATS.md B1): 0 = nothing at or above ``--fail-on``; 1 = a finding
at or above it (for ``compare``: a regression); 2 = a usage or configuration error, an unreadable
input, or a curvedoc bug. With several inputs an unreadable one does not stop the others: all are
diagnosed and printed, then the exit code is 2. Errors are one line on stderr
(``curvedoc: error: ...``), never a traceback; ``--debug`` shows the traceback of an internal
error.

A folder argument that is not itself a run (say ``runs/`` holding ``exp1/`` and ``exp2/``) is
expanded one level: each entry in it that reads as a run is diagnosed as its own input.

Heavy modules (the engine, numpy, rich, pydantic) are imported inside the commands, so
``curvedoc --version`` and ``--help`` answer at once.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import inspect
import io
import json
import os
import sys
import textwrap
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from curvedoc._version import __version__
from curvedoc.errors import ConfigError, CurvedocError, InputError

if TYPE_CHECKING:
    from curvedoc.formatters.common import RenderContext, RuleRef
    from curvedoc.model import History, Report
    from curvedoc.packs import Settings

PROG = "curvedoc"
#: The keys of ``curvedoc.formatters.FORMATTERS`` (spelled out so ``--help`` imports nothing).
FORMAT_CHOICES = ("terminal", "json", "markdown", "html", "github", "junit", "sarif", "gitlab")
#: GitHub fails a job summary larger than 1 MiB; stay under it.
STEP_SUMMARY_LIMIT = 1_000_000
FAIL_ON_CHOICES = ("error", "warning", "info", "never")
COLOR_CHOICES = ("auto", "always", "never")
MIN_WIDTH = 40
EXPLAIN_WIDTH = 96


# -- small helpers ----------------------------------------------------------------------------
def _err(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def use_color(mode: str, stream: TextIO) -> bool:
    """Decide whether to write ANSI color, in the precedence of FORMATS.md B8.

    ``--color always|never`` wins; then ``NO_COLOR`` (any non-empty value) turns color off; then
    ``FORCE_COLOR`` (any non-empty value, ``0`` included, as rich reads it) turns it on; then a
    dumb terminal is plain; otherwise color exactly when ``stream`` is a terminal.
    """
    if mode != "auto":
        return mode == "always"
    env = os.environ
    if env.get("NO_COLOR", ""):
        return False
    if env.get("FORCE_COLOR", ""):
        return True
    if env.get("TERM", "") in ("dumb", "unknown"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def terminal_width() -> int:
    """The width to lay terminal output out in: ``COLUMNS``, the terminal's, or 100 when piped.

    ``shutil.get_terminal_size``'s rules, without importing shutil (and its compression
    modules) on every run."""
    columns = 0
    with contextlib.suppress(ValueError):
        columns = int(os.environ.get("COLUMNS", "0"))
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return max(MIN_WIDTH, columns or 100)


def _split_assignment(text: str, flag: str) -> tuple[str, str]:
    """``NAME=VALUE`` → (NAME, VALUE), split at the last ``=`` (a column name may hold one)."""
    name, eq, value = text.rpartition("=")
    if not eq or not name.strip() or not value.strip():
        raise ConfigError(f"expected NAME=VALUE, got {text!r}", field=flag)
    return name.strip(), value.strip()


def _parse_outputs(
    values: Sequence[str], choices: Sequence[str] = FORMAT_CHOICES
) -> list[tuple[str, Path]]:
    outputs = []
    for text in values:
        fmt, eq, file = text.partition("=")
        if not eq or not file:
            raise ConfigError(f"expected FORMAT=FILE, got {text!r}", field="--output")
        if fmt not in choices:
            raise ConfigError(
                f"unknown format {fmt!r} (choose from {', '.join(choices)})",
                field="--output",
            )
        outputs.append((fmt, Path(file)))
    return outputs


def _write_stdout(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _write_file(path: Path, text: str) -> None:
    try:
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None


# -- commands ---------------------------------------------------------------------------------
def _settings(args: argparse.Namespace) -> Settings:
    from curvedoc.packs import resolve_settings

    columns = dict(_split_assignment(c, "--column") for c in args.column)
    directions = dict(_split_assignment(d, "--direction") for d in args.direction)
    config: str | None = None if args.isolated else (args.config or "auto")
    return resolve_settings(
        rules=args.rules,
        select=args.select,
        ignore=args.ignore,
        set_params=args.set,
        columns=columns,
        directions=directions,
        config=config,
        fail_on=args.fail_on,
        hparams=args.hparam,
    )


def collect_runs(
    paths: Sequence[str],
    settings: Settings,
    *,
    keep_histories: bool,
    jobs: int | None = None,
    pattern: str | None = None,
) -> list[tuple[Report, History | None]]:
    """Diagnose every input: a folder is searched for the runs beneath it (every Lightning
    ``version_N``, the latest HF checkpoint, each MLflow run, ...), a file holding several runs
    gives one report per run, ``-`` reads standard input; several runs go to ``jobs`` worker
    processes (:mod:`curvedoc.sweep`). Histories are kept only when an output draws the curves
    (they are as large as the log)."""
    from curvedoc.sweep import diagnose_many_with_histories

    return diagnose_many_with_histories(
        paths, settings=settings, jobs=jobs, pattern=pattern, keep=keep_histories
    )


def rule_refs(settings: Settings) -> tuple[RuleRef, ...]:
    """The selected rules, described for the CI formats (JUnit cases, SARIF rules)."""
    from curvedoc.detectors import get_detector
    from curvedoc.formatters.common import RuleRef

    refs = []
    for name in settings.selected:
        det = get_detector(name)
        cfg = settings.pack.rules.get(det.name)
        refs.append(
            RuleRef(
                code=det.code,
                name=det.name,
                summary=det.summary,
                help=inspect.cleandoc(det.__doc__ or det.summary),
                severity=cfg.severity if cfg else None,
            )
        )
    return tuple(refs)


def _append_step_summary(markdown: str) -> None:
    """Append the markdown report to ``$GITHUB_STEP_SUMMARY`` (kept under GitHub's 1 MiB)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY", "")
    if not target:
        return
    data = markdown.encode("utf-8")
    if len(data) > STEP_SUMMARY_LIMIT:
        cut = data[:STEP_SUMMARY_LIMIT].decode("utf-8", "ignore").rsplit("\n", 1)[0]
        markdown = cut + "\n\n_(truncated: a job summary is limited to 1 MiB)_\n"
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as exc:
        _err(f"cannot append to GITHUB_STEP_SUMMARY ({target}): {exc.strerror or exc}")


def _finish(reports: Sequence[Report], fail_on: str, *, errors_shown: bool) -> int:
    from curvedoc.formatters.common import error_line, fails

    unreadable = [r for r in reports if r.error is not None]
    if not errors_shown:
        for report in unreadable:
            _err(error_line(report))
    crashed = [(r, e) for r in reports for e in r.errors]
    for report, e in crashed:
        # A rule that crashed leaves the diagnosis incomplete: a gate must not pass on it.
        _err(f"{report.source}: rule {e.rule} ({e.code}) crashed: {e.error}")
    if unreadable or crashed:
        return 2
    return 1 if any(fails(r, fail_on) for r in reports) else 0


def _prepare(
    args: argparse.Namespace, *, keep_histories: bool
) -> tuple[list[Report], RenderContext, str]:
    """Settings, every run diagnosed, the baseline applied: what every report command needs."""
    from curvedoc.formatters.common import RenderContext

    settings = _settings(args)
    known = None
    if getattr(args, "baseline", None):
        from curvedoc.baseline import load_baseline

        known = load_baseline(args.baseline)
    pairs = collect_runs(
        args.paths,
        settings,
        keep_histories=keep_histories,
        jobs=getattr(args, "jobs", None),
        pattern=getattr(args, "pattern", None),
    )
    reports = [r for r, _ in pairs]
    if known is not None:
        from curvedoc.baseline import apply_baseline

        reports = apply_baseline(reports, known, args.baseline)
    context = RenderContext(histories=tuple(h for _, h in pairs), rules=rule_refs(settings))
    return reports, context, settings.fail_on or "error"


def cmd_diagnose(args: argparse.Namespace) -> int:
    from curvedoc.formatters import render

    outputs = _parse_outputs(args.output)
    wants_plots = "html" in (args.format, *(fmt for fmt, _ in outputs))
    reports, context, fail_on = _prepare(args, keep_histories=wants_plots)

    color = args.format == "terminal" and use_color(args.color, sys.stdout)
    width = terminal_width() if args.format == "terminal" else None
    _write_stdout(
        render(args.format, reports, fail_on=fail_on, color=color, width=width, context=context)
    )
    for fmt, file in outputs:
        _write_file(file, render(fmt, reports, fail_on=fail_on, context=context))
    if args.format == "github":
        _append_step_summary(render("markdown", reports, fail_on=fail_on))
    # The terminal report already shows the unreadable inputs' error lines.
    return _finish(reports, fail_on, errors_shown=args.format == "terminal")


def cmd_report(args: argparse.Namespace) -> int:
    from curvedoc.formatters import render
    from curvedoc.formatters.common import total_line

    reports, context, fail_on = _prepare(args, keep_histories=True)
    target = Path(args.output)
    _write_file(target, render("html", reports, fail_on=fail_on, context=context))
    _write_stdout(f"{PROG}: wrote {target} ({total_line(reports)})")
    return _finish(reports, fail_on, errors_shown=False)


def cmd_plot(args: argparse.Namespace) -> int:
    from curvedoc.formatters.figure import build_figure
    from curvedoc.plot import plot_format, write_plot

    target = Path(args.output)
    plot_format(target)  # a bad file name is an error before any work
    pairs = collect_runs(
        [args.path], _settings(args), keep_histories=True, pattern=getattr(args, "pattern", None)
    )
    if len(pairs) != 1:
        raise ConfigError(
            f"{args.path} holds {len(pairs)} runs; plot draws one (give one run's path)"
        )
    report, history = pairs[0]
    if report.error is not None:
        from curvedoc.formatters.common import error_line

        raise InputError(error_line(report))
    try:
        write_plot(build_figure(report, history), target)
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror or exc}", path=str(target)) from None
    _write_stdout(f"{PROG}: wrote {target}")
    return 0


def _compare_input(path: str, settings: Settings) -> Report:
    from curvedoc.api import diagnose_path
    from curvedoc.compare import read_report_file
    from curvedoc.formatters.common import error_line

    report = read_report_file(Path(path)) or diagnose_path(path, settings)
    if report.error is not None:
        raise InputError(error_line(report))
    return report


def cmd_compare(args: argparse.Namespace) -> int:
    from curvedoc.compare import compare_reports
    from curvedoc.compare_output import COMPARE_FORMATS, render_comparison

    outputs = _parse_outputs(args.output, COMPARE_FORMATS)
    settings = _settings(args)
    comparison = compare_reports(
        _compare_input(args.baseline, settings),
        _compare_input(args.candidate, settings),
        tolerance=args.tolerance,
        fail_on=settings.fail_on or "error",
        metrics=[m.strip() for spec in args.metric or [] for m in spec.split(",") if m.strip()],
    )
    color = args.format == "terminal" and use_color(args.color, sys.stdout)
    width = terminal_width() if args.format == "terminal" else None
    _write_stdout(render_comparison(args.format, comparison, color=color, width=width))
    for fmt, file in outputs:
        _write_file(file, render_comparison(fmt, comparison))
    return 1 if comparison.regressed else 0


def _rule_rows() -> list[dict[str, Any]]:
    from curvedoc.detectors import DETECTORS
    from curvedoc.packs import load_pack

    pack = load_pack("default")
    rows = []
    for det in DETECTORS:
        cfg = pack.rules.get(det.name)
        rows.append(
            {
                "code": det.code,
                "name": det.name,
                "severity": cfg.severity if cfg else None,
                "enabled": cfg.enabled if cfg else False,
                "summary": det.summary,
            }
        )
    return rows


def cmd_rules(args: argparse.Namespace) -> int:
    rows = _rule_rows()
    if args.format == "json":
        _write_stdout(json.dumps(rows, indent=2))
        return 0
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from curvedoc.formatters.terminal import SEVERITY_STYLES, make_console

    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), expand=False
    )
    for column in ("code", "name", "severity", "enabled"):
        table.add_column(column, no_wrap=True)
    table.add_column("summary")
    for row in rows:
        severity = row["severity"] or "–"
        table.add_row(
            Text(row["code"]),
            Text(row["name"], style="bold"),
            Text(severity, style=SEVERITY_STYLES.get(severity, "")),
            Text("yes" if row["enabled"] else "no", style="" if row["enabled"] else "dim"),
            Text(row["summary"]),
        )
    buf = io.StringIO()
    console = make_console(buf, color=use_color(args.color, sys.stdout), width=terminal_width())
    console.print(table)
    _write_stdout("\n".join(line.rstrip() for line in buf.getvalue().splitlines()))
    return 0


def _toml_value(value: Any) -> str:
    """A parameter value as it would be written in a rule pack."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text, width=EXPLAIN_WIDTH, subsequent_indent=indent, break_on_hyphens=False
    )


def explain_text(rule: str) -> str:
    """What ``curvedoc explain RULE`` prints (raises UnknownRuleError for an unknown rule)."""
    from curvedoc.detectors import get_detector
    from curvedoc.packs import load_pack

    det = get_detector(rule)
    cfg = load_pack("default").rules.get(det.name)
    lines = [f"{det.name} ({det.code})", "", inspect.cleandoc(det.__doc__ or det.summary), ""]
    if cfg is None:
        lines.append("The default pack does not configure this rule.")
        return "\n".join(lines)
    state = "enabled" if cfg.enabled else "disabled"
    lines += [f"Default severity: {cfg.severity} ({state} by default)", ""]
    if cfg.params:
        lines.append("Default parameters (set with --set " + det.name + ".PARAM=VALUE):")
        lines += [f"  {name} = {_toml_value(value)}" for name, value in cfg.params.items()]
        lines.append("")
    keys = [*det.evidence_keys, *det.optional_evidence_keys]
    if keys:
        lines += _wrap("Evidence (placeholders for advice templates): " + ", ".join(keys), "  ")
        lines.append("")
    if cfg.advice:
        lines.append("Advice templates:")
        for template in cfg.advice:
            knob = f"{template.action} {template.param}"
            if isinstance(template.factor, (int, float)):
                knob += f" ×{template.factor:g}"
            elif template.factor is not None:
                knob += f" ×{{{template.factor}}}"
            lines += _wrap(f"  - [{knob}] {template.text}", "    ")
            if template.fallback:
                lines += _wrap(f"    fallback: {template.fallback}", "      ")
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def cmd_explain(args: argparse.Namespace) -> int:
    _write_stdout(explain_text(args.rule))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from curvedoc.model import Report

    _write_stdout(json.dumps(Report.model_json_schema(), indent=2))
    return 0


# -- parser -----------------------------------------------------------------------------------
def _debug_parent() -> argparse.ArgumentParser:
    # SUPPRESS as the default, so a subcommand does not reset a --debug given before it.
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an internal error",
    )
    return parent


#: The console-log patterns shipped in :data:`curvedoc.readers.text_log.PATTERNS`, named here so
#: building the parser does not import the readers (``--version`` must stay instant); a test
#: keeps the two in step.
PATTERN_NAMES = ("keras", "lightgbm", "nanogpt", "xgboost")


def _pattern_names() -> list[str]:
    return list(PATTERN_NAMES)


def _settings_parent() -> argparse.ArgumentParser:
    """The options that decide how a log is diagnosed, shared by every command that diagnoses."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--fail-on",
        choices=FAIL_ON_CHOICES,
        default=None,
        help="exit 1 on a finding at or above this severity (default: error, or [tool.curvedoc])",
    )
    parent.add_argument("--rules", metavar="FILE", help="a rule pack (TOML file or built-in name)")
    parent.add_argument(
        "--select",
        action="append",
        metavar="RULE,...",
        help="run only these rules (codes or names; repeatable)",
    )
    parent.add_argument(
        "--ignore", action="append", metavar="RULE,...", help="skip these rules (repeatable)"
    )
    parent.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="RULE.PARAM=VALUE",
        help="override a rule parameter, severity or enabled (repeatable)",
    )
    parent.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="NAME=ROLE",
        help="treat column NAME as ROLE (train_loss, val_loss, ..., ignore; repeatable)",
    )
    parent.add_argument(
        "--direction",
        action="append",
        default=[],
        metavar="NAME=min|max",
        help="whether lower or higher is better for metric NAME (repeatable)",
    )
    parent.add_argument(
        "--pattern",
        metavar="NAME|REGEX",
        help="read plain-text console logs with this pattern: a shipped name ("
        + ", ".join(_pattern_names())
        + ") or a regex with named groups (step/iter/epoch for x, the others are curves)",
    )
    parent.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="diagnose several runs in N worker processes (default: the number of CPUs, when "
        "the runs are many or large enough to pay for starting the workers)",
    )
    parent.add_argument(
        "--hparam",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a hyperparameter the log does not hold, for the advice to quote "
        "(learning_rate=3e-4, batch_size=64, weight_decay=0.01; repeatable)",
    )
    cfg = parent.add_mutually_exclusive_group()
    cfg.add_argument("--config", metavar="PYPROJECT", help="read [tool.curvedoc] from this file")
    cfg.add_argument("--isolated", action="store_true", help="ignore pyproject.toml settings")
    return parent


def build_parser() -> argparse.ArgumentParser:
    debug = _debug_parent()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Diagnose training curves: what went wrong, where, how sure, what to change.",
        parents=[debug],
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    settings = _settings_parent()
    d = sub.add_parser(
        "diagnose",
        parents=[debug, settings],
        help="diagnose one or more training logs",
        description="Diagnose training logs. Exit 0: nothing at or above --fail-on; 1: findings"
        " at or above it; 2: usage/config error, an unreadable input or a crashed rule.",
    )
    d.add_argument("paths", nargs="+", metavar="PATH", help="a training log file or run folder")
    d.add_argument(
        "--format",
        choices=FORMAT_CHOICES,
        default="terminal",
        help="stdout format (github also appends markdown to $GITHUB_STEP_SUMMARY when set)",
    )
    d.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="FORMAT=FILE",
        help="also write FORMAT to FILE (repeatable), e.g. html=report.html sarif=out.sarif",
    )
    d.add_argument(
        "--baseline",
        metavar="OLD.json",
        help="report and fail only on findings that are not in this earlier JSON report",
    )
    d.add_argument("--color", choices=COLOR_CHOICES, default="auto", help="terminal colors")
    d.set_defaults(handler=cmd_diagnose)

    rep = sub.add_parser(
        "report",
        parents=[debug, settings],
        help="write a self-contained HTML report (plots, findings, advice)",
        description="Diagnose training logs and write one offline HTML file. Exit codes as for"
        " diagnose.",
    )
    rep.add_argument("paths", nargs="+", metavar="PATH", help="a training log file or run folder")
    rep.add_argument(
        "-o",
        "--output",
        default="curvedoc-report.html",
        metavar="FILE",
        help="the HTML file to write (default: curvedoc-report.html)",
    )
    rep.add_argument("--baseline", metavar="OLD.json", help="as for diagnose")
    rep.set_defaults(handler=cmd_report)

    p = sub.add_parser(
        "plot",
        parents=[debug, settings],
        help="draw a run's curves and findings to an SVG or PNG file",
        description="Draw the curves of one run, with its findings, to FILE.svg (no extra"
        ' dependency) or FILE.png (needs matplotlib: pip install "curvedoc[plot]").',
    )
    p.add_argument("path", metavar="PATH", help="a training log file or run folder")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="curves.svg or .png")
    p.set_defaults(handler=cmd_plot)

    c = sub.add_parser(
        "compare",
        parents=[debug, settings],
        help="compare a candidate run with a baseline run (a regression gate)",
        description="Compare two runs of the same training job: best and final value per metric"
        " and the findings that appeared or went away. Each input is a training log or a curvedoc"
        " JSON report. Exit 0: no regression; 1: a regression; 2: an error.",
    )
    c.add_argument("baseline", metavar="BASELINE", help="the reference run (log or JSON report)")
    c.add_argument("candidate", metavar="CANDIDATE", help="the new run (log or JSON report)")
    c.add_argument(
        "--tolerance",
        type=float,
        default=0.02,
        metavar="FRACTION",
        help="how much worse (relative) a metric may get before it is a regression (0.02 = 2%%)",
    )
    c.add_argument(
        "--metric",
        action="append",
        metavar="NAME,...",
        help="gate on these curves (default: the validation losses and metrics)",
    )
    c.add_argument(
        "--format", choices=("terminal", "json", "markdown"), default="terminal", help="stdout"
    )
    c.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="FORMAT=FILE",
        help="also write FORMAT (terminal, json, markdown) to FILE (repeatable)",
    )
    c.add_argument("--color", choices=COLOR_CHOICES, default="auto", help="terminal colors")
    c.set_defaults(handler=cmd_compare)

    r = sub.add_parser("rules", parents=[debug], help="list the rules with their defaults")
    r.add_argument("--format", choices=("terminal", "json"), default="terminal")
    r.add_argument("--color", choices=COLOR_CHOICES, default="auto")
    r.set_defaults(handler=cmd_rules)

    e = sub.add_parser("explain", parents=[debug], help="explain a rule (code or name)")
    e.add_argument("rule", metavar="RULE")
    e.set_defaults(handler=cmd_explain)

    s = sub.add_parser("schema", parents=[debug], help="print the JSON Schema of a report")
    s.set_defaults(handler=cmd_schema)
    return parser


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 2


#: Thread pools of the BLAS libraries numpy may load. curvedoc's matrices are tiny (a few
#: hundred points), so extra threads only cost start-up CPU (a third of ``import numpy``) and,
#: under ``--jobs``, oversubscribe the cores that the worker processes already use.
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _single_threaded_blas() -> None:
    """One BLAS thread unless the user chose otherwise (only effective before numpy loads)."""
    if "numpy" not in sys.modules:
        for name in _BLAS_THREADS:
            os.environ.setdefault(name, "1")


def _fewer_collections() -> None:
    """Collect cyclic garbage every 100,000 new objects instead of every 700.

    Start-up (importing numpy, building the rule classes) creates tens of thousands of objects
    that live until exit, and the default threshold traversed them in ~50 collections: several
    percent of a 20-epoch diagnosis. A run of the command line makes little cyclic garbage; what
    it makes is still collected."""
    import gc

    gc.set_threshold(100_000, 50, 100)


def run() -> NoReturn:
    """The ``curvedoc`` command (the console script and ``python -m curvedoc``): :func:`main`,
    then exit without tearing the interpreter down.

    Freeing every object of a finished run one by one (module dictionaries, numpy, rich, the
    rule classes) cost about 50 M instructions, 7% of a 20-epoch diagnosis: issue 6 measures
    start-up against ``import numpy``, whose process exits as fast as it starts. Nothing is
    lost: the ``atexit`` handlers run (worker pools, temporary files) and the output is flushed
    before the process ends. :func:`main` itself returns, for callers in Python, and leaves
    their garbage collector as it was."""
    _fewer_collections()
    code = main()
    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)  # CPython's own, as at exit
    if run_exit_functions is not None:
        run_exit_functions()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader went away: the output did not all arrive
            code = code or 1
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code (see :func:`run` for the command)."""
    _single_threaded_blas()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse already printed
        return _exit_status(exc)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except CurvedocError as exc:
        _err(str(exc))
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`curvedoc ... | head`): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        else:
            print(
                f"{PROG}: internal error: {type(exc).__name__}: {exc}"
                " (a bug in curvedoc; rerun with --debug to see the traceback)",
                file=sys.stderr,
            )
        return 2
