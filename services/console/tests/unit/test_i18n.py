"""Both languages are complete: every text the pages show has its Chinese translation."""

from __future__ import annotations

import re
from pathlib import Path

from console.domain.kpis import tiles
from console.entrypoints.web import PAGES
from console.i18n import LABELS, catalogue, labeller, negotiate, translator

SRC = Path(__file__).resolve().parents[2] / "src" / "console"
CALL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def texts() -> set[str]:
    found: set[str] = set()
    for f in [*SRC.rglob("*.html"), *SRC.rglob("*.py")]:
        for m in CALL.finditer(f.read_text(encoding="utf-8")):
            found.add(m.group(1) if m.group(1) is not None else m.group(2))
    return found | set(LABELS.values()) | {t for _, t, _ in PAGES} | {t.title for t in tiles({}, {})}


def test_every_text_has_a_chinese_translation_with_the_same_placeholders():
    zh = catalogue("zh-CN")
    shown = texts()
    assert len(shown) > 300
    missing = sorted(t for t in shown if t not in zh)
    assert not missing, missing
    for en, cn in zh.items():
        assert set(re.findall(r"\{(\w+)\}", en)) == set(re.findall(r"\{(\w+)\}", cn)), en


def test_language_choice():
    assert negotiate("en-GB,en;q=0.9", None) == "en"
    assert negotiate("fr-FR, zh-TW;q=0.8, en;q=0.5", None) == "zh-CN"
    assert negotiate("de-DE", None) == "zh-CN" and negotiate("de-DE", None, default="en") == "en"
    assert negotiate("zh-CN", "en") == "en", "a switch wins"
    assert negotiate("en;q=bad, zh", None) == "zh-CN"
    assert translator("zh-CN")("Ticket {id} opened", id="T-1") == "工单 T-1 已创建"
    assert (
        labeller("zh-CN")("out_of_warranty") == "已过保"
        and labeller("en")("waiting_customer") == "Waiting for customer"
    )
