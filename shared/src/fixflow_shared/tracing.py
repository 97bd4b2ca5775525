"""OpenTelemetry: one tracer provider per process, OTLP/HTTP exporter when configured,
W3C trace context carried into outbox rows and out of Kafka headers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_provider: TracerProvider | None = None


def setup_tracing(
    service_name: str,
    *,
    otlp_endpoint: str | None,
    extra_processors: tuple[SpanProcessor, ...] = (),
) -> TracerProvider:
    """Install the global tracer provider once; later calls return the same provider."""
    global _provider
    if _provider is not None:
        return _provider
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/traces"))
        )
    for p in extra_processors:
        provider.add_span_processor(p)
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def current_trace_headers() -> dict[str, str]:
    """traceparent/tracestate of the active span, to store with an outbox row."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from_headers(headers: Mapping[str, str]) -> otel_context.Context:
    return propagate.extract(dict(headers))


@contextlib.contextmanager
def continue_trace(headers: Mapping[str, str] | None, name: str, **attributes: str) -> Iterator[trace.Span]:
    """Run background work (a timer firing, a scheduled send) inside the trace it belongs to.

    Store `current_trace_headers()` (or the causing envelope's trace_headers) when the work is
    scheduled; pass them here when it runs. The span becomes a child of the stored context, so
    events emitted inside stay in the ticket's one trace."""
    ctx = context_from_headers(headers or {})
    with trace.get_tracer("fixflow.background").start_as_current_span(name, context=ctx, attributes=attributes) as span:
        yield span


@contextlib.contextmanager
def within_trace(headers: Mapping[str, str] | None, name: str, **attributes: str) -> Iterator[trace.Span | None]:
    """Run work in the stored trace of `headers` (a ticket's) unless it already runs in it.

    For requests that arrive without the ticket's traceparent (a customer's browser answering a
    survey): the work and the events it emits join the ticket's trace, under a span linked to the
    request's own span. A request that carries the ticket's traceparent is left as it is."""
    stored_ctx = context_from_headers(headers or {})
    stored = trace.get_current_span(stored_ctx).get_span_context()
    current = trace.get_current_span().get_span_context()
    if not stored.is_valid or (current.is_valid and current.trace_id == stored.trace_id):
        yield None
        return
    links = [trace.Link(current)] if current.is_valid else None
    with trace.get_tracer("fixflow.background").start_as_current_span(
        name, context=stored_ctx, links=links, attributes=attributes
    ) as span:
        yield span


def tracer(name: str = "fixflow") -> trace.Tracer:
    return trace.get_tracer(name)
