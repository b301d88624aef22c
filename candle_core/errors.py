"""The one family of user-facing errors. The CLI catches `CandleError` once, prints it, exits 2."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable


class CandleError(Exception):
    """A mistake in what the user gave (keyword, value, file, benchmark name).

    It carries one or more messages, each a complete line naming where the problem is
    (file:line, flag or key) and what was expected. No traceback is shown for it.
    """

    def __init__(self, *messages: str) -> None:
        self.messages = [m for m in messages if m]
        super().__init__("\n".join(self.messages))


class PeerLost(CandleError):
    """Another rank of an MPI job stopped answering (it died or hangs): the job cannot go on."""


def did_you_mean(word: str, candidates: Iterable[str], prefix: str = "") -> str:
    """Return ' (did you mean X?)' for the closest candidate (or the two closest, when they are
    about as close), or '' when none is close."""
    scored = sorted(((difflib.SequenceMatcher(None, word, c).ratio(), c) for c in set(candidates)), reverse=True)
    close = [c for score, c in scored[:2] if score >= 0.6 and score >= scored[0][0] - 0.05]
    return f" (did you mean {' or '.join(prefix + c for c in close)}?)" if close else ""


def warn_user(message: str) -> None:
    """Tell the user, on standard error, about something that does not stop the run."""
    print(f"candle: warning: {message}", file=sys.stderr)
