"""Notify opens the link token subsidy sealed for it, and mails it only for the request and address it was made for."""

import json
from uuid import uuid4

import pytest
from pydantic import SecretStr

from contracts.examples import example
from contracts.subsidy import RepresentativeApprovalRequested
from jobbro.keyring import Unsealed, link_sealer
from services.notify.links import RepresentativeLinks, SealMismatch

SEAL = "seal-2026:" + "s" * 40
BASE = "https://jobbro.example/v1/representative-approval"


def _sealed(seal: str = SEAL, **changes: str) -> tuple[RepresentativeApprovalRequested, str]:
    request_id, to = uuid4(), "mette.jensen@hansen-vvs.dk"
    sealed = {"token": "header.claims.mac", "request_id": str(request_id), "to": to} | changes
    sealer = link_sealer(SecretStr(seal), setting="test")
    event = example(RepresentativeApprovalRequested).model_copy(
        update={"request_id": request_id, "representative_email": to, "sealed_link": sealer.seal(json.dumps(sealed))}
    )
    return event, sealed["token"]


def _links(seal: str = SEAL) -> RepresentativeLinks:
    return RepresentativeLinks.from_settings(SecretStr(seal), BASE)


def test_opens_the_sealed_token_into_the_link_to_mail() -> None:
    event, token = _sealed()

    opened = _links(f"seal-2027:{'n' * 40},{SEAL}").opened(event)

    assert opened.approval_url == f"{BASE}?token={token}"
    assert opened.sealed_link is None


def test_an_event_without_a_seal_is_left_as_it_is() -> None:
    event = example(RepresentativeApprovalRequested)

    assert _links().opened(event) == event


def test_a_seal_under_a_key_notify_does_not_hold_is_an_error() -> None:
    event, _ = _sealed(seal="seal-other:" + "o" * 40)

    with pytest.raises(Unsealed):
        _links().opened(event)


@pytest.mark.parametrize("field", ["request_id", "to"])
def test_a_seal_moved_to_another_request_or_address_is_an_error(field: str) -> None:
    event, _ = _sealed(**{field: "someone-else"})

    with pytest.raises(SealMismatch) as refused:
        _links().opened(event)
    assert "header.claims.mac" not in str(refused.value)
