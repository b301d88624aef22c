"""candle_lib's parameter functions, on candle_core's one parameter pipeline."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from candle_core.compat import finalize_parameters as finalize_parameters  # candle_core's pipeline
from candle_core.errors import CandleError
from candle_core.parameters.keyword import UNSET, Keyword, ValueMismatch
from candle_core.parameters.registry import KeywordRegistry

# pairs of boolean keywords that must not both be on (candle_lib's list)
CONFLICTS = (("clr_flag", "warmup_lr"), ("clr_flag", "reduce_lr"))


class ArgumentStruct:
    """The parameters as attributes: ``ArgumentStruct(**params).epochs``."""

    def __init__(self, **entries: Any) -> None:
        self.__dict__.update(entries)


def check_flag_conflicts(params: Mapping[str, Any]) -> None:
    """Raise ``CandleError`` if two keywords that exclude each other are both on."""
    for first, second in CONFLICTS:
        if params.get(first) is True and params.get(second) is True:
            raise CandleError(f"keywords {first} and {second} cannot both be on; turn one off")


def _converter(keyword: Keyword):
    """argparse's ``type`` for one word of ``keyword``, reporting a mismatch argparse's way."""

    def convert(text: str) -> Any:
        try:
            if keyword.action == "list-of-lists":
                return keyword.parse_list_of_lists(text)
            value = keyword.coerce(text, from_text=True)
            return value[0] if keyword.is_list else value
        except ValueMismatch as exc:
            raise argparse.ArgumentTypeError(f"expected {exc}, got {text!r}") from None

    convert.__name__ = keyword.name
    return convert


def parse_from_dictlist(dictlist: Sequence[Mapping[str, Any]], parser: argparse.ArgumentParser):
    """Add one option per CANDLE definition dict to ``parser`` and return it. The definitions are
    checked as a benchmark's are (unknown definition keys, bad actions are errors)."""
    registry = KeywordRegistry()
    registry.add(dictlist, origin="parse_from_dictlist")
    for keyword in registry:
        flags = [f"--{keyword.name}"] + ([f"-{keyword.abv}"] if keyword.abv else [])
        options: dict[str, Any] = {
            "dest": keyword.name,
            "type": _converter(keyword),
            "default": argparse.SUPPRESS if keyword.default is UNSET else keyword.default,  # absent, as CANDLE
            "help": keyword.help or "",
        }
        if keyword.is_bool:
            options.update(nargs="?", const=True)
        elif keyword.is_list and keyword.action != "list-of-lists":
            options["nargs"] = keyword.nargs
        if keyword.choices:
            options["choices"] = keyword.choices
        parser.add_argument(*flags, **options)
    return parser
