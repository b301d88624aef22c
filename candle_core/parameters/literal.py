"""Safe parsing of the Python-literal-like values of CANDLE configuration files.

CANDLE evaluated these with ``eval``; we use ``ast.literal_eval``, which accepts only
literals (numbers, strings, booleans, None, lists, tuples, dicts, sets) and never runs code.
"""

from __future__ import annotations

import ast
import re
from typing import Any

_BARE_WORD = re.compile(r"^[A-Za-z_][\w.\-/]*$")


class LiteralError(ValueError):
    """The text is not a literal; ``hint`` says how to write it."""

    def __init__(self, text: str, hint: str) -> None:
        self.text = text
        self.hint = hint
        super().__init__(hint)


def parse_literal(text: str) -> Any:
    """Parse ``text`` as a Python literal (``128``, ``'relu'``, ``[1, 2]``, ``True``, ``None``)."""
    stripped = text.strip()
    if not stripped:
        raise LiteralError(text, "no value after '='; write a value such as 0, 'text' or None")
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if _BARE_WORD.match(stripped):
            if stripped.lower() in ("true", "false", "none"):
                hint = f"write {stripped.capitalize()} (Python spelling)"
            else:
                hint = f"a text value must be quoted: write '{stripped}'"
        else:
            hint = "not a Python literal (number, 'quoted text', [list], True/False or None)"
        raise LiteralError(text, hint) from None
    if isinstance(value, tuple):
        value = list(value)
    return value
