"""Where a unit of work opens (docs/adr/0010-where-a-unit-of-work-opens.md), checked on the code of
every service: entrypoints never open or commit one; a use case (keyword-only `uow`) opens its own
or hands it on unopened; a step (the open `uow` as a positional parameter) never opens or commits
the one it was given; adapters and the domain never open or commit a transaction."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "dispatch", "billing", "survey", "notify")


def _layer(path: Path) -> str:
    if "entrypoints" in path.parts or path.name == "bootstrap.py":
        return "entrypoint"
    if "service_layer" in path.parts or path.name == "views.py":
        return "service layer"
    return "adapter or domain"


def _opens(fn: ast.AST) -> bool:
    """`async with <unit of work or session>` anywhere in the function."""
    return any(
        isinstance(n, ast.AsyncWith)
        and any(w in ast.unparse(item.context_expr) for item in n.items for w in ("uow", "session", "begin"))
        for n in ast.walk(fn)
    )


def _commits(fn: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and ast.unparse(n.func).endswith((".commit", ".rollback")) for n in ast.walk(fn))


def _hands_on(fn: ast.AST) -> bool:
    """Passes its own, unopened unit of work to another use case (`uow=uow`)."""
    return any(
        isinstance(n, ast.Call) and any(k.arg == "uow" and ast.unparse(k.value) == "uow" for k in n.keywords)
        for n in ast.walk(fn)
    )


def violations(path: Path, root: Path = ROOT) -> Iterator[str]:
    layer = _layer(path)
    for fn in ast.walk(ast.parse(path.read_text())):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        where = f"{path.relative_to(root)}:{fn.lineno} {fn.name}"
        if layer != "service layer":
            if _opens(fn) or _commits(fn):
                yield f"{where}: an {layer} opens or commits a transaction (a use case's job)"
            continue
        keyword = {a.arg for a in fn.args.kwonlyargs}
        positional = {a.arg for a in fn.args.posonlyargs + fn.args.args}
        if "uow" in keyword and not (_opens(fn) or _hands_on(fn)):
            yield f"{where}: a use case (keyword-only uow) neither opens its unit of work nor hands it on"
        if "uow" in positional and (_opens(fn) or _commits(fn)):
            yield f"{where}: a step (positional uow) opens or commits the unit of work its caller holds"


@pytest.mark.parametrize("name", SERVICES)
def test_units_of_work_open_in_the_service_layer_only(name):
    files = sorted((ROOT / "services" / name / "src" / name).rglob("*.py"))
    assert files
    found = [v for f in files for v in violations(f)]
    assert not found, "\n".join(found)


def test_the_check_finds_what_it_forbids(tmp_path):
    """A check that cannot fail proves nothing: each rule fires on a small offender."""
    route = tmp_path / "entrypoints" / "routes.py"
    route.parent.mkdir()
    route.write_text("async def r(rt):\n    async with rt.uow() as uow:\n        await uow.commit()\n")
    layer = tmp_path / "service_layer" / "cases.py"
    layer.parent.mkdir()
    layer.write_text(
        "async def use_case(*, uow):\n    return uow.session\n\n"
        "async def step(uow, x):\n    await uow.commit()\n\n"
        "async def fine(*, uow):\n    async with uow:\n        await step(uow, 1)\n        await uow.commit()\n\n"
        "async def delegates(*, uow):\n    await fine(uow=uow)\n"
    )
    assert len(list(violations(route, tmp_path))) == 1
    found = list(violations(layer, tmp_path))
    assert [v.split(" ")[1].split(":")[0] for v in found] == ["use_case", "step"]
