"""CANDLE's standard keywords tell the truth: each one is read by candle, or warned about."""

from __future__ import annotations

import re
from pathlib import Path

from candle_core.keywords import LOOP_KEYWORDS, NO_EFFECT, STANDARD_KEYWORDS, no_effect_warnings

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("candle_core", "plugins", "benchmarks")
NOT_READERS = ("candle_core/keywords.py", "candle_core/search/space.py")  # define or only name them


def read_keywords() -> set[str]:
    """Names that appear as a string literal in candle's code outside the keyword definitions."""
    found: set[str] = set()
    for folder in SOURCES:
        for path in (REPO / folder).rglob("*.py"):
            if path.relative_to(REPO).as_posix() in NOT_READERS or "perf" in path.parts:
                continue
            found |= set(re.findall(r"""["'](\w+)["']""", path.read_text()))
    return found


def test_every_standard_keyword_is_read_or_warned_about():
    names = [definition["name"] for definition in STANDARD_KEYWORDS]
    unread = [name for name in names if name not in read_keywords() and name not in NO_EFFECT]
    assert unread == [], f"standard keywords neither read nor in keywords.NO_EFFECT: {unread}"
    assert set(NO_EFFECT) <= set(names) and set(LOOP_KEYWORDS) <= set(names)


def test_warnings_only_for_values_other_than_the_default():
    assert no_effect_warnings({"train_bool": True, "lstm_size": None, "shuffle": False}) == []
    (line,) = no_effect_warnings({"recurrent_dropout": 0.2})
    assert line.startswith("recurrent_dropout = 0.2 has no effect here: accepted for CANDLE compatibility")
    own = no_effect_warnings({"profiling": True, "clr_flag": False}, own_training="testfn")
    assert own == ["profiling = True has no effect here: benchmark testfn trains in its own run(), not candle's loop"]
