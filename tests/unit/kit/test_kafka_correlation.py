"""FastStream's own idea of a message's correlation (its logs, its telemetry) is the record's `ce_correlationid`,
never a `correlation_id` header of the Kafka client's."""

from uuid import uuid4

from aiokafka import ConsumerRecord
from faststream.kafka.message import KafkaMessage
from faststream.kafka.parser import AioKafkaBatchParser

from jobbro.kafka import _tolerant_parse


def _record(*headers: tuple[str, bytes]) -> ConsumerRecord:
    return ConsumerRecord(
        topic="t", partition=0, offset=7, timestamp=0, timestamp_type=0, key=b"k", value=b"{}",
        checksum=None, serialized_key_size=1, serialized_value_size=2, headers=list(headers),
    )  # fmt: skip


async def test_a_batch_is_correlated_by_its_first_records_ce_correlationid() -> None:
    parser = AioKafkaBatchParser(msg_class=KafkaMessage, regex=None)
    first, second = str(uuid4()), str(uuid4())
    records = (
        _record(("ce_correlationid", first.encode()), ("correlation_id", b"a-random-id-of-the-client")),
        _record(("ce_correlationid", second.encode()), ("ce_type", b"\xff not UTF-8")),
    )

    message = await _tolerant_parse(records, parser.parse_batch)

    assert message.correlation_id == first
    assert message.raw_message == records
