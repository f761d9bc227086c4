"""The one "did you mean" of every message that names an unknown word."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, options: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The option most like `word`, or None when none is close (difflib's ratio ≥ cutoff)."""
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    return match[0] if match else None


def did_you_mean(word: str, options: Iterable[str], *, cutoff: float = 0.6) -> str:
    """` (did you mean 'x'?)` for the closest option, or "" when none is close."""
    match = closest(word, options, cutoff=cutoff)
    return f" (did you mean {match!r}?)" if match else ""
