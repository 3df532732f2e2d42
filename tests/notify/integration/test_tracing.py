"""A webhook carries its delivery's span on as the `traceparent` header: the receiver can continue the trace."""

from datetime import UTC, datetime
from uuid import uuid4

from contracts.envelope import Metadata
from contracts.subsidy import PlacementExtended
from jobbro import tracing
from jobbro.kafka_access import KafkaAccess
from jobbro.principal import Authenticator
from jobbro.testing import publish
from tests.notify.integration.conftest import (
    SettingsFactory,
    TracedReceiver,
    about,
    notifications,
    running_notify,
    serving,
    submitted,
)
from tests.tracing import parent_of, recording, trace_of, traceparent_ids


async def test_a_webhook_sends_its_deliverys_span_as_traceparent_in_the_events_trace(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    authenticator: Authenticator,
    integrator: dict[str, str],
    receiver_port: int,
) -> None:
    recording()
    receiver = TracedReceiver()
    application = submitted()
    extended = about(PlacementExtended, application)
    with tracing.tracer().start_as_current_span("POST /v1/applications/{application_id}/extension") as request:
        traceparent = tracing.current_traceparent()
    cause = Metadata(uuid4(), "/test", "test", datetime.now(UTC), "s", uuid4(), traceparent=traceparent)
    async with (
        serving(receiver, receiver_port) as url,
        running_notify(settings_for(), authenticator, integrator) as api,
    ):
        created = await api.post(
            "/v1/webhooks/subscriptions",
            json={"url": url, "event_types": [PlacementExtended.type], "secret": receiver.secret},
        )
        assert created.status_code == 201, created.text
        await publish(kafka, topic_prefix, application, extended, cause=cause)
        await notifications(kafka, topic_prefix, expect=2)  # the webhook and the citizen's letter

    [sent] = receiver.traceparents
    assert sent is not None and receiver.received[0].verified
    trace_id, span_id = traceparent_ids(sent)
    assert trace_id == request.get_span_context().trace_id
    spans = trace_of(trace_id)
    [delivery] = [span for span in spans if span.context.span_id == span_id]
    assert delivery.name == "deliver webhook"
    handled = parent_of(delivery, spans)
    assert handled.name == f"process {PlacementExtended.type}"
    assert parent_of(handled, spans).context.span_id == request.get_span_context().span_id
