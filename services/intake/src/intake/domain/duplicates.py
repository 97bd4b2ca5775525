"""Duplicate detection: the same asset or phone with a similar symptom within a window."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def _grams(text: str) -> frozenset[str]:
    norm = _PUNCT.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()
    grams: set[str] = set()
    for word in norm.split():
        if word.isascii():
            grams.add(word)
        else:  # CJK and other scripts without spaces: character bigrams
            grams.update(word[i : i + 2] for i in range(max(1, len(word) - 1)))
    return frozenset(grams)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of words (Latin) / character bigrams (CJK), 0..1."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / len(ga | gb)


@dataclass(frozen=True)
class Candidate:
    ticket_id: str
    symptom: str
    opened_at: datetime
    asset_id: str | None
    contact_phone: str | None


def find_duplicate(
    candidates: Iterable[Candidate],
    *,
    symptom: str,
    asset_id: str | None,
    contact_phone: str | None,
    now: datetime,
    window: timedelta,
    threshold: float = 0.5,
) -> str | None:
    """The best matching open ticket (most similar, then most recent), or None."""
    best: tuple[float, datetime, str] | None = None
    for c in candidates:
        if now - c.opened_at > window:
            continue
        same = (asset_id is not None and c.asset_id == asset_id) or (
            contact_phone is not None and c.contact_phone == contact_phone
        )
        if not same:
            continue
        score = similarity(symptom, c.symptom)
        if score >= threshold and (best is None or (score, c.opened_at) > best[:2]):
            best = (score, c.opened_at, c.ticket_id)
    return best[2] if best else None
