"""Every keyword type, from files (literals) and from the command line (text)."""

import pytest

from candle_core import CandleError
from candle_core.parameters.keyword import Keyword, ValueMismatch, str2bool


def kw(**definition):
    return Keyword.from_definition({"name": "k", **definition}, origin="test")


@pytest.mark.parametrize(
    "text, value",
    [
        ("yes", True),
        ("TRUE", True),
        ("t", True),
        ("1", True),
        ("No", False),
        ("false", False),
        ("0", False),
        (True, True),
    ],
)
def test_str2bool(text, value):
    assert str2bool(text) is value


def test_str2bool_refuses_other_words():
    with pytest.raises(ValueError):
        str2bool("maybe")


@pytest.mark.parametrize(
    "definition, value, from_text, expected",
    [
        ({"type": int}, 5, False, 5),
        ({"type": int}, 5.0, False, 5),
        ({"type": int}, "7", True, 7),
        ({"type": float}, 1, False, 1.0),
        ({"type": float}, "1e-3", True, 0.001),
        ({"type": float}, "None", True, None),
        ({"type": float}, None, False, None),
        ({"type": str}, "relu", False, "relu"),
        ({"type": str}, "None", True, "None"),
        ({"type": str2bool}, True, False, True),
        ({"type": str2bool}, "no", True, False),
        ({"type": str2bool}, 0, False, False),
        ({"type": bool}, "yes", True, True),
        ({"nargs": "+", "type": int}, [1, 2], False, [1, 2]),
        ({"nargs": "+", "type": int}, ["1", "2"], True, [1, 2]),
        ({"nargs": "+", "type": int}, 3, False, 3),  # a scalar in a file stays a scalar, as in CANDLE
        ({"nargs": "+", "type": float}, [1, 2.5], False, [1.0, 2.5]),
        ({"nargs": "+", "type": str}, "a:b", False, "a:b"),
        ({"nargs": 2, "type": int}, ["1", "2"], True, [1, 2]),
        ({"action": "list-of-lists"}, "1,2:3,4", True, [[1, 2], [3, 4]]),
        ({"action": "list-of-lists"}, "[1,2]:[3]", True, [[1, 2], [3]]),
        ({"action": "list-of-lists", "type": float}, "0.5, 1:2", False, [[0.5, 1.0], [2.0]]),
        ({"action": "list-of-lists"}, [[1, 2], [3, 4]], False, [[1, 2], [3, 4]]),
        ({"type": None}, "[1, 2]", True, [1, 2]),
        ({"type": None}, "plain words", True, "plain words"),
        ({"type": None}, {"a": 1}, False, {"a": 1}),
        ({"type": str, "choices": ["a", "b"]}, "b", True, "b"),
        ({"type": int, "choices": [1, 2]}, "2", True, 2),
        ({"type": lambda text: str(text).upper()}, "abc", True, "ABC"),
    ],
)
def test_coerce(definition, value, from_text, expected):
    assert kw(**definition).coerce(value, from_text=from_text) == expected


@pytest.mark.parametrize(
    "definition, value, words",
    [
        ({"type": int}, "ten", "an integer"),
        ({"type": int}, 2.5, "an integer"),
        ({"type": int}, True, "an integer"),
        ({"type": float}, "fast", "a number"),
        ({"type": str}, 5, "quote it"),
        ({"type": str2bool}, "maybe", "boolean"),
        ({"type": str2bool}, 2.0, "boolean"),
        ({"type": int}, [1, 2], "not a list"),
        ({"nargs": "+", "type": int}, [1, "x"], "list of integers"),
        ({"nargs": "+", "type": int}, [], "at least one"),
        ({"nargs": 2, "type": int}, [1, 2, 3], "exactly 2"),
        ({"action": "list-of-lists"}, [1, 2], "list of lists"),
        ({"action": "list-of-lists"}, "1,x:3", "integer"),
        ({"type": str, "choices": ["minmax", "maxabs"]}, "minabs", "did you mean"),
    ],
)
def test_mismatch_says_what_was_expected(definition, value, words):
    with pytest.raises(ValueMismatch) as info:
        kw(**definition).coerce(value, from_text=isinstance(value, str))
    assert words in str(info.value)


@pytest.mark.parametrize(
    "definition, words",
    [
        ({"typ": int}, "unknown definition key 'typ' (did you mean type?)"),
        ({"action": "store_true"}, "str2bool"),
        ({"action": "append"}, "unknown action"),
    ],
)
def test_bad_definitions_are_reported(definition, words):
    with pytest.raises(CandleError) as info:
        kw(**definition)
    assert words in str(info.value)


def test_argparse_suppress_default_means_unset():
    import argparse

    from candle_core.parameters.keyword import UNSET

    assert kw(type=int, default=argparse.SUPPRESS).default is UNSET
