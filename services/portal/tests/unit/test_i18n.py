"""Both languages are complete: every text the pages show has its Chinese translation."""

from __future__ import annotations

import re
from pathlib import Path

from portal.domain.progress import EN_ROUTE, JOB_WORDS, REFUSALS, STATUS_WORDS, STEPS
from portal.entrypoints.surveys import QUESTION_WORDS
from portal.i18n import LABELS, catalogue, labeller, negotiate, translator

SRC = Path(__file__).resolve().parents[2] / "src" / "portal"
CALL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def texts() -> set[str]:
    found: set[str] = set()
    for f in [*SRC.rglob("*.html"), *SRC.rglob("*.py")]:
        for m in CALL.finditer(f.read_text(encoding="utf-8")):
            found.add(m.group(1) if m.group(1) is not None else m.group(2))
    words = {w for pair in [*STATUS_WORDS.values(), *JOB_WORDS.values(), EN_ROUTE] for w in pair}
    parts_of_day = {"Morning", "Afternoon", "Evening"}
    return (
        found
        | set(LABELS.values())
        | words
        | set(STEPS.values())
        | set(REFUSALS.values())
        | set(QUESTION_WORDS.values())
        | parts_of_day
    )


def test_every_text_has_a_chinese_translation_with_the_same_placeholders():
    zh = catalogue("zh-CN")
    shown = texts()
    assert len(shown) > 150
    missing = sorted(t for t in shown if t not in zh)
    assert not missing, missing
    for en, cn in zh.items():
        assert set(re.findall(r"\{(\w+)\}", en)) == set(re.findall(r"\{(\w+)\}", cn)), en


def test_language_choice_and_labels():
    assert negotiate("en-GB,en;q=0.9", None) == "en"
    assert negotiate("zh-CN", "en") == "en", "a switch wins"
    assert translator("zh-CN")("A visit is booked") != "A visit is booked"
    assert labeller("en")("en_route") == "On the way" and labeller("zh-CN")("en_route") != "On the way"
