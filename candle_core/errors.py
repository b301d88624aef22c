"""The one family of user-facing errors. The CLI catches `CandleError` once, prints it, exits 2."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class CandleError(Exception):
    """A mistake in what the user gave (keyword, value, file, benchmark name).

    It carries one or more messages, each a complete line naming where the problem is
    (file:line, flag or key) and what was expected. No traceback is shown for it.
    """

    def __init__(self, *messages: str) -> None:
        self.messages = [m for m in messages if m]
        super().__init__("\n".join(self.messages))


def did_you_mean(word: str, candidates: Iterable[str], prefix: str = "") -> str:
    """Return ' (did you mean X?)' for the closest candidate, or '' when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {prefix}{close[0]}?)" if close else ""
