"""Declaring scenario parameters: a unit and a validity rule on each dataclass field.

A scenario is a tree of frozen dataclasses. Each field is declared with :func:`param`,
which records its unit and the rule its value must satisfy; :mod:`sim.config` reads
those declarations to turn a TOML document into validated objects, and to name the
unit and rule in error messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    """A named predicate on a value: ``check(value)`` is True when the value is valid."""

    text: str
    check: Callable[[Any], bool]
    explain: Callable[[Any], str] | None = None  # the rule a given value breaks, if it depends on the value

    def broken_by(self, value: Any) -> str:
        """The rule as the error about ``value`` states it."""
        return self.explain(value) if self.explain is not None else self.text


def in_range(lo: float, hi: float) -> Rule:
    return Rule(f"must be in [{lo:g}, {hi:g}]", lambda v: lo <= v <= hi)


PROBABILITY = Rule("must be in [0, 1]", lambda v: 0.0 <= v <= 1.0)
NON_NEGATIVE = Rule("must be >= 0", lambda v: v >= 0)
POSITIVE = Rule("must be > 0", lambda v: v > 0)
AT_LEAST_ONE = Rule("must be >= 1", lambda v: v >= 1)
ANY = Rule("", lambda v: True)
NAME = Rule(
    "must be a non-empty name of letters, digits, '_' or '-'",
    lambda v: bool(v) and all(c.isalnum() or c in "_-" for c in v),
)


def one_of(*choices: str) -> Rule:
    return Rule(f"must be one of {', '.join(choices)}", lambda v: v in choices)


def _each(rule: Rule) -> Rule:
    return Rule(f"{rule.text} (each element)", lambda vs: all(rule.check(v) for v in vs))


PROBABILITIES = _each(PROBABILITY)


def param(unit: str, rule: Rule = ANY, default: Any = ..., doc: str = "") -> Any:
    """Declare a scenario parameter with its unit and validity rule.

    Fields without a default are required in the scenario file: the code holds no hidden
    numbers. A default is given only for optional dated entries (``None`` = never).
    """
    meta = {"unit": unit, "rule": rule, "doc": doc}
    if default is ...:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class FrozenMap(Mapping):
    """A read-only, hashable, picklable mapping of names to frozen sections (sites, regimes)."""

    __slots__ = ("_items",)

    def __init__(self, items: dict) -> None:
        object.__setattr__(self, "_items", dict(items))

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMap is read-only")

    def __reduce__(self):
        return (FrozenMap, (self._items,))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"
