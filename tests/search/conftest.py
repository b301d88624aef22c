"""Shared by the search tests: a testfn Branin space file."""

import json

import pytest
from helpers import BRANIN_SPACE

SPACE = [*BRANIN_SPACE, {"name": "function", "type": "constant", "value": "branin"}]


@pytest.fixture
def space(tmp_path):
    """The Branin function's space (testfn), as a file."""
    path = tmp_path / "space.json"
    path.write_text(json.dumps(SPACE))
    return path
