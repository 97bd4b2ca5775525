"""The ticket page's link to the ticket's trace: the trace id of intake's traceparent in the viewer's URL."""

from __future__ import annotations

import pytest

from console.config import ConsoleSettings
from console.domain.traces import trace_id_of, trace_link

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_the_trace_id_is_read_from_a_w3c_traceparent() -> None:
    assert trace_id_of(TRACEPARENT) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_id_of(TRACEPARENT.upper()) == "4bf92f3577b34da6a3ce929d0e0e4736"
    for bad in (None, "", "garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01", "00-4bf92f35-00f067aa0ba902b7-01"):
        assert trace_id_of(bad) is None, bad


def test_the_link_fills_the_viewers_template() -> None:
    zipkin = "http://127.0.0.1:9411/zipkin/traces/{trace_id}"
    assert trace_link(zipkin, TRACEPARENT) == "http://127.0.0.1:9411/zipkin/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_link(zipkin, None) is None, "a ticket without a trace has no link"
    assert trace_link(None, TRACEPARENT) is None, "no viewer configured, no link"


def test_the_setting_must_name_where_the_trace_id_goes() -> None:
    assert ConsoleSettings(trace_url="").trace_url is None
    assert ConsoleSettings().trace_url == "http://127.0.0.1:9411/zipkin/traces/{trace_id}"
    with pytest.raises(ValueError, match="trace_id"):
        ConsoleSettings(trace_url="http://jaeger/trace/")
