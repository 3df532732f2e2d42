"""Trace context through the outbox: an event carries the span it was written in, a consumer's span continues it."""

import subprocess
import sys
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from contracts.envelope import Metadata, decode, encode
from jobbro import tracing
from jobbro.settings import ServiceSettings
from jobbro.uow import UnitOfWork
from tests.example.events import ExampleTopics
from tests.tracing import recording, trace_of, traceparent_ids

_, Changed = ExampleTopics(commands="test.commands", changes="test.changes").bind()


def _changed() -> object:
    return Changed(counter=f"c-{uuid4().hex[:8]}", value=1, version=1)


def _meta(traceparent: str | None) -> Metadata:
    event_id = uuid4()
    return Metadata(event_id, "/test", Changed.type, datetime.now(UTC), "c", event_id, traceparent=traceparent)


def _unit_of_work(cause: Metadata | None = None) -> UnitOfWork:
    """A unit of work never entered: queuing an event needs no connection."""
    return UnitOfWork(None, "/test", cause)  # type: ignore[arg-type]


def test_an_event_written_in_a_span_carries_that_spans_traceparent() -> None:
    recording()
    with tracing.tracer().start_as_current_span("POST /v1/applications") as span:
        meta = _unit_of_work(_meta("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).publish(_changed())

    assert meta.traceparent is not None
    ids = span.get_span_context()
    assert traceparent_ids(meta.traceparent) == (ids.trace_id, ids.span_id)


def test_an_event_written_outside_any_span_passes_its_causes_traceparent_on() -> None:
    cause = _meta("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")

    assert _unit_of_work(cause).publish(_changed()).traceparent == cause.traceparent
    assert _unit_of_work().publish(_changed()).traceparent is None


def test_the_traceparent_travels_as_the_ce_traceparent_header_and_is_read_back() -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    meta, record = encode(_changed(), source="/test", traceparent=traceparent)  # type: ignore[arg-type]

    assert record.headers["ce_traceparent"] == traceparent == meta.traceparent
    headers = [(name, value.encode()) for name, value in record.headers.items()]
    assert decode(headers, record.value, {Changed.type: Changed})[0].traceparent == traceparent


def test_a_consumers_span_is_the_child_of_the_span_that_wrote_the_event() -> None:
    recording()
    with tracing.tracer().start_as_current_span("POST /v1/applications") as producer:
        meta = _unit_of_work().publish(_changed())

    with tracing.handling(meta, topic="test.changes", group="test.group"):
        written = _unit_of_work(meta).publish(_changed())

    trace_id = producer.get_span_context().trace_id
    [_, consumer] = trace_of(trace_id)
    assert consumer.kind is SpanKind.CONSUMER and consumer.name == f"process {Changed.type}"
    assert consumer.parent is not None and consumer.parent.span_id == producer.get_span_context().span_id
    assert consumer.attributes is not None and consumer.attributes["messaging.consumer.group.name"] == "test.group"
    assert written.traceparent is not None
    assert traceparent_ids(written.traceparent) == (trace_id, consumer.context.span_id)


def test_without_a_tracer_provider_a_handled_events_traceparent_is_passed_on_as_it_came() -> None:
    """In a process of its own: this one's tests install a provider (OpenTelemetry allows one a process)."""
    program = """
from tests.unit.kit.test_tracing import _changed, _meta, _unit_of_work
from jobbro import tracing
for traceparent in ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-not-a-trace-01", None):
    cause = _meta(traceparent)
    with tracing.handling(cause, topic="t", group="g") as span:
        print(span.get_span_context().is_valid, _unit_of_work(cause).publish(_changed()).traceparent)
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        "False 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "False 00-not-a-trace-01",
        "False None",
    ]


def test_a_malformed_traceparent_starts_a_new_trace_instead_of_failing_the_handler() -> None:
    recording()
    with tracing.handling(_meta("00-not-a-trace-01"), topic="t", group="g") as span:
        assert span.get_span_context().is_valid
        assert trace.get_current_span() is span

    [consumer] = trace_of(span.get_span_context().trace_id)
    assert consumer.parent is None


def test_spans_are_exported_only_where_an_otlp_endpoint_is_set() -> None:
    assert tracing.exporting_provider(ServiceSettings(service="subsidy")) is None
    endpoint = "http://127.0.0.1:4318/v1/traces"
    provider = tracing.exporting_provider(ServiceSettings(service="subsidy", otlp_traces_endpoint=endpoint))
    try:
        assert provider is not None and provider.resource.attributes["service.name"] == "subsidy"
    finally:
        if provider is not None:
            provider.shutdown()


def test_a_failing_handlers_span_names_the_error_class_and_keeps_no_message() -> None:
    recording()
    with pytest.raises(ValueError), tracing.handling(_meta(None), topic="t", group="g") as span:
        raise ValueError("citizen 010190-1234 unknown")

    [failed] = trace_of(span.get_span_context().trace_id)
    assert failed.status.status_code is StatusCode.ERROR and failed.status.description == "ValueError"
    assert not failed.events


def test_a_later_requests_work_on_a_case_continues_the_cases_trace_linked_both_ways_with_the_request() -> None:
    recording()
    with tracing.tracer().start_as_current_span("POST /v1/applications"):
        submitted = _unit_of_work().publish(_changed())
    assert submitted.traceparent is not None
    case_trace, submission = traceparent_ids(submitted.traceparent)

    confirmation = "POST /v1/applications/{application_id}/confirmation"
    with (
        tracing.tracer().start_as_current_span(confirmation) as request,
        tracing.case("confirm", submitted.traceparent) as in_case,
    ):
        written = _unit_of_work().publish(_changed())

    assert written.traceparent is not None
    assert traceparent_ids(written.traceparent) == (case_trace, in_case.get_span_context().span_id)
    [confirm] = [span for span in trace_of(case_trace) if span.name == "confirm"]
    assert confirm.parent is not None and confirm.parent.span_id == submission
    assert [link.context for link in confirm.links] == [request.get_span_context()]
    [served] = trace_of(request.get_span_context().trace_id)
    assert served.context.trace_id != case_trace
    assert [link.context for link in served.links] == [in_case.get_span_context()]


def test_work_on_a_case_without_a_kept_trace_is_a_plain_child_of_the_request() -> None:
    recording()
    with (
        tracing.tracer().start_as_current_span("POST /v1/applications/{application_id}/end") as request,
        tracing.case("end", None) as in_case,
    ):
        pass

    [end, served] = trace_of(request.get_span_context().trace_id)
    assert end.context.span_id == in_case.get_span_context().span_id and not end.links and not served.links
    assert end.parent is not None and end.parent.span_id == request.get_span_context().span_id
