"""Contracts are the single truth between services: a consumer reads only what the contract of the
event declares, through the typed model, and names event types by the contract class's `type`.

Static analysis (ast) of the production code of every service and of shared:

1. no event type name (`fixflow.<publisher>.<entity>.<verb>.vN`, or a prefix of one) as a string
   literal: use `WorkOrderCompleted.type` (the contract modules are the one place that spells them);
2. no raw payload reads: `envelope.data[...]`, `envelope.data.get(...)`, `dict(envelope.data)`, nor
   a key read (`x["f"]`, `x.get("f")`) of a name bound to `envelope.data` or `event.model_dump()`
   (passing such a dict on whole, to a template or a webhook, is fine);
3. every attribute read on a value typed with a contract model is a field that model declares (for a
   union: every member declares it), followed through nested models and `isinstance` narrowing;
   `getattr(event, "name")` on a payload is a read by name and is refused;
4. a parameter called `event` or `payload` is annotated with a contract model (or `Event`), so
   rule 3 can check it.

On top of the static check, the read side is strict at run time where it counts:
`Envelope.payload()` refuses a payload carrying fields its contract does not declare when
FIXFLOW_STRICT_CONTRACTS is set (the test plugin sets it), so a producer that sends, or a test that
fakes, an undeclared field fails instead of being silently ignored.
"""

from __future__ import annotations

import ast
import importlib
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from fixflow_shared import topics
from fixflow_shared.events import Envelope, InvalidEnvelope, registry
from fixflow_shared.events.registry import Event

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "shared/src/fixflow_shared/events/contracts"
CONTRACT_PKG = "fixflow_shared.events.contracts"
EVENT_HOMES = ("fixflow_shared.events", "fixflow_shared.events.registry")
PUBLISHERS = ("intake", "dispatch", "billing", "survey", "notify", "integration")
TYPE_LIKE = re.compile(r"^fixflow\.(" + "|".join(PUBLISHERS) + r")\.")
TOPIC_NAMES = {t.name for t in topics.ALL_TOPICS} | {f"{t.name}.dlq" for t in topics.ALL_TOPICS}
PAYLOAD_PARAMS = ("event", "payload")
# what any pydantic model offers besides its fields (model_dump, model_fields, ...), and the
# class-level `type` / `topic` of a contract
MODEL_ATTRS = {a for a in dir(BaseModel) if not a.startswith("__")} | {"type", "topic"}


def production_files() -> list[Path]:
    files = sorted(ROOT.glob("services/*/src/**/*.py")) + sorted((ROOT / "shared/src").glob("**/*.py"))
    return [p for p in files if CONTRACTS not in p.parents]


def service_files() -> list[Path]:
    return sorted(ROOT.glob("services/*/src/**/*.py"))


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --- rule 1: type names ----------------------------------------------------------------------------


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def type_name_literals(path: Path, source: str | None = None) -> list[str]:
    tree = ast.parse(source if source is not None else path.read_text(), str(path))
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            v = node.value
            if v in TOPIC_NAMES:
                continue
            if v in registry or TYPE_LIKE.match(v):
                found.append(f"{rel(path)}:{node.lineno}: event type name as a string literal {v!r}")
    return found


# --- rules 2-4: reads of payloads ------------------------------------------------------------------

Classes = frozenset[type]


def _unwrap(annotation: Any) -> list[Any]:
    """The members of an Optional / Union annotation (without None)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [a for m in typing.get_args(annotation) if m is not type(None) for a in _unwrap(m)]
    return [annotation]


def _models(annotation: Any) -> Classes:
    return frozenset(a for a in _unwrap(annotation) if isinstance(a, type) and issubclass(a, BaseModel))


def _declares(cls: type, name: str) -> bool:
    return name in getattr(cls, "model_fields", {}) or name in MODEL_ATTRS


@dataclass
class Module:
    """What names mean in one source file: contract classes, contract modules, tuples of classes."""

    path: Path
    classes: dict[str, Classes] = field(default_factory=dict)
    modules: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, path: Path, tree: ast.Module) -> Module:
        m = cls(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    m._import_from(node.module, alias.name, alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(CONTRACT_PKG + ".") and alias.asname:
                        m.modules[alias.asname] = importlib.import_module(alias.name)
        for node in tree.body:  # module-level tuples of contract classes: _CONTACTS = (A, B)
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if isinstance(node, ast.AnnAssign):
                target = node.target
            value = getattr(node, "value", None)
            if isinstance(target, ast.Name) and value is not None and (found := m.resolve(value)):
                m.classes[target.id] = found
        return m

    def _import_from(self, module: str, name: str, local: str) -> None:
        if module == CONTRACT_PKG or (module.startswith(CONTRACT_PKG + ".") and name[:1].islower()):
            target = importlib.import_module(module)
            sub = getattr(target, name, None)
            if isinstance(sub, types.ModuleType):
                self.modules[local] = sub
                return
        if module.startswith(CONTRACT_PKG + "."):
            obj = getattr(importlib.import_module(module), name, None)
            if isinstance(obj, type) and issubclass(obj, BaseModel):
                self.classes[local] = frozenset({obj})
        elif module in EVENT_HOMES:  # Event, TicketEvent
            obj = getattr(importlib.import_module(module), name, None)
            if isinstance(obj, type) and issubclass(obj, Event):
                self.classes[local] = frozenset({obj})

    def resolve(self, node: ast.expr | None) -> Classes:
        """The contract classes an annotation / isinstance argument names (empty: not a contract)."""
        if node is None:
            return frozenset()
        if isinstance(node, ast.Name):
            return self.classes.get(node.id, frozenset())
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in self.modules:
            obj = getattr(self.modules[node.value.id], node.attr, None)
            return frozenset({obj}) if isinstance(obj, type) and issubclass(obj, BaseModel) else frozenset()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left, right = self.resolve(node.left), self.resolve(node.right)
            none = [isinstance(n, ast.Constant) and n.value is None for n in (node.left, node.right)]
            if (left or none[0]) and (right or none[1]):
                return left | right
            return frozenset()
        if isinstance(node, ast.Tuple):
            parts = [self.resolve(e) for e in node.elts]
            return frozenset().union(*parts) if parts and all(parts) else frozenset()
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Optional":
            return self.resolve(node.slice)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "Model" forward reference
            try:
                return self.resolve(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return frozenset()
        return frozenset()


def _isinstance_narrowing(test: ast.expr, module: Module) -> dict[str, Classes]:
    """Names narrowed where `test` is true: `isinstance(name, X)`, also inside `a and b`, and
    `not <test>` where <test> being false narrows (see _narrowing_when_false)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        out: dict[str, Classes] = {}
        for v in test.values:
            out.update(_isinstance_narrowing(v, module))
        return out
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _narrowing_when_false(test.operand, module)
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Name)
        and test.func.id == "isinstance"
        and len(test.args) == 2
        and isinstance(test.args[0], ast.Name)
        and (classes := module.resolve(test.args[1]))
    ):
        return {test.args[0].id: classes}
    return {}


def _narrowing_when_false(test: ast.expr, module: Module) -> dict[str, Classes]:
    """Names narrowed where `test` is false: `not isinstance(name, X)`, also inside `a or b`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        out: dict[str, Classes] = {}
        for v in test.values:
            out.update(_narrowing_when_false(v, module))
        return out
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _isinstance_narrowing(test.operand, module)
    return {}


def _exits(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise | ast.Continue | ast.Break)


class PayloadReads(ast.NodeVisitor):
    """Walks one module; `env` maps local names to the contract classes they hold."""

    def __init__(self, module: Module, *, is_service: bool) -> None:
        self.m = module
        self.is_service = is_service
        self.env: dict[str, Classes] = {}
        self.raw: set[str] = set()  # names bound to a raw payload dict in the current function
        self.problems: list[str] = []
        self.parents: dict[int, ast.AST] = {}

    def report(self, node: ast.AST, message: str) -> None:
        self.problems.append(f"{rel(self.m.path)}:{getattr(node, 'lineno', 0)}: {message}")

    def run(self, tree: ast.Module) -> list[str]:
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[id(child)] = parent
        self.visit(tree)
        return self.problems

    # scopes ---------------------------------------------------------------------------------

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        saved, saved_raw = dict(self.env), set(self.raw)
        args = node.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            annotation = getattr(a, "annotation", None)
            classes = self.m.resolve(annotation)
            if classes:
                self.env[a.arg] = classes
            else:
                self.env.pop(a.arg, None)
                if self.is_service and a.arg in PAYLOAD_PARAMS and not isinstance(node, ast.Lambda):
                    self.report(
                        a,
                        f"parameter {a.arg!r} of {getattr(node, 'name', 'lambda')}() is not typed with a "
                        "contract model (annotate it: the fields it reads are then checked)",
                    )
        if isinstance(node, ast.Lambda):
            self.visit(node.body)
        else:
            for d in node.decorator_list:
                self.visit(d)
            for stmt in node.body:
                self.visit(stmt)
        self.env, self.raw = saved, saved_raw

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function
    visit_Lambda = _function

    def _narrowed(self, test: ast.expr, body: list[ast.stmt] | ast.expr, *, negate: bool = False) -> None:
        saved = dict(self.env)
        if not negate:
            self.env.update(_isinstance_narrowing(test, self.m))
        elif not isinstance(test, ast.BoolOp):  # else branch of `isinstance(x, A)`: x is not an A
            for name, classes in _isinstance_narrowing(test, self.m).items():
                rest = self.env.get(name, frozenset()) - classes
                if rest:
                    self.env[name] = rest
        for stmt in body if isinstance(body, list) else [body]:
            self.visit(stmt)
        self.env = saved

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        self._narrowed(node.test, node.body)
        self._narrowed(node.test, node.orelse, negate=True)
        if _exits(node.body) and not node.orelse:  # `if not isinstance(x, A): return` narrows what follows
            self.env.update(_narrowing_when_false(node.test, self.m))

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        self._narrowed(node.test, node.body)
        self._narrowed(node.test, node.orelse, negate=True)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        saved = dict(self.env)
        for value in node.values:  # `a and b`: b runs where a is true; `a or b`: where a is false
            self.visit(value)
            if isinstance(node.op, ast.And):
                self.env.update(_isinstance_narrowing(value, self.m))
            else:
                self.env.update(_narrowing_when_false(value, self.m))
        self.env = saved

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        raw = self._is_raw(node.value)
        for t in node.targets:  # a rebound name no longer holds the payload
            if isinstance(t, ast.Name):
                self.env.pop(t.id, None)
                (self.raw.add if raw else self.raw.discard)(t.id)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name):
            (self.raw.add if self._is_raw(node.value) else self.raw.discard)(node.target.id)
            classes = self.m.resolve(node.annotation)
            if classes:
                self.env[node.target.id] = classes
            else:
                self.env.pop(node.target.id, None)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.generic_visit(node)
        (self.raw.add if self._is_raw(node.value) else self.raw.discard)(node.target.id)

    # rule 2 ------------------------------------------------------------------------------------

    def _is_raw(self, value: ast.expr | None) -> bool:
        """`envelope.data`, `dict(envelope.data)` or a typed payload's `model_dump(...)`."""
        if not self.is_service or value is None:
            return False
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict" and value.args:
            value = value.args[0]
        if isinstance(value, ast.Attribute) and value.attr == "data":
            return True
        return (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "model_dump"
            and bool(self._classes_of(value.func.value))
        )

    def _by_key(self, key: ast.expr | None) -> bool:
        return isinstance(key, ast.Constant) and isinstance(key.value, str)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self.is_service and isinstance(node.value, ast.Attribute) and node.value.attr == "data":
            self.report(node, "raw payload read by key (`.data[...]`): read the typed model instead")
        elif isinstance(node.value, ast.Name) and node.value.id in self.raw and self._by_key(node.slice):
            self.report(node, f"raw payload read by key ({node.value.id}[...]): read the typed model instead")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        if self.is_service:
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) and f.value.attr == "data":
                self.report(node, f"raw payload read (`.data.{f.attr}(...)`): read the typed model instead")
            if (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id in self.raw
                and f.attr in ("get", "pop", "setdefault")
                and node.args
                and self._by_key(node.args[0])
            ):
                self.report(node, f"raw payload read by key ({f.value.id}.{f.attr}(...)): read the typed model")
            if isinstance(f, ast.Name) and f.id == "dict" and node.args:
                a = node.args[0]
                if isinstance(a, ast.Attribute) and a.attr == "data":
                    self.report(node, "raw payload copied (`dict(.data)`): keep the typed model instead")
        if (
            isinstance(f, ast.Name)
            and f.id in ("getattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and isinstance(node.args[0], ast.Name)
            and (node.args[0].id in self.env or (self.is_service and node.args[0].id in PAYLOAD_PARAMS))
        ):
            self.report(
                node,
                f"{f.id}({node.args[0].id}, {node.args[1].value!r}): a payload field read by name; "
                "narrow with isinstance to the contracts that declare it",
            )
        self.generic_visit(node)

    # rule 3 ------------------------------------------------------------------------------------

    def _classes_of(self, node: ast.expr) -> Classes:
        """The model classes an expression holds: a typed name, or a field of one (nested models)."""
        if isinstance(node, ast.Name):
            return self.env.get(node.id, frozenset())
        if isinstance(node, ast.Attribute):
            owners = self._classes_of(node.value)
            if not owners or not all(node.attr in getattr(c, "model_fields", {}) for c in owners):
                return frozenset()
            return frozenset().union(*(_models(c.model_fields[node.attr].annotation) for c in owners))
        return frozenset()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        owners = self._classes_of(node.value)
        if owners and isinstance(node.ctx, ast.Load):
            missing = sorted(c.__name__ for c in owners if not _declares(c, node.attr))
            if missing:
                self.report(
                    node,
                    f"reads .{node.attr} of {ast.unparse(node.value)}, which {', '.join(missing)} does not declare",
                )
        self.generic_visit(node)


def payload_read_problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    is_service = "services" in path.relative_to(ROOT).parts[:1]
    return PayloadReads(Module.of(path, tree), is_service=is_service).run(tree)


def _all(fn: Any, files: list[Path]) -> Iterator[str]:
    for p in files:
        yield from fn(p)


# --- the tests -------------------------------------------------------------------------------------


def test_the_check_sees_the_code():
    files = production_files()
    assert len(service_files()) > 50 and len(files) > len(service_files())
    consumers = ROOT / "services/billing/src/billing/entrypoints/consumers.py"
    module = Module.of(consumers, ast.parse(consumers.read_text()))
    assert module.classes, "the contract imports of a consumer are resolved"


def test_no_event_type_name_is_written_as_a_string():
    problems = list(_all(type_name_literals, production_files()))
    assert not problems, "use the contract class's `type` constant:\n" + "\n".join(problems)


def test_consumers_read_only_declared_fields_of_typed_payloads():
    problems = list(_all(payload_read_problems, production_files()))
    assert not problems, "read typed contract models only:\n" + "\n".join(problems)


# The checker itself: each rule catches the pattern it is meant to (so the tests above can fail).

SAMPLE = """
from typing import Any
from fixflow_shared.events.contracts import dispatch as dev
from fixflow_shared.events.contracts.intake import TicketResolved, TicketOpened
from fixflow_shared.events.registry import Event

BOTH = (TicketResolved, TicketOpened)

def bad(envelope, event: dev.WorkOrderCompleted, other: TicketResolved | TicketOpened, payload: Any, ev: Event):  # BAD
    a = envelope.data.get("work_type")  # BAD
    b = envelope.data["freight"]  # BAD
    data = envelope.data
    d = event.model_dump()
    c = data["freight"] + d.get("adjustments")  # BAD
    copied = dict(envelope.data)  # BAD
    e = event.not_a_field  # BAD
    f = event.sign_off.not_a_field  # BAD
    g = other.symptom  # BAD
    h = getattr(event, "labour_minutes", 0)  # BAD
    i = ev.ticket_id  # BAD
    kind = "fixflow.dispatch.work-order.completed.v1"  # LITERAL
    prefix = "fixflow.dispatch."  # LITERAL

def good(envelope, event: dev.WorkOrderCompleted, other: TicketResolved | TicketOpened, ev: Event):
    a = event.labour_minutes + event.sign_off.rating
    b = other.symptom if isinstance(other, TicketOpened) else other.resolution
    c = isinstance(ev, BOTH) and ev.contact_phone
    if isinstance(ev, dev.WorkOrderCompleted):
        d = ev.resolution_code
    t = dev.WorkOrderCompleted.type
    store(data=envelope.data, topic="fixflow.dispatch.work-orders")
    whole = event.model_dump(mode="json")
    render(whole, webhook=whole)
    e = not isinstance(ev, dev.WorkOrderCompleted) or ev.labour_minutes
    if not isinstance(ev, BOTH):
        return None
    return ev.contact_phone
"""


def _marked(mark: str) -> set[int]:
    return {n for n, line in enumerate(SAMPLE.splitlines(), 1) if line.endswith(f"# {mark}")}


def test_the_check_catches_each_pattern():
    path = ROOT / "services" / "sample" / "src" / "sample.py"  # judged as service code; never written
    tree = ast.parse(SAMPLE)
    problems = PayloadReads(Module.of(path, tree), is_service=True).run(tree)
    assert {int(p.split(":")[1]) for p in problems} == _marked("BAD"), "\n".join(problems)
    assert {int(p.split(":")[1]) for p in type_name_literals(path, SAMPLE)} == _marked("LITERAL")


def test_strict_reads_refuse_undeclared_fields(monkeypatch):
    from datetime import UTC, datetime

    from fixflow_shared.events import new_envelope
    from fixflow_shared.events.contracts.intake import TicketClosed

    env = new_envelope(
        TicketClosed(ticket_id="T-1", tenant_id="t", reason="agent", closed_at=datetime.now(UTC)),
        source="/test",
        subject="T-1",
        tenant="t",
    )
    faked = Envelope(**{**env.__dict__, "data": {**env.data, "team_id": "team-7"}})
    monkeypatch.setenv("FIXFLOW_STRICT_CONTRACTS", "1")
    assert env.payload().ticket_id == "T-1"
    with pytest.raises(InvalidEnvelope, match="team_id"):
        faked.payload()
    monkeypatch.setenv("FIXFLOW_STRICT_CONTRACTS", "0")
    assert faked.payload().ticket_id == "T-1", "in production, consumers ignore fields they do not know"
