"""Load scenario files into frozen, validated :class:`~sim.scenario.Scenario` objects.

A scenario file is TOML. It may start with ``extends = "other.toml"`` (a path relative to
the file) to override another scenario; tables merge key by key. Command-line overrides
(``--set threats.rocket.heavy_salvo_prob=0.2``) are applied last. Every value is then
checked against its declared type and rule (:mod:`sim.params`); the first problem raises a
:class:`~sim.errors.ConfigError` naming the key, the value, the rule and the file where the
value was written. Nothing is simulated until the whole scenario is valid.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import threading
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sim.config.errors import NO_VALUE, ConfigError
from sim.config.limits import CONFIG_BYTES, CONFIG_KEYS, read_bounded_text
from sim.config.scenario import Scenario
from sim.config.schema import NAME, FrozenMap, is_finite_number

SET_ORIGIN = "--set"
_MAX_EXTENDS_DEPTH = 8


def load_scenario(
    path: str | Path, overrides: Iterable[str] | Mapping[str, Any] = (), override_origin: str = SET_ORIGIN
) -> Scenario:
    """Read, merge, override and validate a scenario file.

    Parameters
    ----------
    path : scenario TOML file.
    overrides : ``"dotted.key=value"`` strings (values in TOML syntax; bare words are
        strings) or a mapping of dotted keys to Python values.
    override_origin : where the overrides were written, for error messages (``--set``, or
        an experiment file and its scenario).

    Raises
    ------
    ConfigError : for a missing or unreadable file, bad TOML, an unknown key, a wrong type
        or a value that breaks its rule.
    """
    doc, origins = read_document(Path(path))
    items = overrides.items() if isinstance(overrides, Mapping) else map(parse_assignment, overrides)
    for key, value in items:
        apply_override(doc, origins, key, value, Scenario, override_origin)
    return build(Scenario, doc, "", origins, str(path))


def with_values(scenario: Scenario, values: Mapping[str, Any], origin: str) -> Scenario:
    """``scenario`` with the parameters at dotted keys set to ``values``, each checked against
    its declared type and rule and every changed section against its cross-field rules, as
    :func:`load_scenario` checks them; a problem raises a :class:`ConfigError` naming
    ``origin``. Far quicker than reloading the files, for many variants of one scenario (a
    posterior sample, the particles of a calibration)."""
    for key, value in values.items():
        scenario = _replaced(scenario, Scenario, key.split("."), value, key, origin)
    return scenario


def _replaced(obj: Any, kind: Any, parts: list[str], value: Any, key: str, origin: str) -> Any:
    part, rest = parts[0], parts[1:]
    inner = _mapping_value_type(kind)
    if inner is not None:
        if part not in obj:
            raise ConfigError(key, value, f"names an entry '{part}' the scenario does not have", origin)
        if not rest:  # the entry itself (sites.embassy): a table
            raise ConfigError(key, value, "names a table, not a parameter", origin)
        return FrozenMap({**obj, part: _replaced(obj[part], inner, rest, value, key, origin)})
    fields = _fields(kind) if dataclasses.is_dataclass(kind) else {}
    if part not in fields:
        raise ConfigError(key, value, "is not a known parameter", origin)
    field_kind, field = fields[part]
    if rest:
        new = _replaced(getattr(obj, part), field_kind, rest, value, key, origin)
    else:
        if dataclasses.is_dataclass(field_kind) or _mapping_value_type(field_kind) is not None:
            raise ConfigError(key, value, "names a table, not a parameter", origin)
        new = _scalar(field_kind, value, key, origin)
        rule = field.metadata.get("rule")
        if rule is not None and rule.text and new is not None and not rule.check(new):
            raise ConfigError(key, value, rule.broken_by(new), origin)
    instance = dataclasses.replace(obj, **{part: new})
    for problem_key, problem_value, rule_text in instance.check() if hasattr(instance, "check") else []:
        section = key[: len(key) - len(".".join(parts))]
        raise ConfigError(section + problem_key, problem_value, rule_text, origin)
    return instance


def read_document(path: Path, depth: int = 0) -> tuple[dict, dict[str, str]]:
    """Parse a TOML file and the chain of files it extends; return the merged table and,
    for each dotted key, the file that set it. Time grows in proportion to the keys."""
    document, where = _read_chain(path, depth)
    return document, flatten(where)


def _read_chain(path: Path, depth: int) -> tuple[dict, dict]:
    """The merged table, and a table of the same shape whose leaves are the files that set them."""
    origin = str(path)
    if depth > _MAX_EXTENDS_DEPTH:
        raise ConfigError("extends", origin, f"chain is deeper than {_MAX_EXTENDS_DEPTH} files (a cycle?)", origin)
    own = read_toml(path, "scenario file")
    parent = own.pop("extends", None)
    if parent is None:
        return own, _origin_tree(own, origin)
    if not isinstance(parent, str) or not parent:
        raise ConfigError("extends", parent, "must be a path to another scenario file", origin)
    doc, where = _read_chain(path.parent / parent, depth + 1)
    _merge(doc, own)
    _merge_origins(where, _origin_tree(own, origin))
    return doc, where


def _origin_tree(table: Mapping, origin: str) -> dict:
    """``table`` with every leaf (an empty table is a leaf, as in :func:`flatten`) replaced by ``origin``."""
    return {
        key: _origin_tree(value, origin) if isinstance(value, Mapping) and value else origin
        for key, value in table.items()
    }


def _merge_origins(base: dict, top: dict) -> None:
    """A value written in ``top`` replaces what ``base`` wrote at or below it, and a table
    written in ``top`` below a value of ``base`` replaces that value."""
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge_origins(base[key], value)
        else:
            base[key] = value


def read_toml(path: Path, what: str) -> dict:
    """Parse one TOML file; any failure is a one-line :class:`ConfigError` naming it. Only a
    regular file of bounded size with a bounded number of keys is read (see :mod:`sim.config.limits`)."""
    origin = str(path)
    text = read_bounded_text(path, what, CONFIG_BYTES)
    try:
        document = parse_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", NO_VALUE, f"{what} is not valid TOML: {exc}", origin) from None
    keys = _count_keys(document)
    if keys > CONFIG_KEYS.most:
        raise ConfigError(
            "", NO_VALUE, f"{what} holds {keys} keys, more than {CONFIG_KEYS.most:,} ({CONFIG_KEYS.reason})", origin
        )
    return document


PARSED_TEXTS = 32  # the most TOML texts a process keeps parsed
PARSED_TEXT_CHARACTERS = 1_000_000  # longer texts are parsed each time
_parsed: dict[str, dict] = {}
_parsed_lock = threading.Lock()  # scenarios may be loaded from several threads (a Dask worker's)


def parse_toml(text: str) -> dict:
    """``tomllib.loads(text)``, a fresh copy each time; a text seen before in this process is
    copied, not parsed again (a copy costs about a tenth of parsing ``configs/baseline.toml``,
    which every scenario, experiment and sweep of the project extends)."""
    with _parsed_lock:
        document = _parsed.get(text)
    if document is None:
        document = tomllib.loads(text)
        if len(text) <= PARSED_TEXT_CHARACTERS:
            with _parsed_lock:
                if len(_parsed) >= PARSED_TEXTS:
                    del _parsed[next(iter(_parsed))]  # the oldest
                _parsed[text] = document
    return copy.deepcopy(document)


def _count_keys(table: Mapping) -> int:
    """Keys of a table and of every table within it (tables in arrays too)."""
    count, pending = 0, [table]
    while pending:
        item = pending.pop()
        if isinstance(item, Mapping):
            count += len(item)
            pending.extend(v for v in item.values() if isinstance(v, (Mapping, list)))
        else:
            pending.extend(v for v in item if isinstance(v, (Mapping, list)))
    return count


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split ``key=value``; the value is read as TOML, or kept as a string if it is not TOML."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(text, NO_VALUE, "must have the form dotted.key=value", SET_ORIGIN)
    try:
        return key, tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return key, raw.strip()


def apply_override(
    doc: dict, origins: dict[str, str], key: str, value: Any, schema: type, origin: str = SET_ORIGIN
) -> None:
    """Set ``doc[dotted key] = value`` after checking the key names a parameter of ``schema``."""
    parts = key.split(".")
    if not all(parts):
        raise ConfigError(key, value, "is not a dotted parameter path", origin)
    _check_known(schema, parts, key, value, origin)
    table = doc
    for part in parts[:-1]:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ConfigError(key, value, "goes below a value that is not a table", origin)
    table[parts[-1]] = value
    origins[key] = origin


def _check_known(schema: type, parts: list[str], key: str, value: Any, origin: str) -> None:
    declared = parameter_field(schema, key)
    if isinstance(declared, str):
        raise ConfigError(key, value, declared, origin)


def parameter_field(schema: type, key: str) -> dataclasses.Field | str:
    """The declared field of the parameter at dotted ``key`` of ``schema`` (its metadata holds
    the unit and the rule), or the reason why ``key`` names no parameter."""
    kind: Any = schema
    field = None
    for part in key.split("."):
        inner = _mapping_value_type(kind)
        if inner is not None:  # this part names a site or a regime
            if not NAME.check(part):
                return f"names an entry '{part}' that {NAME.text}"
            kind = inner
        elif dataclasses.is_dataclass(kind) and part in _fields(kind):
            kind, field = _fields(kind)[part]
        else:
            return "is not a known parameter"
    if dataclasses.is_dataclass(kind) or _mapping_value_type(kind) is not None:
        return "names a table, not a parameter"
    return field


def _mapping_value_type(kind: Any) -> type | None:
    if typing.get_origin(kind) in (Mapping, dict):
        return typing.get_args(kind)[1]
    return None


def build(cls: type, table: Any, prefix: str, origins: dict[str, str], root: str) -> Any:
    """Turn a TOML table into an instance of dataclass ``cls``, validating every field."""
    where = origins.get(prefix.rstrip("."), root) if prefix else root
    if not isinstance(table, dict):
        raise ConfigError(prefix.rstrip("."), table, "must be a table", where)
    fields = _fields(cls)
    check_keys(table, fields, prefix, lambda full: origins.get(full, _origin_of(origins, full, root)))
    values = {}
    for name, (kind, field) in fields.items():
        full = prefix + name
        origin = _Where(origins, full, root)  # looked up only if a message needs it
        if name not in table:
            if field.default is dataclasses.MISSING:
                raise ConfigError(
                    full, NO_VALUE, "is missing (required)", _origin_of(origins, prefix.rstrip("."), root)
                )
            values[name] = field.default
            continue
        values[name] = _convert(kind, table[name], full, origins, root, origin)
        rule = field.metadata.get("rule")
        if rule is not None and rule.text and values[name] is not None and not rule.check(values[name]):
            raise ConfigError(full, table[name], rule.broken_by(values[name]), origin)
    instance = cls(**values)
    for key, value, rule in instance.check() if hasattr(instance, "check") else []:
        full = prefix + key
        raise ConfigError(full, value, rule, origins.get(full, _origin_of(origins, full, root)))
    return instance


def check_keys(table: dict, known: Iterable[str], prefix: str, origin: str | Callable[[str], str]) -> None:
    """Every key of ``table`` must be one of ``known``; the first that is not is a
    :class:`ConfigError` naming it, the keys that are known, and where it was written
    (``origin``, or ``origin(dotted key)``)."""
    known = list(known)
    for key in table:
        if key not in known:
            where = origin(prefix + key) if callable(origin) else origin
            raise ConfigError(prefix + key, table[key], f"is not a known key (known: {', '.join(known)})", where)


def _convert(kind: Any, value: Any, key: str, origins: dict, root: str, origin: str | _Where) -> Any:
    inner = _mapping_value_type(kind)
    if inner is not None:
        if not isinstance(value, dict):
            raise ConfigError(key, value, "must be a table of named entries", origin)
        for name in value:
            if not NAME.check(name):
                raise ConfigError(f"{key}.{name}", name, NAME.text, origins.get(f"{key}.{name}", origin))
        return FrozenMap({n: build(inner, v, f"{key}.{n}.", origins, root) for n, v in value.items()})
    if dataclasses.is_dataclass(kind):
        return build(kind, value, key + ".", origins, root)
    return _scalar(kind, value, key, origin)


def _scalar(kind: Any, value: Any, key: str, origin: str | _Where) -> Any:
    args = typing.get_args(kind)
    if isinstance(kind, types.UnionType) and type(None) in args:
        kind = next(a for a in args if a is not type(None))
    if typing.get_origin(kind) is tuple:
        if typing.get_args(kind)[0] is str:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(key, value, "must be a list of strings", origin)
            return tuple(value)
        if not isinstance(value, list) or not all(is_finite_number(v) for v in value):
            raise ConfigError(key, value, "must be a list of finite numbers", origin)
        return tuple(float(v) for v in value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, value, "must be true or false", origin)
        return value
    if kind is float:
        if not is_finite_number(value):
            raise ConfigError(key, value, "must be a finite number", origin)
        return float(value)
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(key, value, "must be an integer", origin)
        return value
    if kind is date:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ConfigError(key, value, "must be a date like 2020-01-01", origin)
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(key, value, "must be a string", origin)
        return value
    raise TypeError(f"unsupported parameter type {kind!r} for {key}")


@functools.cache
def _fields(cls: type) -> dict[str, tuple[Any, dataclasses.Field]]:
    hints = typing.get_type_hints(cls)
    return {f.name: (hints[f.name], f) for f in dataclasses.fields(cls)}


class _Where:
    """Where a key was written, found only when an error message is shown."""

    __slots__ = ("origins", "key", "root")

    def __init__(self, origins: dict[str, str], key: str, root: str) -> None:
        self.origins, self.key, self.root = origins, key, root

    def __str__(self) -> str:
        return self.origins.get(self.key) or _origin_of(self.origins, self.key, self.root)


def _origin_of(origins: dict[str, str], key: str, root: str) -> str:
    """The file that set ``key`` or, failing that, the nearest enclosing table."""
    while key:
        for known, origin in origins.items():
            if known == key or known.startswith(key + "."):
                return origin
        key = key.rpartition(".")[0]
    return root


def _merge(base: dict, top: dict) -> None:
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def flatten(table: Mapping, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value of every leaf of a nested table (an empty table is a leaf)."""
    leaves: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, Mapping) and value:
            leaves.update(flatten(value, f"{prefix}{key}."))
        else:
            leaves[prefix + key] = value
    return leaves


def to_plain(obj: Any) -> Any:
    """A JSON-ready copy of a scenario (dates as ISO strings), for manifests and hashes."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


def input_files(path: str | Path) -> list[Path]:
    """A scenario file and every file it extends, in that order."""
    files, path = [], Path(path)
    while len(files) <= _MAX_EXTENDS_DEPTH:
        files.append(path)
        parent = read_toml(path, "scenario file").get("extends")
        if not isinstance(parent, str):
            break
        path = path.parent / parent
    return files


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the validated scenario's canonical JSON: equal worlds, equal hashes."""
    text = json.dumps(to_plain(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
