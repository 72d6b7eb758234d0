"""Rule packs and configuration layers: loading, extending, validating, precedence, selection."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from curvedoc.detectors import DETECTORS
from curvedoc.errors import ConfigError
from curvedoc.model import SEVERITY_RANK
from curvedoc.packs import (
    ACTIONS,
    FAIL_ON,
    load_pack,
    parse_value,
    placeholders,
    resolve_settings,
)

ALL_RULES = tuple(d.name for d in DETECTORS)


def rules_where(keep: object) -> tuple[str, ...]:
    """The registry's rules (in registry order) for which ``keep(code, name)`` holds."""
    return tuple(d.name for d in DETECTORS if keep(d.code, d.name))  # type: ignore[operator]


def family(*prefixes: str) -> tuple[str, ...]:
    return rules_where(lambda code, _name: code.startswith(prefixes))


def without(*names: str, base: tuple[str, ...] = ALL_RULES) -> tuple[str, ...]:
    return tuple(n for n in base if n not in names)


DEFAULT = load_pack("default")


def write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def pyproject(folder: Path, body: str) -> Path:
    return write(folder / "pyproject.toml", body)


def assert_names(err: ConfigError, *needles: str) -> None:
    text = str(err)
    assert "\n" not in text, f"error is not one line: {text!r}"
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"


# -- the default pack ------------------------------------------------------------------------
def test_default_pack_configures_every_detector() -> None:
    assert set(DEFAULT.rules) == set(ALL_RULES)
    assert DEFAULT.name == "default"
    assert DEFAULT.sources == ("<builtin>/default.toml",)


@pytest.mark.parametrize("det", DETECTORS, ids=lambda d: d.name)
def test_default_params_validate_and_are_complete(det: type) -> None:
    cfg = DEFAULT.rules[det.name]  # type: ignore[attr-defined]
    params = det.Params.model_validate(cfg.params)  # type: ignore[attr-defined]
    # No field is left to a model default: the numbers live in the pack.
    assert set(cfg.params) == set(det.Params.model_fields)  # type: ignore[attr-defined]
    assert params.model_dump() == cfg.params
    assert cfg.severity in SEVERITY_RANK
    assert cfg.enabled is True
    assert cfg.advice, f"{det.name} has no advice in the default pack"  # type: ignore[attr-defined]
    for adv in cfg.advice:
        assert adv.action in ACTIONS


def test_default_settings_select_every_enabled_rule_in_registry_order() -> None:
    settings = resolve_settings(config=None)
    assert settings.selected == ALL_RULES
    assert settings.fail_on is None
    assert settings.config_path is None
    for rule in ALL_RULES:
        assert settings.params_for(rule).model_dump() == DEFAULT.rules[rule].params


def test_params_for_accepts_codes() -> None:
    settings = resolve_settings(config=None)
    assert settings.params_for("CD201") == settings.params_for("overfitting")


def test_loading_by_name_with_toml_suffix_is_the_same_pack() -> None:
    assert load_pack("default.toml").rules == DEFAULT.rules


# -- extends ---------------------------------------------------------------------------------
def test_pack_extending_default_overrides_one_severity_and_one_param(tmp_path: Path) -> None:
    path = write(
        tmp_path / "strict.toml",
        """
        [pack]
        name = "strict"
        extends = "default"

        [rules.overfitting]
        severity = "error"

        [rules.overfitting.params]
        min_rise = 0.02
        """,
    )
    pack = load_pack(path)
    assert pack.name == "strict"
    assert pack.sources == ("<builtin>/default.toml", str(path))
    of = pack.rules["overfitting"]
    assert of.severity == "error"
    assert of.params["min_rise"] == 0.02
    # Everything else is inherited untouched.
    base = DEFAULT.rules["overfitting"]
    assert {k: v for k, v in of.params.items() if k != "min_rise"} == {
        k: v for k, v in base.params.items() if k != "min_rise"
    }
    assert of.advice == base.advice
    assert of.enabled is True
    for rule in ALL_RULES:
        if rule != "overfitting":
            assert pack.rules[rule] == DEFAULT.rules[rule]


def test_pack_may_name_a_rule_by_code(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.toml",
        """
        [pack]
        extends = "default"
        [rules.CD301.params]
        min_rise = 0.5
        """,
    )
    assert load_pack(path).rules["divergence"].params["min_rise"] == 0.5


def test_pack_name_defaults_to_file_stem(tmp_path: Path) -> None:
    path = write(tmp_path / "lenient.toml", '[pack]\nextends = "default"\n')
    assert load_pack(path).name == "lenient"


def test_extends_chain_applies_each_layer_in_order(tmp_path: Path) -> None:
    write(
        tmp_path / "base.toml",
        """
        [pack]
        extends = "default"
        [rules.overfitting]
        severity = "error"
        [rules.overfitting.params]
        min_rise = 0.1
        noise_z = 1.0
        """,
    )
    top = write(
        tmp_path / "top.toml",
        """
        [pack]
        extends = "base.toml"
        [rules.overfitting.params]
        min_rise = 0.3
        [rules.plateau]
        enabled = false
        """,
    )
    pack = load_pack(top)
    of = pack.rules["overfitting"]
    assert of.params["min_rise"] == 0.3  # top wins
    assert of.params["noise_z"] == 1.0  # from base
    assert of.severity == "error"  # from base
    assert pack.rules["plateau"].enabled is False
    assert pack.sources == ("<builtin>/default.toml", str(tmp_path / "base.toml"), str(top))


def test_extends_is_resolved_relative_to_the_extending_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "packs" / "base.toml",
        '[pack]\nextends = "default"\n[rules.plateau]\nseverity = "info"\n',
    )
    top = write(tmp_path / "packs" / "top.toml", '[pack]\nextends = "./base.toml"\n')
    monkeypatch.chdir(tmp_path)  # cwd is not the pack's folder
    assert load_pack(top).rules["plateau"].severity == "info"


def test_extends_loop_is_a_clear_error(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", '[pack]\nextends = "b.toml"\n')
    write(tmp_path / "b.toml", '[pack]\nextends = "a.toml"\n')
    with pytest.raises(ConfigError) as info:
        load_pack(a)
    assert_names(info.value, "loop", "a.toml", "b.toml")


def test_pack_extending_itself_is_a_loop(tmp_path: Path) -> None:
    a = write(tmp_path / "self.toml", '[pack]\nextends = "self.toml"\n')
    with pytest.raises(ConfigError) as info:
        load_pack(a)
    assert_names(info.value, "loop", "self.toml")


def test_extends_loop_through_a_differently_spelled_path(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    a = write(tmp_path / "a.toml", '[pack]\nextends = "sub/../b.toml"\n')
    write(tmp_path / "b.toml", '[pack]\nextends = "./a.toml"\n')
    with pytest.raises(ConfigError) as info:
        load_pack(a)
    assert_names(info.value, "loop")


def test_extends_unknown_builtin_names_it(tmp_path: Path) -> None:
    path = write(tmp_path / "p.toml", '[pack]\nextends = "nosuchpack"\n')
    with pytest.raises(ConfigError) as info:
        load_pack(path)
    assert_names(info.value, "nosuchpack", "default")


def test_extends_missing_file_names_it(tmp_path: Path) -> None:
    path = write(tmp_path / "p.toml", '[pack]\nextends = "gone.toml"\n')
    with pytest.raises(ConfigError) as info:
        load_pack(path)
    assert_names(info.value, str(tmp_path / "gone.toml"), "not found")


def test_pack_without_extends_must_configure_every_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path / "partial.toml",
        """
        [rules.non-finite]
        severity = "error"
        [rules.non-finite.params]
        amp_tolerance = 0.1
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_pack(path)
    assert_names(info.value, str(path), "missing", "overfitting", "plateau")


def test_standalone_pack_copied_from_default_loads(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[1] / "rules" / "default.toml").read_text("utf-8")
    path = write(tmp_path / "copy.toml", text.replace('name = "default"', 'name = "copy"'))
    pack = load_pack(path)
    assert pack.name == "copy"
    assert pack.rules == DEFAULT.rules


# -- validation errors name the file, the rule and the key -----------------------------------
HEADER = '[pack]\nextends = "default"\n'

INVALID_PACKS = {
    "unknown-rule": ("[rules.overfit]\nseverity = 'error'\n", ["rules.overfit", "unknown rule"]),
    "unknown-param": (
        "[rules.overfitting.params]\nnope = 1\n",
        ["rules.overfitting.params.nope"],
    ),
    "wrong-type": (
        "[rules.overfitting.params]\nmin_rise = 'x'\n",
        ["rules.overfitting.params.min_rise", "number"],
    ),
    "wrong-type-int": (
        "[rules.plateau.params]\nmin_points = 2.5\n",
        ["rules.plateau.params.min_points"],
    ),
    "out-of-range": (
        "[rules.overfitting.params]\nmin_rise = -0.1\n",
        ["rules.overfitting.params.min_rise", "greater than 0"],
    ),
    "out-of-range-upper": (
        "[rules.divergence.params]\nlr_factor = 3.0\n",
        ["rules.divergence.params.lr_factor", "less than 1"],
    ),
    "bad-severity": (
        "[rules.overfitting]\nseverity = 'fatal'\n",
        ["rules.overfitting.severity", "info, warning, error"],
    ),
    "severity-not-a-string": (
        "[rules.overfitting]\nseverity = ['error']\n",
        ["rules.overfitting.severity"],
    ),
    "enabled-not-bool": (
        "[rules.plateau]\nenabled = 'no'\n",
        ["rules.plateau.enabled", "true or false"],
    ),
    "unknown-rule-key": (
        "[rules.plateau]\nthreshold = 3\n",
        ["rules.plateau.threshold", "unknown key"],
    ),
    "unknown-top-level": ("[settings]\nx = 1\n", ["settings", "unknown top-level key"]),
    "params-not-table": ("[rules.plateau]\nparams = 3\n", ["rules.plateau.params"]),
    "bad-action": (
        "[[rules.overfitting.advice]]\nparam = 'epochs'\naction = 'boost'\ntext = 'x'\n",
        ["rules.overfitting.advice[0].action", "increase"],
    ),
    "advice-missing-text": (
        "[[rules.overfitting.advice]]\nparam = 'epochs'\naction = 'set'\n",
        ["rules.overfitting.advice[0].text", "required"],
    ),
    "advice-unknown-key": (
        "[[rules.overfitting.advice]]\nparam = 'epochs'\naction = 'set'\ntext = 'x'\nwhy = 1\n",
        ["rules.overfitting.advice[0].why"],
    ),
    "placeholder-rule-cannot-fill": (
        "[[rules.overfitting.advice]]\nparam = 'epochs'\naction = 'set'\n"
        "text = 'stop at {spike_x}'\n",
        ["rules.overfitting.advice[0].text", "{spike_x}", "overfitting"],
    ),
    "placeholder-of-another-rule": (
        # clip_value is gradient-explosion evidence, not divergence's.
        "[[rules.divergence.advice]]\nparam = 'grad_clip'\naction = 'set'\n"
        "text = 'clip at {clip_value}'\nfallback = 'clip'\n",
        ["rules.divergence.advice[0].text", "{clip_value}", "divergence"],
    ),
    "optional-placeholder-without-fallback": (
        "[[rules.overfitting.advice]]\nparam = 'learning_rate'\naction = 'decrease'\n"
        "text = 'lower it from {learning_rate:.3g}'\n",
        ["rules.overfitting.advice[0].fallback", "{learning_rate}"],
    ),
    "fallback-with-optional-placeholder": (
        "[[rules.overfitting.advice]]\nparam = 'learning_rate'\naction = 'decrease'\n"
        "text = 'lower it from {learning_rate}'\nfallback = 'lower {batch_size}'\n",
        ["rules.overfitting.advice[0].fallback", "{batch_size}"],
    ),
    "positional-placeholder": (
        "[[rules.overfitting.advice]]\nparam = 'epochs'\naction = 'set'\ntext = 'stop at {0}'\n",
        ["rules.overfitting.advice[0].text", "positional"],
    ),
    "value-not-evidence": (
        "[[rules.overfitting.advice]]\nparam = 'epochs'\naction = 'set'\ntext = 'x'\n"
        "value = 'nope'\n",
        ["rules.overfitting.advice[0].value", "'nope'"],
    ),
    "factor-not-evidence": (
        "[[rules.divergence.advice]]\nparam = 'learning_rate'\naction = 'decrease'\n"
        "text = 'x'\nfactor = 'lr_factr'\n",
        ["rules.divergence.advice[0].factor", "'lr_factr'"],
    ),
    "factor-bool": (
        "[[rules.divergence.advice]]\nparam = 'learning_rate'\naction = 'decrease'\n"
        "text = 'x'\nfactor = true\n",
        ["rules.divergence.advice[0].factor"],
    ),
    "advice-not-array": ("[rules.plateau]\nadvice = 'more data'\n", ["rules.plateau.advice"]),
    "extends-not-string": ("", ["pack.extends"]),
}


@pytest.mark.parametrize("case", sorted(INVALID_PACKS))
def test_invalid_pack_names_file_rule_and_key(tmp_path: Path, case: str) -> None:
    body, needles = INVALID_PACKS[case]
    header = "[pack]\nextends = 1\n" if case == "extends-not-string" else HEADER
    path = write(tmp_path / f"{case}.toml", header + body)
    with pytest.raises(ConfigError) as info:
        load_pack(path)
    assert_names(info.value, str(path), *needles)


def test_non_toml_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.toml", "this is: not [toml\n")
    with pytest.raises(ConfigError) as info:
        load_pack(path)
    assert_names(info.value, str(path), "invalid TOML")


def test_binary_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "pack.toml"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(ConfigError) as info:
        load_pack(path)
    assert_names(info.value, str(path))


def test_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "pack.toml"
    with pytest.raises(ConfigError) as info:
        load_pack(path)
    assert_names(info.value, str(path), "not found")


def test_unknown_builtin_pack_name_lists_the_builtins() -> None:
    with pytest.raises(ConfigError) as info:
        load_pack("paranoid")
    assert_names(info.value, "'paranoid'", "default")


def test_placeholders_parses_format_fields() -> None:
    assert placeholders("at {x_unit} {best_x:g} ({curve} {best_value:.4g}) {{literal}}") == {
        "x_unit",
        "best_x",
        "curve",
        "best_value",
    }
    with pytest.raises(ValueError, match="positional"):
        placeholders("{}")


# -- configuration layers --------------------------------------------------------------------
@pytest.fixture
def layered(tmp_path: Path) -> tuple[Path, Path]:
    """A --rules pack and a pyproject that both touch overfitting.min_rise."""
    pack = write(
        tmp_path / "team.toml",
        """
        [pack]
        extends = "default"
        [rules.overfitting.params]
        min_rise = 0.11
        [rules.divergence.params]
        min_rise = 0.5
        """,
    )
    proj = pyproject(
        tmp_path,
        """
        [project]
        name = "someone-elses-project"

        [tool.curvedoc.rules.overfitting.params]
        min_rise = 0.15
        """,
    )
    return pack, proj


def min_rise(settings: object, rule: str = "overfitting") -> float:
    return float(settings.params_for(rule).min_rise)  # type: ignore[attr-defined]


def test_precedence_default_lowest(layered: tuple[Path, Path]) -> None:
    assert (
        min_rise(resolve_settings(config=None)) == DEFAULT.rules["overfitting"].params["min_rise"]
    )


def test_precedence_rules_file_over_default(layered: tuple[Path, Path]) -> None:
    pack, _ = layered
    s = resolve_settings(rules=pack, config=None)
    assert min_rise(s) == 0.11
    assert min_rise(s, "divergence") == 0.5


def test_precedence_pyproject_over_rules_file(layered: tuple[Path, Path]) -> None:
    pack, proj = layered
    s = resolve_settings(rules=pack, config=proj)
    assert min_rise(s) == 0.15
    assert min_rise(s, "divergence") == 0.5  # the file's other setting survives
    assert s.config_path == str(proj)
    assert s.pack.sources[-1] == str(proj)


def test_precedence_set_over_everything(layered: tuple[Path, Path]) -> None:
    pack, proj = layered
    s = resolve_settings(rules=pack, config=proj, set_params=["overfitting.min_rise=0.2"])
    assert min_rise(s) == 0.2
    assert min_rise(s, "divergence") == 0.5
    assert s.pack.sources[-1] == "--set"


def test_config_auto_finds_pyproject_in_working_directory(
    layered: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, proj = layered
    deeper = proj.parent / "runs" / "exp1"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    s = resolve_settings(config="auto")
    assert min_rise(s) == 0.15
    assert Path(s.config_path or "").resolve() == proj.resolve()


def test_config_none_ignores_pyproject(
    layered: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(layered[1].parent)
    s = resolve_settings(config=None)
    assert min_rise(s) == DEFAULT.rules["overfitting"].params["min_rise"]
    assert s.config_path is None


def test_pyproject_without_curvedoc_table_changes_nothing(tmp_path: Path) -> None:
    proj = pyproject(tmp_path, '[project]\nname = "x"\n')
    s = resolve_settings(config=proj)
    assert s.pack.rules == DEFAULT.rules
    assert s.selected == ALL_RULES


def test_pyproject_pack_key_is_relative_to_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "cfg" / "mine.toml", HEADER + "[rules.plateau]\nseverity = 'info'\n")
    proj = pyproject(tmp_path, '[tool.curvedoc]\npack = "cfg/mine.toml"\n')
    monkeypatch.chdir(tmp_path.parent)
    s = resolve_settings(config=proj)
    assert s.pack.rules["plateau"].severity == "info"
    # An explicit --rules beats the project's pack.
    assert resolve_settings(rules="default", config=proj).pack.rules["plateau"].severity == (
        DEFAULT.rules["plateau"].severity
    )


def test_set_accepts_severity_enabled_and_codes() -> None:
    s = resolve_settings(
        config=None,
        set_params=["overfitting.severity=error", "CD401.enabled=false", "CD301.min_rise = 0.4"],
    )
    assert s.pack.rules["overfitting"].severity == "error"
    assert s.pack.rules["plateau"].enabled is False
    assert "plateau" not in s.selected
    assert min_rise(s, "divergence") == 0.4


def test_set_as_mapping_like_the_python_api() -> None:
    s = resolve_settings(config=None, set_params={"overfitting.min_rise": 0.3})
    assert min_rise(s) == 0.3


@pytest.mark.parametrize(
    ("item", "needles"),
    [
        ("overfitting", ["rule.param=value"]),
        ("min_rise=0.2", ["rule.param=value", "min_rise"]),
        ("=0.2", ["rule.param=value"]),
        ("overfit.min_rise=0.2", ["unknown rule", "overfit"]),
        ("overfitting.nope=1", ["rules.overfitting.params.nope"]),
        ("overfitting.min_rise=abc", ["rules.overfitting.params.min_rise"]),
        ("overfitting.min_rise=-1", ["rules.overfitting.params.min_rise"]),
        ("overfitting.severity=fatal", ["severity"]),
    ],
)
def test_bad_set_is_a_config_error(item: str, needles: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=None, set_params=[item])
    assert_names(info.value, "--set", *needles)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.2", 0.2),
        ("3", 3),
        ("true", True),
        ("false", False),
        ("[1, 2]", [1, 2]),
        ('"quoted"', "quoted"),
        ("word", "word"),
        ("1e-3", 1e-3),
    ],
)
def test_parse_value_reads_toml_scalars(text: str, value: object) -> None:
    assert parse_value(text) == value
    assert type(parse_value(text)) is type(value)


# -- select / ignore -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("select", "ignore", "expected"),
    [
        (["overfitting"], None, ("overfitting",)),
        (["CD301"], None, ("divergence",)),
        (["cd301"], None, ("divergence",)),
        (["CD3"], None, family("CD3")),
        (["cd3"], None, family("CD3")),
        (["CD1,plateau"], None, ("non-finite", "plateau")),
        (["plateau", "CD401", "non-finite"], None, ("non-finite", "plateau")),
        (["ALL"], ["overfitting, plateau"], without("overfitting", "plateau")),
        (None, ["CD3"], without(*family("CD3"))),
        (None, ["CD2", "non-finite"], without("non-finite", *family("CD2"))),
        (["CD3"], ["gradient-explosion"], without("gradient-explosion", base=family("CD3"))),
        (["CD"], None, ALL_RULES),
        (None, ["CD"], ()),
    ],
)
def test_select_and_ignore(
    select: list[str] | None, ignore: list[str] | None, expected: tuple[str, ...]
) -> None:
    assert resolve_settings(config=None, select=select, ignore=ignore).selected == expected


@pytest.mark.parametrize(
    ("select", "ignore", "needles"),
    [
        (["overfit"], None, ["--select", "'overfit'"]),
        (["CD9"], None, ["--select", "'CD9'"]),
        (["CD2019"], None, ["--select"]),
        (None, ["nope"], ["--ignore", "'nope'"]),
    ],
)
def test_unknown_rule_in_select_or_ignore(
    select: list[str] | None, ignore: list[str] | None, needles: list[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=None, select=select, ignore=ignore)
    assert_names(info.value, *needles, "overfitting")  # the message lists the known rules


def test_config_select_and_ignore(tmp_path: Path) -> None:
    proj = pyproject(
        tmp_path,
        """
        [tool.curvedoc]
        select = ["CD2", "CD3"]
        ignore = ["CD302"]
        """,
    )
    s = resolve_settings(config=proj)
    assert s.selected == without("gradient-explosion", base=family("CD2", "CD3"))
    assert "overfitting" in s.selected
    assert "divergence" in s.selected
    # --select replaces the project's select; ignores from both layers add up.
    s = resolve_settings(config=proj, select=["ALL"], ignore=["plateau"])
    assert s.selected == without("gradient-explosion", "plateau")


def test_unknown_rule_in_config_select_names_pyproject(tmp_path: Path) -> None:
    proj = pyproject(tmp_path, '[tool.curvedoc]\nselect = ["overfitting", "CD999"]\n')
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=proj)
    assert_names(info.value, str(proj), "tool.curvedoc.select", "'CD999'")


def test_config_select_must_be_a_list(tmp_path: Path) -> None:
    proj = pyproject(tmp_path, '[tool.curvedoc]\nignore = "CD3"\n')
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=proj)
    assert_names(info.value, str(proj), "tool.curvedoc.ignore")


def test_enabled_false_in_pyproject_deselects_rule(tmp_path: Path) -> None:
    proj = pyproject(tmp_path, "[tool.curvedoc.rules.plateau]\nenabled = false\n")
    s = resolve_settings(config=proj)
    assert "plateau" not in s.selected
    assert s.selected == tuple(r for r in ALL_RULES if r != "plateau")


def test_enabled_false_in_pack_deselects_rule(tmp_path: Path) -> None:
    pack = write(tmp_path / "p.toml", HEADER + "[rules.CD201]\nenabled = false\n")
    assert "overfitting" not in resolve_settings(rules=pack, config=None).selected


def test_bad_rule_override_in_pyproject_names_it(tmp_path: Path) -> None:
    proj = pyproject(tmp_path, "[tool.curvedoc.rules.overfitting.params]\nmin_rise = 'x'\n")
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=proj)
    assert_names(info.value, str(proj), "rules.overfitting.params.min_rise")


def test_unknown_rule_in_pyproject_rules_names_it(tmp_path: Path) -> None:
    proj = pyproject(tmp_path, "[tool.curvedoc.rules.overfit]\nenabled = false\n")
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=proj)
    assert_names(info.value, str(proj), "tool.curvedoc.rules.overfit", "unknown rule")


def test_unknown_key_in_tool_curvedoc(tmp_path: Path) -> None:
    proj = pyproject(tmp_path, '[tool.curvedoc]\nfail_on = "error"\n')
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=proj)
    assert_names(info.value, str(proj), "tool.curvedoc.fail_on", "unknown key")


def test_invalid_pyproject_is_a_config_error(tmp_path: Path) -> None:
    proj = pyproject(tmp_path, "[tool.curvedoc\n")
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=proj)
    assert_names(info.value, str(proj), "invalid TOML")


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=tmp_path / "pyproject.toml")
    assert_names(info.value, str(tmp_path / "pyproject.toml"), "not found")


# -- fail-on ---------------------------------------------------------------------------------
@pytest.mark.parametrize("level", FAIL_ON)
def test_fail_on_from_config(tmp_path: Path, level: str) -> None:
    proj = pyproject(tmp_path, f'[tool.curvedoc]\nfail-on = "{level}"\n')
    assert resolve_settings(config=proj).fail_on == level


def test_fail_on_flag_beats_config(tmp_path: Path) -> None:
    proj = pyproject(tmp_path, '[tool.curvedoc]\nfail-on = "info"\n')
    assert resolve_settings(config=proj, fail_on="never").fail_on == "never"


@pytest.mark.parametrize("bad", ['"fatal"', "1", '["error"]'])
def test_bad_fail_on_in_config(tmp_path: Path, bad: str) -> None:
    proj = pyproject(tmp_path, f"[tool.curvedoc]\nfail-on = {bad}\n")
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=proj)
    assert_names(info.value, str(proj), "tool.curvedoc.fail-on", "error, warning, info, never")


def test_bad_fail_on_flag() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=None, fail_on="warn")
    assert_names(info.value, "--fail-on")


# -- columns / directions --------------------------------------------------------------------
def test_columns_and_directions_from_config_and_flags(tmp_path: Path) -> None:
    proj = pyproject(
        tmp_path,
        """
        [tool.curvedoc.columns]
        "my loss" = "train_loss"
        dev_ppl = "val_loss"
        step_time = "ignore"

        [tool.curvedoc.directions]
        dev_ppl = "min"
        top5 = "max"
        """,
    )
    s = resolve_settings(config=proj, columns={"dev_ppl": "other"}, directions={"top5": "min"})
    assert s.columns == {"my loss": "train_loss", "dev_ppl": "other", "step_time": "ignore"}
    assert s.directions == {"dev_ppl": "min", "top5": "min"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('[tool.curvedoc.columns]\nmy_loss = "train_los"\n', "tool.curvedoc.columns.my_loss"),
        ("[tool.curvedoc.columns]\nmy_loss = 1\n", "tool.curvedoc.columns.my_loss"),
        ('[tool.curvedoc]\ncolumns = ["loss"]\n', "tool.curvedoc.columns"),
        ('[tool.curvedoc.directions]\nacc = "up"\n', "tool.curvedoc.directions.acc"),
        ('[tool.curvedoc]\ndirections = "max"\n', "tool.curvedoc.directions"),
    ],
)
def test_bad_columns_or_directions_in_config(tmp_path: Path, body: str, field: str) -> None:
    proj = pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=proj)
    assert_names(info.value, str(proj), field)


def test_bad_column_and_direction_flags() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=None, columns={"x": "loss"})
    assert_names(info.value, "--column.x", "train_loss")
    with pytest.raises(ConfigError) as info:
        resolve_settings(config=None, directions={"x": "down"})
    assert_names(info.value, "--direction.x", "min, max")
