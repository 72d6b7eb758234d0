"""Rule packs and configuration.

A pack (``rules/*.toml``) holds, per rule: ``enabled``, ``severity``, every parameter number, and
advice templates. Packs are data, never code: no expressions, no ``eval``; placeholders in advice
text are plain ``str.format`` fields checked against what the rule's detector can fill.

Precedence, lowest to highest: the default pack → the chosen pack (``--rules FILE``, which may
``extends`` another) → ``[tool.curvedoc]`` in ``pyproject.toml`` → command-line flags
(``--select``, ``--ignore``, ``--set rule.param=value``).
"""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from curvedoc.detectors import DETECTORS, get_detector
from curvedoc.errors import ConfigError, UnknownRuleError
from curvedoc.model import ROLES, SEVERITY_RANK
from curvedoc.record import FieldError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Placeholders every advice template may use: always filled.
CONTEXT_KEYS = ("x_unit", "curve")
#: Hyperparameters a log may carry (``History.meta``): a template using one needs a fallback.
META_KEYS = (
    "learning_rate",
    "batch_size",
    "weight_decay",
    "epochs",
    "max_steps",
    "warmup_steps",
    "dropout",
    "optimizer",
    "suggested",  # the knob's logged value × the advice's factor (advice.render_advice)
)
ACTIONS = ("increase", "decrease", "set", "enable", "disable", "investigate")
FAIL_ON = ("error", "warning", "info", "never")
_RULE_KEYS = {"enabled", "severity", "params", "advice"}
_ADVICE_KEYS = {"param", "action", "text", "fallback", "factor", "value", "when", "unless"}


@dataclass(frozen=True)
class AdviceTemplate:
    """One advice entry of a rule: a text with placeholders, the knob, and the direction."""

    param: str
    action: str
    text: str
    fallback: str | None = None
    factor: float | str | None = None
    value: str | None = None
    #: Give this advice only when the finding's evidence has this key (``when``), or only when
    #: it has not (``unless``): e.g. "start at the higher rate" only for a stall that ended
    #: when the learning rate was raised.
    when: str | None = None
    unless: str | None = None


@dataclass(frozen=True)
class RuleConfig:
    enabled: bool
    severity: str
    params: dict[str, Any]
    advice: tuple[AdviceTemplate, ...]


@dataclass(frozen=True)
class Pack:
    name: str
    rules: dict[str, RuleConfig]
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """Everything that decides how one diagnosis runs, resolved from all config layers."""

    pack: Pack
    selected: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict)
    directions: dict[str, str] = field(default_factory=dict)
    fail_on: str | None = None
    config_path: str | None = None
    #: Hyperparameters the user states (``--hparam learning_rate=3e-4``); they fill advice
    #: placeholders where the log itself is silent, and win over what the log says.
    hparams: dict[str, Any] = field(default_factory=dict)

    def params_for(self, rule: str) -> Any:
        """The validated ``Params`` model of ``rule``'s detector."""
        det = get_detector(rule)
        return det.Params.validate_fields(self.pack.rules[det.name].params)


# -- loading ----------------------------------------------------------------------------------
def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
            return data
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=str(path)) from None


#: Where bundled packs live: inside the installed package (the wheel puts ``rules/`` there),
#: else the repository's top-level ``rules/`` (an editable install or a checkout). Plain paths,
#: not ``importlib.resources``: the package is always unpacked, and that import costs start-up.
_PACK_DIRS = (
    Path(__file__).resolve().parent / "rules",
    Path(__file__).resolve().parent.parent / "rules",
)


def _builtin_pack_text(name: str) -> tuple[str, str] | None:
    """Find a bundled pack: installed inside the package, or the repo's top-level ``rules/``."""
    filename = f"{name}.toml"
    for folder in _PACK_DIRS:
        path = folder / filename
        if path.is_file():
            return path.read_text("utf-8"), f"<builtin>/{filename}"
    return None


def builtin_pack_names() -> list[str]:
    names: set[str] = set()
    for folder in _PACK_DIRS:
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


def _load_raw(name_or_path: str | Path, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], str]:
    text_and_label = None
    if isinstance(name_or_path, str) and "/" not in name_or_path and "\\" not in name_or_path:
        stem = name_or_path[:-5] if name_or_path.endswith(".toml") else name_or_path
        if not Path(name_or_path).is_file():
            text_and_label = _builtin_pack_text(stem)
            if text_and_label is None:
                known = ", ".join(builtin_pack_names())
                raise ConfigError(f"no rule pack named {name_or_path!r} (built-in: {known})")
    if text_and_label is None:
        path = Path(name_or_path)
        return _read_toml(path), str(path)
    text, label = text_and_label
    try:
        return tomllib.loads(text), label
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - bundled packs are tested
        raise ConfigError(f"invalid TOML: {exc}", path=label) from None


def load_pack(name_or_path: str | Path = "default") -> Pack:
    """Load and validate a pack by built-in name (``default``) or file path, following
    ``[pack] extends``. Errors name the file, the rule and the key."""
    return _load_pack(name_or_path, ())


def _load_pack(name_or_path: str | Path, seen: tuple[str, ...]) -> Pack:
    raw, label = _load_raw(name_or_path)
    # Compare resolved paths: "a.toml" and "sub/../a.toml" are the same pack.
    identity = label if label.startswith("<builtin>") else str(Path(label).resolve())
    if identity in seen:
        chain = " -> ".join((*seen, identity))
        raise ConfigError(f"rule packs extend each other in a loop: {chain}", path=label)
    header = raw.get("pack", {})
    if not isinstance(header, dict):
        raise ConfigError("[pack] must be a table", path=label, field="pack")
    extends = header.get("extends")
    base: Pack | None = None
    if extends is not None:
        if not isinstance(extends, str):
            raise ConfigError("must be a pack name or path", path=label, field="pack.extends")
        target: str | Path = extends
        if not label.startswith("<builtin>"):
            sibling = Path(label).parent / (
                extends if extends.endswith(".toml") else f"{extends}.toml"
            )
            # A path, or a bare name of a pack beside this one, is resolved next to this file;
            # otherwise a bare name is a built-in pack.
            if "/" in extends or extends.endswith(".toml") or sibling.is_file():
                target = sibling if sibling.is_file() else Path(label).parent / extends
        base = _load_pack(target, (*seen, identity))
    unknown_top = set(raw) - {"pack", "rules"}
    if unknown_top:
        key = sorted(unknown_top)[0]
        raise ConfigError(
            "unknown top-level key (expected [pack] and [rules.*])", path=label, field=key
        )
    rules_raw = raw.get("rules", {})
    if not isinstance(rules_raw, dict):
        raise ConfigError("must be a table of rules", path=label, field="rules")
    rules = dict(base.rules) if base is not None else {}
    for key, table in rules_raw.items():
        rule_name = _rule_name(key, label, f"rules.{key}")
        rules[rule_name] = _merge_rule(rules.get(rule_name), table, label, f"rules.{key}")
    if base is None:
        missing = [d.name for d in DETECTORS if d.name not in rules]
        if missing:
            raise ConfigError(
                "a pack without 'extends' must configure every rule; missing: "
                + ", ".join(missing),
                path=label,
            )
    name = str(header.get("name", Path(label).stem))
    sources = (*(base.sources if base else ()), label)
    pack = Pack(name=name, rules=rules, sources=sources)
    for rule_name in rules:
        _validate_params(pack, rule_name, label)
    return pack


def _rule_name(key: str, label: str, where: str) -> str:
    try:
        return get_detector(key).name
    except UnknownRuleError:
        names = ", ".join(d.name for d in DETECTORS)
        raise ConfigError(f"unknown rule (known: {names})", path=label, field=where) from None


def _merge_rule(base: RuleConfig | None, table: Any, label: str, where: str) -> RuleConfig:
    if not isinstance(table, dict):
        raise ConfigError("must be a table", path=label, field=where)
    unknown = set(table) - _RULE_KEYS
    if unknown:
        raise ConfigError(
            f"unknown key (expected {', '.join(sorted(_RULE_KEYS))})",
            path=label,
            field=f"{where}.{sorted(unknown)[0]}",
        )
    enabled = table.get("enabled", base.enabled if base else True)
    if not isinstance(enabled, bool):
        raise ConfigError("must be true or false", path=label, field=f"{where}.enabled")
    severity = table.get("severity", base.severity if base else None)
    if not isinstance(severity, str) or severity not in SEVERITY_RANK:
        raise ConfigError(
            "must be one of info, warning, error", path=label, field=f"{where}.severity"
        )
    params_raw = table.get("params", {})
    if not isinstance(params_raw, dict):
        raise ConfigError("must be a table", path=label, field=f"{where}.params")
    params = {**(base.params if base else {}), **params_raw}
    if "advice" in table:
        advice = _parse_advice(table["advice"], label, f"{where}.advice")
    else:
        advice = base.advice if base else ()
    return RuleConfig(enabled=enabled, severity=str(severity), params=params, advice=advice)


def _parse_advice(items: Any, label: str, where: str) -> tuple[AdviceTemplate, ...]:
    if not isinstance(items, list):
        raise ConfigError("must be an array of tables ([[...advice]])", path=label, field=where)
    out = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError("must be a table", path=label, field=here)
        unknown = set(item) - _ADVICE_KEYS
        if unknown:
            raise ConfigError("unknown key", path=label, field=f"{here}.{sorted(unknown)[0]}")
        for key in ("param", "action", "text"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ConfigError("is required (a string)", path=label, field=f"{here}.{key}")
        if item["action"] not in ACTIONS:
            raise ConfigError(
                f"must be one of {', '.join(ACTIONS)}", path=label, field=f"{here}.action"
            )
        factor = item.get("factor")
        if factor is not None and (
            isinstance(factor, bool) or not isinstance(factor, (int, float, str))
        ):
            raise ConfigError(
                "must be a number or an evidence key", path=label, field=f"{here}.factor"
            )
        value = item.get("value")
        if value is not None and not isinstance(value, str):
            raise ConfigError("must name an evidence key", path=label, field=f"{here}.value")
        fallback = item.get("fallback")
        if fallback is not None and not isinstance(fallback, str):
            raise ConfigError("must be a string", path=label, field=f"{here}.fallback")
        for key in ("when", "unless"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise ConfigError("must name an evidence key", path=label, field=f"{here}.{key}")
        out.append(
            AdviceTemplate(
                param=item["param"],
                action=item["action"],
                text=item["text"],
                fallback=fallback,
                factor=float(factor) if isinstance(factor, (int, float)) else factor,
                value=value,
                when=item.get("when"),
                unless=item.get("unless"),
            )
        )
    return tuple(out)


_SPEC = re.compile(r"^(?:.?[<>=^])?[+\- ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[bcdeEfFgGnosxX%]?$")


def placeholders(template: str) -> set[str]:
    """The field names a ``str.format`` template uses (``{best_x:g}`` → ``best_x``).

    Templates are data: a field is a plain name with an ordinary format spec. Attribute and index
    access (``{curve.__class__}``), conversions (``!r``), nested fields and absurd widths
    (``{x:>1000000000}``) are refused, so a pack can neither walk Python objects nor make the
    advice huge.
    """
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    for _, fname, spec, conversion in parsed:
        if fname is None:
            continue
        if not fname or fname.isdigit():
            raise ValueError("positional placeholders are not allowed")
        if not fname.isidentifier():
            raise ValueError(f"{{{fname}}}: only plain names (no '.', '[' or expressions)")
        if conversion is not None:
            raise ValueError(f"{{{fname}!{conversion}}}: conversions are not allowed")
        m = _SPEC.match(spec or "")
        if m is None:
            raise ValueError(f"{{{fname}:{spec}}}: not a plain number format")
        if any(int(g) > 40 for g in m.groups() if g):
            raise ValueError(f"{{{fname}:{spec}}}: width or precision above 40")
        names.add(fname)
    return names


def _validate_params(pack: Pack, rule: str, label: str) -> None:
    det = get_detector(rule)
    cfg = pack.rules[rule]
    where = f"rules.{rule}"
    try:
        det.Params.validate_fields(cfg.params)
    except FieldError as exc:
        raise ConfigError(exc.msg, path=label, field=f"{where}.params.{exc.loc}") from None
    always = set(det.evidence_keys) | set(CONTEXT_KEYS)
    maybe = set(det.optional_evidence_keys) | set(META_KEYS)
    for i, adv in enumerate(cfg.advice):
        here = f"{where}.advice[{i}]"
        # A key named by `when` is present whenever this advice is given.
        always_here = always | ({adv.when} if adv.when in maybe else set())
        maybe_here = maybe - always_here
        try:
            used = placeholders(adv.text)
            used_fb = placeholders(adv.fallback) if adv.fallback else set()
        except ValueError as exc:
            raise ConfigError(f"bad placeholder: {exc}", path=label, field=f"{here}.text") from None
        unknown = used - always_here - maybe_here
        if unknown:
            raise ConfigError(
                f"placeholder {{{sorted(unknown)[0]}}} cannot be filled by rule {rule!r}",
                path=label,
                field=f"{here}.text",
            )
        if used & maybe_here and adv.fallback is None:
            raise ConfigError(
                f"uses {{{sorted(used & maybe_here)[0]}}}, which not every log has: "
                "add a 'fallback'",
                path=label,
                field=f"{here}.fallback",
            )
        if used_fb - always_here:
            raise ConfigError(
                f"placeholder {{{sorted(used_fb - always_here)[0]}}} is not always available",
                path=label,
                field=f"{here}.fallback",
            )
        for key, cond in (("when", adv.when), ("unless", adv.unless)):
            if cond is not None and cond not in always | maybe:
                raise ConfigError(
                    f"{cond!r} is not an evidence key of rule {rule!r}",
                    path=label,
                    field=f"{here}.{key}",
                )
        for key, ref in (("value", adv.value), ("factor", adv.factor)):
            if isinstance(ref, str) and ref not in always | maybe:
                raise ConfigError(
                    f"{ref!r} is not an evidence key of rule {rule!r}",
                    path=label,
                    field=f"{here}.{key}",
                )


# -- config layers ----------------------------------------------------------------------------
def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.curvedoc]`` table, searching upward."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = _read_toml(candidate)
            except ConfigError:
                raise
            if isinstance(data.get("tool"), dict) and "curvedoc" in data["tool"]:
                return candidate
    return None


def _split_rules(values: Sequence[str] | None) -> list[str] | None:
    if values is None:
        return None
    out: list[str] = []
    for v in values:
        out.extend(part.strip() for part in str(v).split(",") if part.strip())
    return out


def _expand_selector(sel: str, where: str, label: str | None) -> list[str]:
    """A rule name, a code, or a code prefix (``CD3`` = every CD3xx rule), as ruff does."""
    key = sel.strip()
    if key.upper() == "ALL":
        return [d.name for d in DETECTORS]
    matched = [d.name for d in DETECTORS if d.name == key.lower() or d.code == key.upper()]
    if not matched and key.upper().startswith("CD"):
        matched = [d.name for d in DETECTORS if d.code.startswith(key.upper())]
    if not matched:
        names = ", ".join(d.name for d in DETECTORS)
        raise ConfigError(f"unknown rule {key!r} (known: {names})", path=label, field=where)
    return matched


def parse_value(text: str) -> Any:
    """A ``--set`` value as TOML (numbers, booleans, strings, arrays); bare words are strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _apply_overrides(
    pack: Pack, overrides: Mapping[str, Any], label: str, where_prefix: str
) -> Pack:
    rules = dict(pack.rules)
    for key, table in overrides.items():
        where = f"{where_prefix}.{key}" if where_prefix else key
        rule_name = _rule_name(key, label, where)
        rules[rule_name] = _merge_rule(rules[rule_name], table, label, where)
    new = replace(pack, rules=rules, sources=(*pack.sources, label))
    for rule_name in rules:
        _validate_params(new, rule_name, label)
    return new


def _check_mapping(
    raw: Any, allowed: Sequence[str], label: str | None, where: str
) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError("must be a table of name = value", path=label, field=where)
    out: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(v, str) or v not in allowed:
            raise ConfigError(
                f"must be one of {', '.join(allowed)}", path=label, field=f"{where}.{k}"
            )
        out[str(k)] = v
    return out


def resolve_settings(
    *,
    rules: str | Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    set_params: Sequence[str] | Mapping[str, Any] = (),
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    config: str | Path | None = "auto",
    fail_on: str | None = None,
    hparams: Sequence[str] | Mapping[str, Any] = (),
) -> Settings:
    """Resolve every configuration layer into :class:`Settings` (raises :class:`ConfigError`).

    ``config="auto"`` looks for ``[tool.curvedoc]`` in the nearest ``pyproject.toml`` upward from
    the working directory; a path uses that file; ``None`` ignores project config (``--isolated``).
    """
    tool: dict[str, Any] = {}
    config_path: Path | None = None
    if config == "auto":
        config_path = find_pyproject()
    elif config is not None:
        config_path = Path(config)
    label = str(config_path) if config_path else None
    if config_path is not None:
        data = _read_toml(config_path)
        raw_tool = (
            data.get("tool", {}).get("curvedoc", {}) if isinstance(data.get("tool"), dict) else {}
        )
        if not isinstance(raw_tool, dict):
            raise ConfigError("must be a table", path=label, field="tool.curvedoc")
        tool = raw_tool
        allowed = {"rules", "select", "ignore", "fail-on", "columns", "directions", "pack"}
        unknown = set(tool) - allowed
        if unknown:
            raise ConfigError(
                f"unknown key (expected {', '.join(sorted(allowed))})",
                path=label,
                field=f"tool.curvedoc.{sorted(unknown)[0]}",
            )

    pack_ref: str | Path = "default"
    if rules is not None:
        pack_ref = rules
    elif isinstance(tool.get("pack"), str) and config_path is not None:
        ref = tool["pack"]
        pack_ref = config_path.parent / ref if ("/" in ref or ref.endswith(".toml")) else ref
    pack = load_pack(pack_ref)

    rule_overrides = tool.get("rules", {})
    if rule_overrides:
        if not isinstance(rule_overrides, dict):
            raise ConfigError("must be a table of rules", path=label, field="tool.curvedoc.rules")
        pack = _apply_overrides(
            pack, rule_overrides, label or "pyproject.toml", "tool.curvedoc.rules"
        )

    cli_overrides: dict[str, dict[str, Any]] = {}
    items = (
        set_params.items()
        if isinstance(set_params, Mapping)
        else (_split_set(s) for s in set_params)
    )
    for key, value in items:
        rule_key, _, param = str(key).partition(".")
        if not param:
            raise ConfigError("expected rule.param=value", field=f"--set {key}")
        entry = cli_overrides.setdefault(rule_key, {})
        if param in ("enabled", "severity"):
            entry[param] = value
        else:
            entry.setdefault("params", {})[param] = value
    if cli_overrides:
        pack = _apply_overrides(pack, cli_overrides, "--set", "")

    sel_cfg = tool.get("select")
    ign_cfg = tool.get("ignore", [])
    for key, val in (("select", sel_cfg), ("ignore", ign_cfg)):
        if val is not None and not (isinstance(val, list) and all(isinstance(s, str) for s in val)):
            raise ConfigError(
                "must be a list of rule names or codes", path=label, field=f"tool.curvedoc.{key}"
            )
    sel = _split_rules(select)
    if sel is not None:
        chosen = [n for s in sel for n in _expand_selector(s, "--select", None)]
    elif sel_cfg is not None:
        chosen = [
            n
            for s in _split_rules(sel_cfg) or []
            for n in _expand_selector(s, "tool.curvedoc.select", label)
        ]
    else:
        chosen = [d.name for d in DETECTORS if pack.rules[d.name].enabled]
    ignored: set[str] = set()
    for s in _split_rules(ign_cfg) or []:
        ignored.update(_expand_selector(s, "tool.curvedoc.ignore", label))
    for s in _split_rules(ignore) or []:
        ignored.update(_expand_selector(s, "--ignore", None))
    order = [d.name for d in DETECTORS]
    selected = tuple(n for n in order if n in set(chosen) and n not in ignored)

    cfg_fail = tool.get("fail-on")
    if cfg_fail is not None and cfg_fail not in FAIL_ON:
        raise ConfigError(
            f"must be one of {', '.join(FAIL_ON)}", path=label, field="tool.curvedoc.fail-on"
        )
    if fail_on is not None and fail_on not in FAIL_ON:
        raise ConfigError(f"must be one of {', '.join(FAIL_ON)}", field="--fail-on")
    cols = _check_mapping(tool.get("columns"), (*ROLES, "ignore"), label, "tool.curvedoc.columns")
    cols.update(_check_mapping(columns, (*ROLES, "ignore"), None, "--column"))
    dirs = _check_mapping(tool.get("directions"), ("min", "max"), label, "tool.curvedoc.directions")
    dirs.update(_check_mapping(directions, ("min", "max"), None, "--direction"))
    return Settings(
        pack=pack,
        selected=selected,
        columns=cols,
        directions=dirs,
        fail_on=fail_on if fail_on is not None else cfg_fail,
        config_path=label,
        hparams=_parse_hparams(hparams),
    )


def _parse_hparams(raw: Sequence[str] | Mapping[str, Any]) -> dict[str, Any]:
    """``["learning_rate=3e-4", "batch_size=64"]`` or a mapping → plain JSON scalars."""
    items = raw.items() if isinstance(raw, Mapping) else (_split_hparam(s) for s in raw)
    out: dict[str, Any] = {}
    for key, value in items:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError("must be a number or a word", field=f"--hparam {key}")
        out[str(key)] = value
    return out


def _split_hparam(text: str) -> tuple[str, Any]:
    key, eq, value = str(text).partition("=")
    if not eq or not key.strip():
        raise ConfigError("expected name=value (e.g. learning_rate=3e-4)", field=f"--hparam {text}")
    return key.strip(), parse_value(value.strip())


def _split_set(text: str) -> tuple[str, Any]:
    key, eq, value = str(text).partition("=")
    if not eq or not key.strip():
        raise ConfigError("expected rule.param=value", field=f"--set {text}")
    return key.strip(), parse_value(value.strip())
