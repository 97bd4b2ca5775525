"""The repository explains itself: code, tests, scripts and docs cite the repo's own documents
(docs/architecture.md, docs/domain.md, docs/adr/), never a handbook or source folder kept outside
it, nor a path of one machine. A clone on its own is all a reader has."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SELF = Path(__file__).resolve()

# What a file must not cite: the team handbook's files by name (with or without the `.md` suffix: a
# name followed by "target" is as much a citation as the file), the folder beside the repo that holds
# them and the source documents, and absolute paths of a machine. The names are assembled here, so
# that this file itself cites nothing.
HANDBOOK = ("design", "domain", "conventions", "kafka-local")
BESIDE_THE_REPO = ".." + "/shared/"
FORBIDDEN = {
    "the team handbook": re.compile(r"\b(" + "|".join(n.upper() for n in HANDBOOK) + r")(\.md)?\b"),
    "a folder beside the repo": re.compile(re.escape(BESIDE_THE_REPO)),
    "the source documents' folder": re.compile(r"(?<![\w-])seeds/|\bthe seeds'"),
    "a machine path": re.compile(r"(?<![\w.])/(work|root)/"),
}


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout.split("\0")
        files = [ROOT / f for f in out if f]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        skip = {".git", ".venv", ".local", "node_modules", "__pycache__"}
        files = [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]
    return [f for f in files if f.exists() and f.resolve() != SELF]


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None  # binary


def test_nothing_cites_documents_outside_the_repo() -> None:
    found = []
    for path in tracked_files():
        text = text_of(path)
        if text is None:
            continue
        for what, pattern in FORBIDDEN.items():
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {m.group(0)!r} ({what})")
    assert not found, "cite docs/architecture.md, docs/domain.md or docs/adr/ instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "text",
    [
        f"see {HANDBOOK[0].upper()}.md traps",
        f"({BESIDE_THE_REPO}{HANDBOOK[1].upper()}.md)",
        f"{HANDBOOK[0].upper()} target: p99",
        "/" + "work/main",
    ],
)
def test_the_check_recognises_a_citation(text: str) -> None:
    assert any(p.search(text) for p in FORBIDDEN.values())


@pytest.mark.parametrize("doc", ["docs/architecture.md", "docs/domain.md"])
def test_the_repo_documents_exist_and_are_linked(doc: str) -> None:
    assert (ROOT / doc).is_file()
    assert doc in (ROOT / "README.md").read_text()
    assert doc.removeprefix("docs/") in (ROOT / "docs/README.md").read_text()
