"""Message templates: sandboxed Jinja2 with strict undefined variables.

A template is (tenant, name, channel, locale) -> subject + body, versioned on every save. Save-time
checks reject syntax errors, variables the event does not provide, and any attribute or item whose
name starts with an underscore (the usual way out of a sandbox: `''.__class__.__mro__`). The
SandboxedEnvironment still guards rendering, so a check we missed fails safe at render time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notify.domain.exceptions import TemplateRejected

LOCALES = ("zh-CN", "en")

_env = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, trim_blocks=True, keep_trailing_newline=False
)
# No globals (range, cycler, joiner, lipsum, namespace): a template sees its event's variables and
# the built-in filters, nothing else.
_env.globals.clear()


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


def render(source: TemplateSource, context: Mapping[str, Any]) -> Rendered:
    try:
        subject = _compiled(source.subject).render(context)
        body = _compiled(source.body).render(context)
    except SecurityError as exc:
        raise TemplateRejected(f"unsafe template: {exc}") from exc
    except UndefinedError as exc:
        raise TemplateRejected(f"missing variable: {exc.message}") from exc
    except Exception as exc:  # a filter on the wrong type, a division by zero, ...
        raise TemplateRejected(f"template failed to render: {type(exc).__name__}: {exc}") from exc
    return Rendered(subject=" ".join(subject.split())[:250], body=body)
