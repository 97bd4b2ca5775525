"""Sandboxed templates: every default renders in both locales; escapes are refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixflow_shared.events import registry
from notify.domain import subscriptions
from notify.domain.context import allowed_variables, sample_context
from notify.domain.exceptions import TemplateRejected
from notify.domain.model import template_name
from notify.domain.templates import TemplateSource, render, validate


@pytest.mark.parametrize("event_type", [t for t in subscriptions.subscribed_types() if t in registry])
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_default_template_is_valid(event_type, locale):
    model = registry.model_for(event_type)
    for rule in subscriptions.rules_for(event_type):
        source = subscriptions.default_template(template_name(event_type), rule.audience, locale)
        assert source is not None, (event_type, locale)
        validate(source, allowed_variables(model), sample_context(model))


ESCAPES = [
    "{{ ''.__class__ }}",
    "{{ x.__class__.__mro__ }}",
    "{{ x['__globals__'] }}",
    "{{ x.mro() }}",
    "{{ range(10) }}",
    "{{ lipsum }}",
    "{% set y = x.__class__ %}",
    "{{ x|attr('__class__') }}",
    "{% include 'other' %}",
]


@pytest.mark.parametrize("src", ESCAPES)
def test_escapes_are_rejected(src):
    with pytest.raises(TemplateRejected):
        validate(TemplateSource("s", src), frozenset({"x"}), {"x": "v"})


def test_unknown_variable_is_rejected_and_known_renders():
    with pytest.raises(TemplateRejected, match="unknown variables secret"):
        validate(TemplateSource("{{ x }}", "{{ secret }}"), frozenset({"x"}), {"x": "v"})
    assert render(TemplateSource("Hi {{ x }}", "{{ x | upper }}"), {"x": "v"}).body == "V"


@given(st.text(max_size=200))
def test_values_are_data_not_code(value):
    # Whatever an event carries is printed as text, never evaluated.
    assert render(TemplateSource("s", "{{ x }}"), {"x": value}).body == value


# Small templates that rendered megabytes (or ran for seconds) before output and time were bounded.
BOMBS = [
    '{{ "x" * 2000000 }}',
    '{{ "x" * 9999 * 9999 }}',
    "{{ (x ~ x ~ x ~ x) * 9999 }}",
    "{% for a in x %}{% for b in x %}{{ x }}{% endfor %}{% endfor %}",
    "{% for a in x %}{% if a %}{% for b in x %}.{% endfor %}{% endif %}{% endfor %}",
    '{% for a in "abcdefgh" * 1000 %}{{ x }}{% endfor %}',
    '{{ x|replace("", "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy") }}',
    "{{ x|center(9000) }}" * 9,
    "{% for a in x %}{{ x }}{% endfor %}",
    "{{ 9 ** 9 ** 9 }}",
]


@pytest.mark.parametrize("src", BOMBS)
def test_output_size_and_render_time_are_bounded(src):
    import time

    started = time.monotonic()
    with pytest.raises(TemplateRejected):
        validate(TemplateSource("s", src), frozenset({"x"}), {"x": "abcd" * 1000})
    assert time.monotonic() - started < 1.0
