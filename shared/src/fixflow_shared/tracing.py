"""OpenTelemetry: one tracer provider per process, its exporters chosen the standard way
(OTEL_TRACES_EXPORTER), W3C trace context carried into outbox rows and out of Kafka headers.

Exporters: `otlp` (OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT: the production path, a collector
in front of Jaeger or Tempo), `zipkin` (Zipkin's JSON v2 API at OTEL_EXPORTER_ZIPKIN_ENDPOINT: the
local trace viewer `make run` starts), `console`, `none`, or several separated by commas. Unset, it
is `otlp` when an OTLP endpoint is configured and `none` otherwise."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, _get_from_env_or_default
from opentelemetry.trace import SpanKind

_provider: TracerProvider | None = None


class UnknownExporter(ValueError):
    pass


def span_exporters(
    names: str | None, *, otlp_endpoint: str | None = None, zipkin_endpoint: str | None = None
) -> list[SpanExporter]:
    """The exporters OTEL_TRACES_EXPORTER names (see the module's doc)."""
    chosen = [n.strip().lower() for n in (names or ("otlp" if otlp_endpoint else "none")).split(",") if n.strip()]
    exporters: list[SpanExporter] = []
    for name in chosen:
        if name == "none":
            continue
        if name in ("otlp", "otlp_proto_http"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            endpoint = (otlp_endpoint or "http://localhost:4318").rstrip("/") + "/v1/traces"
            exporters.append(OTLPSpanExporter(endpoint=endpoint))
        elif name in ("zipkin", "zipkin_json"):
            from opentelemetry.exporter.zipkin.json import ZipkinExporter

            exporters.append(ZipkinExporter(endpoint=zipkin_endpoint))
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
        else:
            raise UnknownExporter(f"OTEL_TRACES_EXPORTER={names!r}: use otlp, zipkin, console or none")
    return exporters


class NoOrphanClientSpans(Sampler):
    """Drops a CLIENT span that would start a trace of its own (an SQL statement of the outbox relay's
    poll or a timer's re-seed, many a second and about no request or event), and leaves every other
    decision to the configured sampler (OTEL_TRACES_SAMPLER, parent-based by default)."""

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner

    def should_sample(  # type: ignore[no-untyped-def]
        self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind == SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self.inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"NoOrphanClientSpans{{{self.inner.get_description()}}}"


def setup_tracing(
    service_name: str,
    *,
    otlp_endpoint: str | None,
    exporters: str | None = None,
    zipkin_endpoint: str | None = None,
    extra_processors: tuple[SpanProcessor, ...] = (),
) -> TracerProvider:
    """Install the global tracer provider once; later calls return the same provider."""
    global _provider
    if _provider is not None:
        return _provider
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}),
        sampler=NoOrphanClientSpans(_get_from_env_or_default()),
    )
    for exporter in span_exporters(exporters, otlp_endpoint=otlp_endpoint, zipkin_endpoint=zipkin_endpoint):
        provider.add_span_processor(BatchSpanProcessor(exporter))
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
