"""Hostile text in a log reaches every output format as inert text.

Metric names and file names come from whoever wrote the log — in CI, possibly from a pull request.
They go through the real pipeline here (a file on disk, the reader, the engine) into every format
registered in :data:`curvedoc.formatters.FORMATTERS` *at test time*, so a format added later is
checked too. Each format gets the generic checks (no raw control characters, no line that a CI
runner would take for a workflow command, well-formed JSON/XML when it looks like either) and, for
the formats known today, a check that the hostile text comes back *as text* from a real parser of
that format: rich markup stays literal in the terminal, HTML/Markdown render no element from a
name, GitHub workflow commands stay one command each, JUnit/SARIF/GitLab/JSON round-trip.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from curvedoc.api import diagnose_path_with_history
from curvedoc.cli import main, rule_refs
from curvedoc.formatters import FORMATTERS, RenderContext, render
from curvedoc.model import History, Report, one_line
from curvedoc.packs import Settings, resolve_settings

#: The name from the brief: closes a script block, opens one, rich markup, a table cell break,
#: an encoded newline and a workflow command.
HOSTILE = "</script><script>alert(1)</script>[bold]x[/bold]|%0A::error::"
#: Names with *real* control characters (JSON keys may hold any of them).
NEWLINE_NAME = "loss\n::error::injected"
ESCAPE_NAME = "val_\x1b[31mRED\x1b[0m_loss"
CR_NAME = "acc\r::warning::cr"
#: A file name (Linux allows anything but ``/`` and NUL) with markup and a newline in it.
HOSTILE_FILE = "[red]run<img src=x onerror=alert(1)>\n::error::file.json"
BAD_FILE = "bad[bold]<b>x<-b>\n::warning::bad.csv"

SETTINGS: Settings = resolve_settings(config=None)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WORKFLOW_COMMAND = re.compile(
    r"^::(error|warning|notice)( [a-zA-Z]+=[^,:]*(,[a-zA-Z]+=[^,:]*)*)?::"
)


def _overfitting_run(epochs: int = 30) -> tuple[list[float], list[float]]:
    e = np.arange(float(epochs))
    train = 2 * np.exp(-e / 5) + 0.3
    val = 2 * np.exp(-e / 5) + 0.4 + 0.004 * np.clip(e - 10, 0, None) ** 2
    return train.tolist(), val.tolist()


@pytest.fixture(scope="module")
def hostile_inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two overfitting runs whose curves carry the hostile names (so findings, messages and advice
    quote them), and an unreadable file with a hostile name and hostile text in its error."""
    folder = tmp_path_factory.mktemp("hostile")
    train, val = _overfitting_run()
    run = folder / HOSTILE_FILE
    run.write_text(json.dumps({f"{HOSTILE}_loss": train, f"val_{HOSTILE}_loss": val}), "utf-8")
    controls = folder / "controls.json"
    controls.write_text(
        json.dumps({NEWLINE_NAME: train, ESCAPE_NAME: val, CR_NAME: train}), encoding="utf-8"
    )
    bad = folder / BAD_FILE
    # a numeric column with a hostile word in it: the error names the cell's text
    bad.write_text(f"epoch,loss\n1,0.5\n2,{HOSTILE}\n3,0.4\n", encoding="utf-8")
    return [run, controls, bad]


@pytest.fixture(scope="module")
def rendered_inputs(hostile_inputs: list[Path]) -> tuple[list[Report], RenderContext]:
    pairs = [diagnose_path_with_history(p, SETTINGS) for p in hostile_inputs]
    reports = [r for r, _ in pairs]
    histories: tuple[History | None, ...] = tuple(h for _, h in pairs)
    return reports, RenderContext(histories=histories, rules=rule_refs(SETTINGS))


def test_the_pipeline_carries_the_hostile_text(
    rendered_inputs: tuple[list[Report], RenderContext],
) -> None:
    """The premise: the hostile names really reach the reports (else the checks prove nothing)."""
    reports, _ = rendered_inputs
    run, controls, bad = reports
    assert run.error is None
    assert controls.error is None
    assert bad.error is not None
    assert any(HOSTILE in name for f in run.findings for name in f.curves)
    # Control characters are written as escapes from the reader on (model.one_line), markup and
    # quotes stay as text for each format to escape its own way.
    named = {name for f in controls.findings for name in f.curves}
    assert {one_line(NEWLINE_NAME), one_line(ESCAPE_NAME)} <= named
    assert one_line(CR_NAME) in {c.name for c in controls.curves}
    assert "\\n::error::" in run.source
    assert "\\n::warning::" in bad.source


# -- format-specific parsers: the hostile text must come back as text ---------------------------
class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.handlers: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.lower().startswith("on")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _elements(markup: str) -> _Elements:
    parser = _Elements()
    parser.feed(markup)
    parser.close()
    return parser


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _check_json(out: str) -> None:
    strings = "\n".join(_strings(json.loads(out)))
    assert HOSTILE in strings


def _check_html(out: str) -> None:
    found = _elements(out)
    assert "script" not in found.tags
    assert "img" not in found.tags
    assert found.handlers == []
    assert HOSTILE in "".join(found.text)


def _check_markdown(out: str) -> None:
    from markdown_it import MarkdownIt

    # GitHub renders job summaries as GFM with (sanitised) inline HTML: render with HTML on.
    page: str = MarkdownIt("commonmark", {"html": True}).enable("table").render(out)  # type: ignore[no-untyped-call,unused-ignore]
    found = _elements(page)
    assert "script" not in found.tags
    assert "img" not in found.tags
    assert found.handlers == []
    # the table cell is not split by the name's '|', and the markup is shown as typed
    assert HOSTILE in html.unescape("".join(found.text))


def _check_terminal(out: str) -> None:
    # rich markup in a name is printed, not applied
    assert "[bold]x[/bold]" in out
    assert "[red]run<img src=x onerror=alert(1)>" in out


def _github_unescape(text: str) -> str:
    return (
        text.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def _check_github(out: str) -> None:
    messages = []
    for line in out.splitlines():
        if line.startswith("::"):
            match = _WORKFLOW_COMMAND.match(line)
            assert match is not None, line
            messages.append(_github_unescape(line[match.end() :]))
        else:
            assert line == "" or line.startswith("curvedoc"), line
    assert any(HOSTILE in m for m in messages)


def _check_junit(out: str) -> None:
    root = ET.fromstring(out)
    assert root.tag in ("testsuites", "testsuite")
    assert not any(el.tag == "script" for el in root.iter())
    texts = [v for el in root.iter() for v in [el.text or "", *el.attrib.values()]]
    assert any(HOSTILE in t for t in texts)


SPECIFIC: dict[str, Callable[[str], None]] = {
    "terminal": _check_terminal,
    "json": _check_json,
    "markdown": _check_markdown,
    "html": _check_html,
    "github": _check_github,
    "junit": _check_junit,
    "sarif": _check_json,
    "gitlab": _check_json,
}


def _generic(fmt: str, out: str) -> None:
    """What every format, known or future, must respect."""
    assert isinstance(out, str)
    assert out.strip()
    stripped = out.lstrip()
    if stripped.startswith(("{", "[")) and fmt != "terminal":
        json.loads(out)
    elif stripped.startswith("<?xml"):
        ET.fromstring(out)


def _lines(out: str) -> list[str]:
    return [_ANSI.sub("", line) for line in re.split(r"\r\n|\r|\n", out)]


# Known problems, each with its failing test kept here (strict: the mark must go when fixed).
#: Known bugs per (format, check), kept as strict xfails; all fixed so far.
_XFAIL: dict[tuple[str, str], str] = {}


def _maybe_xfail(fmt: str, check: str) -> list[pytest.MarkDecorator]:
    reason = _XFAIL.get((fmt, check))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def _params(check: str) -> list[object]:
    return [pytest.param(fmt, marks=_maybe_xfail(fmt, check)) for fmt in FORMATTERS]


def _render(fmt: str, rendered: tuple[list[Report], RenderContext]) -> str:
    reports, context = rendered
    return render(fmt, reports, context=context, width=200)


@pytest.mark.parametrize("fmt", list(FORMATTERS))
def test_every_format_keeps_hostile_text_inert(
    fmt: str, rendered_inputs: tuple[list[Report], RenderContext]
) -> None:
    out = _render(fmt, rendered_inputs)
    _generic(fmt, out)
    check = SPECIFIC.get(fmt)
    if check is not None:  # a format added later gets the generic checks above
        check(out)


@pytest.mark.parametrize("fmt", _params("control"))
def test_no_raw_control_characters(
    fmt: str, rendered_inputs: tuple[list[Report], RenderContext]
) -> None:
    """Without color, no format writes ESC, CR, NUL or other C0 controls (tab and newline only)."""
    out = _render(fmt, rendered_inputs)
    bad = sorted({hex(ord(c)) for c in _CONTROL.findall(out)} | ({"0xd"} if "\r" in out else set()))
    assert bad == []


@pytest.mark.parametrize("fmt", _params("command"))
def test_no_line_is_a_workflow_command_from_the_log(
    fmt: str, rendered_inputs: tuple[list[Report], RenderContext]
) -> None:
    """A CI runner reads ``::command::`` at the start of any output line; only the github format
    writes such lines, and only its own (checked above)."""
    if fmt == "github":
        pytest.skip("the github format's commands are checked one by one above")
    out = _render(fmt, rendered_inputs)
    offending = [line for line in _lines(out) if line.lstrip().startswith("::")]
    assert offending == []


def test_terminal_with_color_adds_no_escape_from_the_log(
    rendered_inputs: tuple[list[Report], RenderContext],
) -> None:
    """With color on, escape codes are rich's own: the log's ``ESC[31mRED`` is not among them."""
    out = render("terminal", rendered_inputs[0], context=rendered_inputs[1], color=True, width=200)
    assert "[bold]x[/bold]" in out
    assert "\x1b[31mRED" not in out


# -- the command line: stdout and stderr ---------------------------------------------------------
@pytest.mark.parametrize(
    "fmt",
    [
        "terminal",
        "json",
        "github",
    ],
)
def test_cli_output_has_no_injected_command_lines(
    fmt: str, hostile_inputs: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["diagnose", *map(str, hostile_inputs), "--isolated", "--format", fmt])
    assert code == 2  # one input is unreadable
    captured = capsys.readouterr()
    for stream in (captured.out, captured.err):
        for line in _lines(stream):
            if line.startswith("::"):
                assert fmt == "github", line
                assert _WORKFLOW_COMMAND.match(line), line
                assert "injected" not in line.split("::", 3)[1], line


# -- rule packs and config are data ---------------------------------------------------------------
_PWNED = "curvedoc-pwned"


def _pack(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "evil.toml"
    path.write_text('[pack]\nextends = "default"\n\n' + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "body",
    [
        # a template placeholder that is Python code
        '[[rules.overfitting.advice]]\nparam = "x"\naction = "set"\n'
        f"text = \"{{__import__('os').system('touch {_PWNED}')}}\"\n",
        # a parameter value that is Python code
        f"[rules.overfitting.params]\nmin_rise = \"__import__('os').system('touch {_PWNED}')\"\n",
        # a severity, a factor, a value
        "[rules.overfitting]\nseverity = \"__import__('os')\"\n",
        '[[rules.overfitting.advice]]\nparam = "x"\naction = "set"\ntext = "t"\n'
        "factor = \"__import__('os')\"\n",
        '[[rules.overfitting.advice]]\nparam = "x"\naction = "set"\ntext = "t"\n'
        "value = \"eval('1')\"\n",
        # positional and indexed placeholders
        '[[rules.overfitting.advice]]\nparam = "x"\naction = "set"\ntext = "{0}"\n',
    ],
)
def test_pack_with_code_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    from curvedoc.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError):
        resolve_settings(rules=_pack(tmp_path, body), config=None)
    assert not (tmp_path / _PWNED).exists()


def test_code_in_config_and_set_is_text_or_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curvedoc.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    code = f"__import__('os').system('touch {_PWNED}')"
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.curvedoc]\nfail-on = "{code}"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError):
        resolve_settings(config="auto")
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.curvedoc.columns]\nloss = "{code}"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError):
        resolve_settings(config="auto")
    with pytest.raises(ConfigError):
        resolve_settings(set_params=[f"overfitting.min_rise={code}"], config=None)
    # a --column naming code is only a (missing) column name
    train, val = _overfitting_run()
    log = tmp_path / "h.json"
    log.write_text(json.dumps({"loss": train, "val_loss": val}), encoding="utf-8")
    assert main(["diagnose", str(log), "--isolated", "--column", f"{code}=ignore"]) in (0, 1)
    assert not (tmp_path / _PWNED).exists()


def test_advice_text_with_code_is_printed_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Code in a template's *literal* text (outside any placeholder) is just words."""
    monkeypatch.chdir(tmp_path)
    text = "Run __import__('os').system('rm -rf /') {{not a placeholder}} with care"
    pack = _pack(
        tmp_path,
        f'[[rules.overfitting.advice]]\nparam = "x"\naction = "investigate"\ntext = "{text}"\n',
    )
    settings = resolve_settings(rules=pack, config=None)
    train, val = _overfitting_run()
    log = tmp_path / "h.json"
    log.write_text(json.dumps({"loss": train, "val_loss": val}), encoding="utf-8")
    report, _ = diagnose_path_with_history(log, settings)
    texts = [a.text for f in report.findings for a in f.advice]
    assert "Run __import__('os').system('rm -rf /') {not a placeholder} with care" in texts


def test_pack_placeholder_cannot_walk_attributes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curvedoc.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    pack = _pack(
        tmp_path,
        '[[rules.overfitting.advice]]\nparam = "x"\naction = "set"\n'
        'text = "{curve.__class__.__mro__}"\n',
    )
    with pytest.raises(ConfigError):
        resolve_settings(rules=pack, config=None)


def test_pack_format_spec_cannot_blow_up_the_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    pack = _pack(
        tmp_path,
        '[[rules.overfitting.advice]]\nparam = "x"\naction = "set"\ntext = "{best_x:>10000000}"\n',
    )
    from curvedoc.errors import ConfigError

    try:
        settings = resolve_settings(rules=pack, config=None)
    except ConfigError:  # refusing the pack is one fix; capping the rendered text another
        return
    train, val = _overfitting_run()
    log = tmp_path / "h.json"
    log.write_text(json.dumps({"loss": train, "val_loss": val}), encoding="utf-8")
    report, _ = diagnose_path_with_history(log, settings)
    assert max(len(a.text) for f in report.findings for a in f.advice) < 10_000
