"""Every package declares, in its own pyproject, the distributions its code imports, and nothing else.

A package here is shared/ or a service under services/. Its production code is src/ plus
migrations/ (run by `python -m <service> migrate`). Rules, read from the code with `ast`:
- a module-level import of a third-party module is a required dependency of that package;
- an import inside a function may come from an optional extra (the code that needs it is opt-in),
  but never from `testing`;
- `fixflow_shared.testing` (the pytest plugin) may use the `testing` extra;
- every required dependency is imported somewhere in the package, unless USED_WITHOUT_IMPORT
  says who loads it.
Import names map to distributions through the installed metadata (importlib.metadata), so
`jwt` is PyJWT and `opentelemetry.sdk` is opentelemetry-sdk.
Tests, benchmarks and scripts run in the workspace install (`make install`): what they import must
be declared by some package of that install.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import importlib.util
import re
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [ROOT / "shared", *sorted(p.parent for p in ROOT.glob("services/*/pyproject.toml"))]

# Declared, used, but never imported by name: who loads them.
USED_WITHOUT_IMPORT = {
    "fixflow-shared": {
        "uvloop": "uvicorn picks it as the event loop when installed",
        "httptools": "uvicorn picks it as the HTTP parser when installed",
        "python-multipart": "Starlette parses form posts with it (the CSRF check of fixflow_shared.web reads the form)",
    },
    "fixflow-console": {
        "jinja2": "FastAPI's Jinja2Templates renders the pages with it",
        "python-multipart": "FastAPI parses the pages' form posts with it",
    },
    "fixflow-portal": {
        "jinja2": "FastAPI's Jinja2Templates renders the pages with it",
        "python-multipart": "FastAPI parses the pages' form posts and photo uploads with it",
    },
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Import:
    module: str  # dotted name, as precise as the statement allows (`from a import b` -> a.b)
    path: Path
    line: int
    in_function: bool


def imports_of(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(), str(path))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend([Import(a.name, path, child.lineno, in_function) for a in child.names])
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.extend([Import(f"{child.module}.{a.name}", path, child.lineno, in_function) for a in child.names])
            visit(child, nested)

    visit(tree, False)
    return found


@cache
def top_level_distributions() -> dict[str, list[str]]:
    return {k: sorted({canonical(d) for d in v}) for k, v in md.packages_distributions().items()}


@cache
def distribution(module: str) -> str | None:
    """The distribution that provides `module` (None for the standard library)."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return None
    candidates = top_level_distributions().get(top, [])
    if len(candidates) == 1:
        return candidates[0]
    assert candidates, f"no installed distribution provides {module!r}"
    # A namespace package (opentelemetry, google): find the distribution holding the module's file.
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        try:
            spec = importlib.util.find_spec(".".join(parts[:n]))
        except ModuleNotFoundError:
            spec = None
        if spec is None or not spec.origin:
            continue
        origin = Path(spec.origin).resolve()
        for name in candidates:
            files = md.distribution(name).files or []
            if any(Path(str(f.locate())).resolve() == origin for f in files if f.name == origin.name):
                return name
    raise AssertionError(f"cannot tell which of {candidates} provides {module!r}")


@dataclass
class Declared:
    name: str
    required: set[str]
    extras: dict[str, set[str]]


def declared(package: Path) -> Declared:
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    return Declared(
        name=canonical(project["name"]),
        required={canonical(Requirement(r).name) for r in project.get("dependencies", [])},
        extras={
            extra: {canonical(Requirement(r).name) for r in reqs}
            for extra, reqs in project.get("optional-dependencies", {}).items()
        },
    )


def report(missing: dict[str, list[str]]) -> str:
    return "\n".join(
        f"  {dist}: imported at {', '.join(where[:3])}" + (f" and {len(where) - 3} more" if len(where) > 3 else "")
        for dist, where in sorted(missing.items())
    )


def production_files(package: Path) -> list[Path]:
    return sorted([*package.glob("src/**/*.py"), *package.glob("migrations/**/*.py")])


def own_modules(package: Path) -> set[str]:
    return {p.name for p in (package / "src").iterdir() if (p / "__init__.py").exists()}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_import_is_declared_by_the_package_that_imports_it(package: Path) -> None:
    deps = declared(package)
    optional = set().union(*(v for k, v in deps.extras.items() if k != "testing"))
    testing = deps.extras.get("testing", set())
    missing: dict[str, list[str]] = {}
    for imp in (i for f in production_files(package) for i in imports_of(f)):
        if imp.module.split(".")[0] in own_modules(package):
            continue
        dist = distribution(imp.module)
        if dist is None or dist == deps.name:
            continue
        allowed = set(deps.required)
        if "testing" in imp.path.relative_to(package).parts:
            allowed |= testing
        if imp.in_function:
            allowed |= optional
        if dist not in allowed:
            missing.setdefault(dist, []).append(f"{imp.path.relative_to(ROOT)}:{imp.line}")
    assert not missing, f"{package.name}/pyproject.toml does not declare:\n" + report(missing)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_declared_dependency_is_used(package: Path) -> None:
    deps = declared(package)
    imported = {distribution(i.module) for f in production_files(package) for i in imports_of(f)}
    unused = deps.required - imported - set(USED_WITHOUT_IMPORT.get(deps.name, {}))
    assert not unused, f"{package.name} declares but never imports {sorted(unused)}"
    for extra, names in deps.extras.items():
        if extra != "testing":  # the testing extra also serves the tests (pytest plugins, ruff, pyyaml)
            assert names <= imported, f"{package.name}[{extra}] declares but never imports {sorted(names - imported)}"


def workspace_distributions() -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        deps = declared(package)
        names |= {deps.name} | deps.required | set().union(*deps.extras.values())
    return names


def test_tests_benchmarks_and_scripts_import_only_what_the_workspace_declares() -> None:
    files = [
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("bench/*.py"),
        *ROOT.glob("scripts/*.py"),
        *ROOT.glob("shared/tests/**/*.py"),
        *ROOT.glob("services/*/tests/**/*.py"),
    ]
    known = workspace_distributions()
    missing: dict[str, list[str]] = {}
    for imp in (i for f in files for i in imports_of(f)):
        top = imp.module.split(".")[0]
        if top not in sys.stdlib_module_names and top not in top_level_distributions():
            continue  # the tests' own helper modules (helpers, lifecycle_kit, ...)
        dist = distribution(imp.module)
        if dist is not None and dist not in known:
            missing.setdefault(dist, []).append(f"{imp.path.relative_to(ROOT)}:{imp.line}")
    assert not missing, "not declared by any package of the workspace:\n" + report(missing)
