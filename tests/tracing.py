"""The SDK's in-memory span exporter as this test process's tracer provider (OpenTelemetry allows one a process).

Spans of every test land in it: a test picks its own by trace id (`trace_of`).
"""

from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_EXPORTER = InMemorySpanExporter()
_installed = False


def recording() -> InMemorySpanExporter:
    """Record every span ended from now on (installed on first use)."""
    global _installed
    if not _installed:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        _installed = True
    return _EXPORTER


def trace_of(trace_id: int) -> list[ReadableSpan]:
    """The ended spans of one trace, in the order they ended."""
    return [span for span in _EXPORTER.get_finished_spans() if span.context.trace_id == trace_id]


def traceparent_ids(traceparent: str) -> tuple[int, int]:
    """The trace id and span id a W3C `traceparent` names."""
    _version, trace_id, span_id, _flags = traceparent.split("-")
    return int(trace_id, 16), int(span_id, 16)


def parent_of(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan:
    """The span's parent among `spans` (fails when it is not there)."""
    assert span.parent is not None, f"{span.name} has no parent"
    [parent] = [s for s in spans if s.context.span_id == span.parent.span_id]
    return parent
