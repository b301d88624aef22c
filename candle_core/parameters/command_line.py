"""Keyword flags on the command line: ``--epochs 5``, ``-e 5``, ``--dense 200 20``, ``--shuffle``."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from candle_core.errors import CandleError, did_you_mean
from candle_core.parameters.keyword import UNSET
from candle_core.parameters.registry import KeywordRegistry


@dataclass(frozen=True)
class FlagValue:
    """A keyword set on the command line, with the flag as the user spelled it."""

    name: str
    flag: str
    raw: str | list[str]


class _Record(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):  # noqa: D102
        given = getattr(namespace, "_given", None)
        if given is None:
            given = {}
            namespace._given = given
        given[self.dest] = FlagValue(self.dest, option_string or self.dest, values)


class _Parser(argparse.ArgumentParser):
    """argparse, but its complaints become CandleErrors (no usage dump, exit code 2 at the edge),
    and a negative number in exponent form (``-lr -1e-3``) is a value, not a flag."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")

    def error(self, message: str):  # noqa: D102
        raise CandleError(f"command line: {message}")


def keyword_parser(registry: KeywordRegistry, prog: str, description: str = "") -> argparse.ArgumentParser:
    """An argparse parser with one option per keyword (used for parsing and for ``--help``)."""
    parser = _Parser(prog=prog, description=description, allow_abbrev=False, add_help=False)
    for keyword in registry:
        flags = [f"--{keyword.name}"]
        if keyword.abv:
            flags.append(f"-{keyword.abv}")
        if keyword.action == "list-of-lists":
            nargs, metavar = None, "A,B:C,D"
        elif keyword.is_list:
            nargs, metavar = keyword.nargs, keyword.name.upper()
        elif keyword.is_bool:
            nargs, metavar = "?", "BOOL"
        else:
            nargs, metavar = None, keyword.name.upper()
        if keyword.choices and not keyword.is_list:
            metavar = "{" + ",".join(str(c) for c in keyword.choices) + "}"
        kwargs: dict[str, Any] = {"nargs": nargs} if nargs is not None else {}
        if keyword.is_bool:
            kwargs["const"] = "true"
        default = "" if keyword.default in (None, UNSET) else f" (default: {keyword.default})"
        parser.add_argument(
            *flags,
            dest=keyword.name,
            action=_Record,
            default=argparse.SUPPRESS,
            metavar=metavar,
            help=(keyword.help or "") + default,
            **kwargs,
        )
    return parser


@dataclass
class ParsedFlags:
    """Keywords given on the command line, and the unknown flags or stray words met."""

    given: dict[str, FlagValue]
    problems: list[str]


def parse_keyword_flags(registry: KeywordRegistry, argv: Sequence[str], prog: str) -> ParsedFlags:
    """Parse keyword flags; unknown flags (with suggestions) and stray words become problems.

    The words right after an unknown flag are taken as its values, not reported again.
    """
    parser = keyword_parser(registry, prog)
    namespace, leftovers = parser.parse_known_args(list(argv))
    known = [f"--{k.name}" for k in registry] + [f"-{k.abv}" for k in registry if k.abv]
    problems = []
    after_unknown_flag = False
    for word in leftovers:
        if word.startswith("-") and not _is_number(word):
            flag = word.split("=", 1)[0]
            problems.append(f"command line: unknown keyword {flag}{did_you_mean(flag, known)}")
            after_unknown_flag = True
        elif not after_unknown_flag:
            problems.append(f"command line: unexpected argument {word!r} (keywords are given as --name value)")
    return ParsedFlags(dict(getattr(namespace, "_given", {})), problems)


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True
