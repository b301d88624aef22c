"""Every public name of ``candle`` is exercised by at least one test or test script, and the
compatibility table in docs/compatibility.md lists every one with its status."""

from __future__ import annotations

import re
from pathlib import Path

import candle

HERE = Path(__file__).parent
REPO = HERE.parents[1]


def test_every_public_name_is_used_by_a_test():
    sources = "\n".join(p.read_text() for p in [*HERE.glob("*.py"), *(HERE / "scripts").glob("*.py")])
    used = set(re.findall(r"\bcandle\.([A-Za-z_][A-Za-z0-9_]*)", sources))
    assert sorted(set(candle.__all__) - used) == []


def test_the_compatibility_table_lists_every_name():
    table = (REPO / "docs" / "compatibility.md").read_text()
    listed = set(re.findall(r"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|", table, re.M))
    assert sorted(set(candle.__all__) - listed) == [] and sorted(listed - set(candle.__all__)) == []
