"""Errors that reach the user as one line, never as a traceback."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad input: a scenario value, a key, a file or a command-line override.

    The message always names the key, the value, the rule and the file (or ``--set``),
    e.g. ``threats.rocket.heavy_salvo_prob = 1.3 must be in [0, 1] (configs/baseline.toml)``.
    """

    def __init__(self, key: str, value: object, rule: str, origin: str) -> None:
        origin = str(origin)  # a file name, or an object that finds it only now
        self.key, self.value, self.rule, self.origin = key, value, rule, origin
        shown = "" if value is _NO_VALUE else f" = {_show(value)}"
        if key == "" and value is not _NO_VALUE:
            key = '""'
        text = f"{key}{shown} {rule}" if key else rule
        super().__init__(f"{text} ({origin})")


class UsageError(ValueError):
    """A command-line request that cannot be carried out (e.g. an output folder in use)."""


class _NoValue:
    def __repr__(self) -> str:  # pragma: no cover - never shown
        return "<no value>"


_NO_VALUE = _NoValue()
NO_VALUE = _NO_VALUE


def _show(value: object) -> str:
    """A value as the user wrote it: dates in ISO form, strings quoted."""
    from datetime import date

    if isinstance(value, date):
        return value.isoformat()
    return repr(value)
