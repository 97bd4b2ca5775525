"""Message templates: sandboxed Jinja2 with strict undefined variables.

A template is (tenant, name, channel, locale) -> subject + body, versioned on every save. Save-time
checks reject syntax errors, variables the event does not provide, and any attribute or item whose
name starts with an underscore (the usual way out of a sandbox: `''.__class__.__mro__`). The
SandboxedEnvironment still guards rendering, so a check we missed fails safe at render time.

Size and time are bounded too: literals are small (numbers up to 10,000, strings up to 1,000
characters), loops do not nest and run over the event's own lists, `*` may not build more than the
output limit and `**` is refused, every filter's result is capped, and rendering stops once the
output passes MAX_OUTPUT_CHARS or MAX_RENDER_S.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sized
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notify.domain.exceptions import TemplateRejected

LOCALES = ("zh-CN", "en")
MAX_OUTPUT_CHARS = 64 * 1024  # a long email; an SMS or a feed item is far shorter
MAX_RENDER_S = 0.25
MAX_NUMBER = 10_000
MAX_LITERAL_CHARS = 1_000


class _BoundedEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("the power operator is not allowed")
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int):
                if len(seq) * max(times, 0) > MAX_OUTPUT_CHARS:
                    raise SecurityError(f"a repetition larger than {MAX_OUTPUT_CHARS} characters")
        return super().call_binop(context, operator, left, right)


def _capped(f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = f(*args, **kwargs)
        if isinstance(out, Sized) and not isinstance(out, Mapping) and len(out) > MAX_OUTPUT_CHARS:
            raise SecurityError(f"a filter produced more than {MAX_OUTPUT_CHARS} characters")
        return out

    return wrapper


_env = _BoundedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, keep_trailing_newline=False)
# No globals (range, cycler, joiner, lipsum, namespace): a template sees its event's variables and
# the built-in filters, nothing else.
_env.globals.clear()
for _name, _filter in list(_env.filters.items()):
    capped = _capped(_filter)
    for attr in ("jinja_pass_arg",):  # keep Jinja's @pass_context / @pass_environment markers
        if hasattr(_filter, attr):
            setattr(capped, attr, getattr(_filter, attr))
    _env.filters[_name] = capped


@dataclass(frozen=True)
class TemplateSource:
    subject: str
    body: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _check(source: str, allowed: frozenset[str], where: str) -> None:
    try:
        ast = _env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateRejected(f"{where}: syntax error on line {exc.lineno}: {exc.message}") from exc
    unknown = meta.find_undeclared_variables(ast) - allowed
    if unknown:
        raise TemplateRejected(
            f"{where}: unknown variables {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
        )
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(getattr(node, "arg", None), "value", None)
        if isinstance(name, str) and name.startswith("_"):
            raise TemplateRejected(f"{where}: access to {name!r} is not allowed")
    for _call in ast.find_all(nodes.Call):
        raise TemplateRejected(f"{where}: calling functions or methods is not allowed")
    for const in ast.find_all(nodes.Const):
        v = const.value
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float) and abs(v) > MAX_NUMBER:
            raise TemplateRejected(f"{where}: numbers in a template are at most {MAX_NUMBER}")
        if isinstance(v, str) and len(v) > MAX_LITERAL_CHARS:
            raise TemplateRejected(f"{where}: strings in an expression are at most {MAX_LITERAL_CHARS} characters")
    for _pow in ast.find_all(nodes.Pow):
        raise TemplateRejected(f"{where}: the power operator is not allowed")
    for loop in ast.find_all(nodes.For):
        if any(True for _ in loop.iter.find_all(nodes.For)) or any(True for _ in _inner_loops(loop)):
            raise TemplateRejected(f"{where}: loops may not nest")
        if not _is_variable(loop.iter):
            raise TemplateRejected(f"{where}: a loop runs over one of the event's lists, not over an expression")


def _inner_loops(loop: nodes.For) -> list[nodes.For]:
    children = (*loop.body, *loop.else_)
    return [c for c in children if isinstance(c, nodes.For)] + [n for c in children for n in c.find_all(nodes.For)]


def _is_variable(node: nodes.Node) -> bool:
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        node = node.node
    return isinstance(node, nodes.Name)


def validate(source: TemplateSource, allowed: frozenset[str], sample: Mapping[str, Any]) -> None:
    """Raise TemplateRejected unless both parts parse, use only `allowed`, and render on `sample`."""
    if not source.subject.strip() or not source.body.strip():
        raise TemplateRejected("subject and body must not be empty")
    _check(source.subject, allowed, "subject")
    _check(source.body, allowed, "body")
    render(source, sample)


@lru_cache(maxsize=2048)
def _compiled(text: str) -> Template:
    """Compiling a template costs far more than rendering it, and the same few sources (built-in
    defaults, tenants' versions) render every event: compile each source once (a failure is not cached)."""
    return _env.from_string(text)


def _bounded_render(template: Template, context: Mapping[str, Any], deadline: float) -> str:
    out: list[str] = []
    size = 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise SecurityError(f"the output is longer than {MAX_OUTPUT_CHARS} characters")
        if time.monotonic() > deadline:
            raise SecurityError(f"rendering took longer than {MAX_RENDER_S} s")
        out.append(chunk)
    return "".join(out)


def render(source: TemplateSource, context: Mapping[str, Any]) -> Rendered:
    deadline = time.monotonic() + MAX_RENDER_S
    try:
        subject = _bounded_render(_compiled(source.subject), context, deadline)
        body = _bounded_render(_compiled(source.body), context, deadline)
    except SecurityError as exc:
        raise TemplateRejected(f"unsafe template: {exc}") from exc
    except UndefinedError as exc:
        raise TemplateRejected(f"missing variable: {exc.message}") from exc
    except Exception as exc:  # a filter on the wrong type, a division by zero, ...
        raise TemplateRejected(f"template failed to render: {type(exc).__name__}: {exc}") from exc
    return Rendered(subject=" ".join(subject.split())[:250], body=body)
