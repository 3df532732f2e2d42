"""Tracing with OpenTelemetry: one trace from an HTTP request through the outbox and every Kafka hop.

A trace starts at HTTP ingress (FastAPI's instrumentation, installed by `create_http_app`). An event written in a
span carries that span's W3C `traceparent`: stored with its outbox row and sent as the CloudEvents `ce_traceparent`
header. A consumer handles each event in a span that is the child of it (`handling`), so what the handler publishes
continues the trace.

A case (an application) is one trace: its submission's `traceparent` is kept with it, and work a later request or
timer does on it runs in a span of that trace (`case`), linked both ways with the request's own server span.

Export is OTLP over HTTP to `otlp_traces_endpoint`; without one no SDK is installed and the API's no-op tracer
costs next to nothing: an incoming `traceparent` is passed on unchanged, none is made up. Tracing never fails a
handler: a malformed `traceparent` starts a new trace instead.
"""

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Protocol

import structlog
from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from contracts.envelope import Metadata

log = structlog.get_logger(__name__)

TRACEPARENT_HEADER = "traceparent"
_W3C = TraceContextTextMapPropagator()
UNTRACED = "health/.*,metrics"
"""Paths whose requests start no trace: probes and scrapes would drown the traces that matter."""


def tracer() -> trace.Tracer:
    """The kit's tracer (the global provider's, looked up at each use, so a provider set later is used)."""
    return trace.get_tracer("jobbro")


class Traced(Protocol):
    """What tracing reads of a process's settings (a service's, or the portal's)."""

    @property
    def service(self) -> str: ...

    @property
    def otlp_traces_endpoint(self) -> str | None: ...


def configure(settings: Traced) -> TracerProvider | None:
    """Make `exporting_provider` the process's tracer provider; it, for `shutdown` at stop (None: no export)."""
    provider = exporting_provider(settings)
    if provider is not None:
        trace.set_tracer_provider(provider)
        log.info("tracing_exported", endpoint=settings.otlp_traces_endpoint)
    return provider


def exporting_provider(settings: Traced) -> TracerProvider | None:
    """A provider exporting spans over OTLP/HTTP in batches to `otlp_traces_endpoint`, the service named in the
    resource; None when no endpoint is set."""
    if not settings.otlp_traces_endpoint:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_traces_endpoint)))
    return provider


def current_traceparent(fallback: str | None = None) -> str | None:
    """The W3C `traceparent` of the span in progress, else `fallback` (an event's own, passed on)."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get(TRACEPARENT_HEADER, fallback)


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the span in progress as a `traceparent` header (an outgoing HTTP request, such as a webhook)."""
    _W3C.inject(headers)


def _parent(traceparent: str | None) -> context.Context | None:
    """The context to continue from an event's `traceparent`; None (a new trace) when it is missing or malformed."""
    if not traceparent:
        return None
    extracted = _W3C.extract({TRACEPARENT_HEADER: traceparent})
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None


@contextmanager
def handling(meta: Metadata, *, topic: str, group: str) -> Iterator[trace.Span]:
    """A consumer span for one event, the child of the span that published it. Without a tracer provider there is
    none: the API's no-op span would only pass the event's `traceparent` on, which `uow.publish` does by itself,
    and it cost a batch more than its handler (about 8 µs an event)."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        yield trace.INVALID_SPAN
        return
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": group,
        "messaging.message.id": str(meta.id),
        "cloudevents.event_type": meta.type,
        "cloudevents.event_subject": meta.subject,
    }
    with _span(f"process {meta.type}", meta.traceparent, trace.SpanKind.CONSUMER, attributes) as span:
        yield span


@contextmanager
def continuing(name: str, traceparent: str | None, **attributes: Any) -> Iterator[trace.Span]:
    """An internal span continuing the trace of `traceparent` (work done later for an event, such as a delivery)."""
    with _span(name, traceparent, trace.SpanKind.INTERNAL, attributes) as span:
        yield span


@contextmanager
def case(name: str, traceparent: str | None, **attributes: Any) -> Iterator[trace.Span]:
    """A span in a case's trace (`traceparent`, kept from its submission) for work a later request does on it, so
    what it publishes continues the case; linked both ways with the span in progress (the request's server span,
    whose own trace holds the HTTP details). Without a valid `traceparent` it is a plain child of that span."""
    request = trace.get_current_span()
    linked = request.get_span_context().is_valid and _parent(traceparent) is not None
    links = [trace.Link(request.get_span_context())] if linked else []
    with _span(name, traceparent, trace.SpanKind.INTERNAL, attributes, links) as span:
        if linked:
            request.add_link(span.get_span_context())
        yield span


@contextmanager
def _span(
    name: str,
    traceparent: str | None,
    kind: trace.SpanKind,
    attributes: dict[str, Any],
    links: list[trace.Link] | None = None,
) -> Iterator[trace.Span]:
    """A span that records a failure by its class only: an exception's message or trace could hold personal data."""
    with trace.use_span(
        tracer().start_span(name, context=_parent(traceparent), kind=kind, attributes=attributes, links=links),
        end_on_exit=True,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as exc:
            span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
            raise
