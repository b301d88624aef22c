"""One keyword definition (CANDLE's ``additional_definitions`` entry) and its value rules."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from candle_core.errors import CandleError, did_you_mean
from candle_core.parameters.literal import LiteralError, parse_literal

DEFINITION_KEYS = ("name", "abv", "type", "default", "help", "action", "choices", "nargs", "bounds")
ACTIONS = ("store", "list-of-lists")


class Unset:
    """Marker for 'no default': the keyword has no value unless a file or flag sets it."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()

_TRUE = ("yes", "true", "t", "y", "1")
_FALSE = ("no", "false", "f", "n", "0")


def str2bool(text: str | bool | int) -> bool:
    """CANDLE's boolean type: yes/true/t/y/1 and no/false/f/n/0, any case."""
    if isinstance(text, bool):
        return text
    if isinstance(text, int) and text in (0, 1):
        return bool(text)
    lowered = str(text).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected a boolean (true/false, yes/no, 1/0), got {text!r}")


class ValueMismatch(ValueError):
    """A value does not fit its keyword; the message says what was expected."""


_INTERVAL = re.compile(r"^\s*([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])\s*$")


@dataclass(frozen=True)
class Bounds:
    """The range a number keyword's values must lie in, written as an interval: ``"[0, 1)"``,
    ``"(0, inf)"``, ``"[1, inf)"`` (a candle extension of CANDLE's definitions: key ``bounds``)."""

    text: str
    low: float
    high: float
    low_open: bool
    high_open: bool

    @classmethod
    def parse(cls, text: str, where: str) -> Bounds:
        match = _INTERVAL.match(str(text))
        try:
            if match is None:
                raise ValueError(text)
            low, high = float(match.group(2)), float(match.group(3))
        except ValueError:
            raise CandleError(f"{where}: bounds {text!r}: write an interval such as '[0, 1)' or '(0, inf)'") from None
        return cls(str(text).strip(), low, high, match.group(1) == "(", match.group(4) == ")")

    def holds(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below


def _type_name(kind: Callable | None) -> str:
    if kind is str2bool or kind is bool:
        return "boolean"
    expected = getattr(kind, "expected", None)  # a custom type that says what it takes
    if expected is not None:
        return str(expected)
    names: dict[Any, str] = {int: "integer", float: "number", str: "text"}
    return names.get(kind, "value")


@dataclass
class Keyword:
    """A parameter keyword: its type, shape, default and allowed values."""

    name: str
    type: Callable | None = None
    abv: str | None = None
    default: Any = UNSET
    help: str = ""
    action: str = "store"
    choices: Sequence[Any] | None = None
    nargs: str | int | None = None
    origin: str = ""
    bounds: Bounds | None = None

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any], origin: str) -> Keyword:
        """Build a keyword from a CANDLE definition dict; unknown dict keys are errors."""
        if not isinstance(definition, Mapping) or "name" not in definition:
            raise CandleError(f"{origin}: a keyword definition must be a dict with a 'name', got {definition!r}")
        name = definition["name"]
        for key in definition:
            if key not in DEFINITION_KEYS:
                raise CandleError(
                    f"{origin}: keyword '{name}': unknown definition key '{key}'{did_you_mean(key, DEFINITION_KEYS)}; "
                    f"allowed: {', '.join(DEFINITION_KEYS)}"
                )
        action = definition.get("action") or "store"
        if action in ("store_true", "store_false"):
            raise CandleError(
                f"{origin}: keyword '{name}': action '{action}' cannot be undone on the command line; "
                "use 'type': str2bool instead"
            )
        if not isinstance(action, str) or action not in ACTIONS:
            # CANDLE passed its ListOfListsAction class itself; accept it by name.
            if getattr(action, "__name__", "") == "ListOfListsAction":
                action = "list-of-lists"
            else:
                raise CandleError(
                    f"{origin}: keyword '{name}': unknown action {action!r}; allowed: {', '.join(ACTIONS)}"
                )
        kind = definition.get("type")
        if kind is bool:
            kind = str2bool
        if action == "list-of-lists" and kind is None:
            kind = int
        default = definition.get("default", UNSET)
        if isinstance(default, str) and default == argparse.SUPPRESS:
            default = UNSET
        abv = definition.get("abv")
        bounds = definition.get("bounds")
        return cls(
            name=name,
            type=kind,
            abv=abv,
            default=default,
            help=definition.get("help", "") or "",
            action=action,
            choices=definition.get("choices"),
            nargs=definition.get("nargs"),
            origin=origin,
            bounds=None if bounds is None else Bounds.parse(bounds, f"{origin}: keyword '{name}'"),
        )

    # ----------------------------------------------------------------- description
    @property
    def is_bool(self) -> bool:
        return self.type is str2bool

    @property
    def is_list(self) -> bool:
        return self.nargs is not None

    def expected(self) -> str:
        """Say in words what a value of this keyword looks like."""
        element = _type_name(self.type)
        if self.action == "list-of-lists":
            text = f"a list of lists of {element}s (e.g. 1,2:3,4 or [[1, 2], [3, 4]])"
        elif self.is_list:
            text = f"a list of {element}s" if element != "value" else "a list"
        else:
            text = f"a {element}" if element != "value" else "a value"
            if element == "integer":
                text = "an integer"
        if self.choices:
            text += " in {" + ", ".join(str(c) for c in self.choices) + "}"
        if self.bounds is not None:
            text += f" in {self.bounds.text}"
        return text

    # ----------------------------------------------------------------- coercion
    def _scalar(self, value: Any, from_text: bool) -> Any:
        kind = self.type
        if from_text and isinstance(value, str):
            if kind is None:
                try:
                    return parse_literal(value)
                except LiteralError:
                    return value
            if value == "None" and kind is not str:
                return None
        if value is None:
            return None
        if kind is None:
            return value
        if kind is str2bool:
            if isinstance(value, (str, int)) and not isinstance(value, float):
                try:
                    return str2bool(value)
                except ValueError:
                    pass
            raise ValueMismatch(self.expected())
        if kind in (int, float):
            return self._number(value, kind)
        if kind is str:
            if isinstance(value, str):
                return value
            suffix = f" (quote it: '{value}')" if isinstance(value, (int, float)) else ""
            raise ValueMismatch(self.expected() + suffix)
        try:  # a custom callable type, as CANDLE allows
            return kind(value)
        except (TypeError, ValueError) as exc:
            raise ValueMismatch(self.expected() if hasattr(kind, "expected") else f"{self.expected()}: {exc}") from None

    def _number(self, value: Any, kind: Callable[[Any], int | float]) -> int | float:
        """An int or float; text is parsed; an integral float is an int; a boolean is refused."""
        if isinstance(value, str):
            try:
                value = kind(value.strip())
            except ValueError:
                raise ValueMismatch(self.expected()) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueMismatch(self.expected())
        if not math.isfinite(value):
            raise ValueMismatch(self.expected() + " (finite)")
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueMismatch(self.expected())
            value = int(value)
        else:
            value = float(value)
        if self.bounds is not None and not self.bounds.holds(value):
            raise ValueMismatch(self.expected())
        return value

    def _check_choice(self, value: Any) -> None:
        if self.choices and value is not None and value not in self.choices:
            hint = did_you_mean(str(value), [str(c) for c in self.choices])
            raise ValueMismatch(f"one of {{{', '.join(str(c) for c in self.choices)}}}{hint}")

    def _element(self, value: Any, from_text: bool) -> Any:
        converted = self._scalar(value, from_text)
        self._check_choice(converted)
        return converted

    def parse_list_of_lists(self, text: str) -> list[list[Any]]:
        """CANDLE's list-of-lists syntax: ':' separates lists, ',' separates elements."""
        cleaned = text.replace("[", "").replace("]", "")
        return [[self._element(item.strip(), True) for item in group.split(",")] for group in cleaned.split(":")]

    def coerce(self, value: Any, from_text: bool = False) -> Any:
        """Check and convert a value from a file (a literal) or the command line (text).

        A list keyword given one scalar in a file keeps it as a scalar, as CANDLE does; given a
        text (command line, search), the text is split on spaces and commas.
        Raises ``ValueMismatch`` saying what was expected.
        """
        if self.action == "list-of-lists":
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
                value = value[0]
            if isinstance(value, str):
                return self.parse_list_of_lists(value)
            if isinstance(value, list) and all(isinstance(group, list) for group in value):
                return [[self._element(item, from_text) for item in group] for group in value]
            if value is None:
                return None
            raise ValueMismatch(self.expected())
        if from_text and self.is_list and isinstance(value, str):
            value = value.replace(",", " ").split()  # "500 100 50" -> a list, as CANDLE's searches write them
        if isinstance(value, list):
            if not self.is_list:
                raise ValueMismatch(self.expected() + " (a single value, not a list)")
            items = [self._element(item, from_text) for item in value]
            if isinstance(self.nargs, int) and len(items) != self.nargs:
                raise ValueMismatch(f"exactly {self.nargs} values")
            if self.nargs == "+" and not items:
                raise ValueMismatch("at least one value")
            return items
        return self._element(value, from_text)
