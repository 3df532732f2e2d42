"""The representative's link: subsidy seals its token into the approval event for notify only; notify opens it here.

The topic carries the token sealed (JWE under a key subsidy and notify share, see `jobbro.keyring`) together with
the request and the address it was made for; a seal for another request or address is an error, not a mail. The
opened link lives only in this process and in the mail it is rendered into: it is never published or logged.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from pydantic import SecretStr

from contracts.subsidy import RepresentativeApprovalRequested
from jobbro.keyring import Sealer, link_sealer


class SealMismatch(ValueError):
    """The sealed link names another request or address than the event it came in."""


class RepresentativeLinks:
    """Opens sealed link tokens and makes the link mailed to the representative."""

    def __init__(self, sealer: Sealer, base_url: str) -> None:
        self._sealer = sealer
        self._base_url = base_url

    @classmethod
    def from_settings(cls, link_seal_keys: SecretStr, base_url: str) -> RepresentativeLinks:
        return cls(link_sealer(link_seal_keys, setting="NOTIFY_LINK_SEAL_KEYS"), base_url)

    def opened(self, event: RepresentativeApprovalRequested) -> RepresentativeApprovalRequested:
        """The event with the link to mail in `approval_url` (in this process only); unchanged without a seal.

        Raises `jobbro.keyring.Unsealed` or `SealMismatch`: the record is dead-lettered and no mail goes out.
        """
        if event.sealed_link is None:
            return event
        sealed = json.loads(self._sealer.open(event.sealed_link))
        if sealed.get("request_id") != str(event.request_id) or sealed.get("to") != event.representative_email:
            raise SealMismatch(f"the sealed link of request {event.request_id} was made for another request or address")
        url = f"{self._base_url}?{urlencode({'token': sealed['token']})}"
        return event.model_copy(update={"approval_url": url, "sealed_link": None})
