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
        key = shorten(printable(key))
        if key == "" and value is not _NO_VALUE:
            key = '""'
        text = f"{key}{shown} {shorten(rule, MAX_RULE_CHARS)}" if key else shorten(rule, MAX_RULE_CHARS)
        super().__init__(shorten(f"{text} ({shorten(printable(origin), MAX_ORIGIN_CHARS)})", MAX_LINE_CHARS))


class UsageError(ValueError):
    """A command-line request that cannot be carried out (e.g. an output folder in use)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(shorten(str(message), MAX_LINE_CHARS))


# An error is one line a user can read: a value (a 50 MB string, a key of a million characters)
# is shown by its start and its length, and the whole line has a bound.
MAX_VALUE_CHARS = 200
MAX_ORIGIN_CHARS = 400
MAX_RULE_CHARS = 1000
MAX_LINE_CHARS = 2000


def shorten(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text``, or its first characters and ``... (N characters)`` if it is longer than ``limit``."""
    if len(text) <= limit:
        return text
    tail = f"... ({len(text)} characters)"
    return text[: max(0, limit - len(tail))] + tail


def printable(text: str) -> str:
    """Line breaks and control characters escaped, so that a message stays one line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


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
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return repr(value[:MAX_VALUE_CHARS]) + f"... ({len(value)} characters)"  # not the repr of all 50 MB
    if isinstance(value, (list, tuple, dict)) and len(value) > MAX_VALUE_CHARS:
        return f"{type(value).__name__} of {len(value)} elements"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * MAX_VALUE_CHARS:
        return f"an integer of {value.bit_length()} bits"  # repr of a huge int is slow and long
    return shorten(repr(value))
