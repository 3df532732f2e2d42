"""The committed artefacts: current with the code, never broken within a version, and valid AsyncAPI 3.0."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from contracts import generate
from contracts.asyncapi import KAFKA_BINDING
from contracts.catalog import EVENT_TYPES, TOPICS
from contracts.examples import example
from contracts.schema import resolve
from contracts.subsidy import ApplicationSubmitted, PlacementEnded

ASYNCAPI = json.loads(generate.ASYNCAPI.read_text())


def test_no_event_changed_incompatibly_since_its_schema_was_committed() -> None:
    """The gate: a failure here means a change needs a new event type version, not a regenerated schema."""
    assert generate.incompatibilities(generate.committed_schemas(generate.SCHEMAS), generate.current_schemas()) == []


def test_the_committed_artefacts_are_current() -> None:
    """A failure here after a compatible change: run `python -m contracts.generate` and commit the result."""
    assert [str(p) for p in generate.stale(generate.rendered())] == []
    assert generate.main(["--check"]) == 0


def test_there_is_a_committed_schema_for_every_event_type_and_no_other() -> None:
    assert sorted(generate.committed_schemas(generate.SCHEMAS)) == sorted(EVENT_TYPES)


@pytest.fixture
def committed_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the committed schemas that generate reads and writes instead of the real ones."""
    directory = tmp_path / "schemas"
    shutil.copytree(generate.SCHEMAS, directory)
    monkeypatch.setattr(generate, "SCHEMAS", directory)
    monkeypatch.setattr(generate, "ASYNCAPI", tmp_path / "asyncapi.json")
    return directory


def _edit(path: Path, change) -> str:
    schema = json.loads(path.read_text())
    change(schema)
    text = json.dumps(schema)
    path.write_text(text)
    return text


def test_generate_refuses_to_overwrite_a_schema_with_a_breaking_change(
    committed_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = committed_copy / f"{ApplicationSubmitted.type}.json"
    # As if the committed schema had a field the code has since dropped.
    text = _edit(path, lambda s: s["properties"].update(old_field={"type": "string"}))
    assert generate.main(["--check"]) == 1
    assert generate.main([]) == 1
    assert path.read_text() == text
    assert f"{ApplicationSubmitted.type}: old_field: field removed or renamed" in capsys.readouterr().err


def test_generate_rewrites_after_a_compatible_change(committed_copy: Path) -> None:
    path = committed_copy / f"{PlacementEnded.type}.json"
    # As if the code had since gained the optional remark and a new description.
    _edit(path, lambda s: (s["properties"].pop("remark"), s.update(description="Before.")))
    assert generate.main(["--check"]) == 1
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0


def test_generate_reports_a_removed_event_type(committed_copy: Path) -> None:
    (committed_copy / "dk.jobbro.subsidy.retired-event.v1.json").write_text(json.dumps({"type": "object"}))
    assert generate.incompatibilities(generate.committed_schemas(committed_copy), generate.current_schemas()) == [
        "dk.jobbro.subsidy.retired-event.v1: event type removed"
    ]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_asyncapi_document_is_a_complete_asyncapi_3_document() -> None:
    assert ASYNCAPI["asyncapi"] == "3.0.0"
    assert {"title", "version"} <= ASYNCAPI["info"].keys()
    for ref in _refs(ASYNCAPI):
        assert resolve(ASYNCAPI, ref) is not None, ref
    for operation in ASYNCAPI["operations"].values():
        assert operation["action"] in ("send", "receive")
        channel = operation["channel"]["$ref"].removeprefix("#/channels/")
        assert all(m["$ref"].startswith(f"#/channels/{channel}/messages/") for m in operation["messages"])


def test_every_topic_is_a_channel_with_its_producer_consumers_and_configuration() -> None:
    assert list(ASYNCAPI["channels"]) == [t.name for t in TOPICS]
    for topic in TOPICS:
        channel = ASYNCAPI["channels"][topic.name]
        kafka = channel["bindings"]["kafka"]
        assert (kafka["topic"], kafka["partitions"], kafka["bindingVersion"]) == (topic.name, 12, KAFKA_BINDING)
        configured = {k: int(v) for k, v in topic.config.items() if k in ("retention.ms", "delete.retention.ms")}
        assert kafka["topicConfiguration"] == {"cleanup.policy": [topic.config["cleanup.policy"]], **configured}
        assert channel["x-dead-letter-topic"] == topic.dlq
        assert f"{topic.owner}.sends.{topic.name}" in ASYNCAPI["operations"]
        assert {f"{c}.receives.{topic.name}" for c in topic.consumers} <= ASYNCAPI["operations"].keys()


@pytest.mark.parametrize("type_", sorted(EVENT_TYPES))
def test_every_message_documents_its_key_headers_and_payload_with_a_valid_example(type_: str) -> None:
    model = EVENT_TYPES[type_]
    message = ASYNCAPI["components"]["messages"][model.__name__]
    assert message["name"] == type_
    assert message["bindings"]["kafka"]["key"]["x-key-field"] == model.key_field
    [sample] = message["examples"]
    assert sample["payload"] == (None if model.tombstone else json.loads(example(model).model_dump_json()))
    assert sample["headers"]["ce_type"] == type_
    assert sample["headers"]["ce_subject"] == example(model).key()
    headers = {**ASYNCAPI, **message["headers"]}  # resolve the headers' $ref against the document
    Draft202012Validator(headers).validate(sample["headers"])
    schema = message["payload"] if model.tombstone else resolve(ASYNCAPI, message["payload"]["$ref"])
    payload = {**ASYNCAPI, **schema}
    Draft202012Validator(payload).validate(sample["payload"])
