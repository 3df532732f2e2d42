"""The pseudonymous citizen reference: the same for one citizen in every service, without the CPR number.

A keyed hash (HMAC-SHA256) rather than a plain one: CPR numbers are few enough (about 10^8 valid ones) to
reverse any unkeyed hash by trying them all. Services that meet a CPR number (subsidy on submission, benefits
on import) share the key through their settings; everyone else sees only the reference.

The key cannot be rotated the way a signing key can: a new key gives every citizen a new reference, so a change is
a re-keying of every stored `citizen_ref` in every service (and of what integrators keep), planned as a migration.
`pseudonym_key_id` names the key in force so services that disagree are seen at once (docs/security.md).
"""

import hashlib
import hmac

from pydantic import SecretStr


def citizen_ref(cpr: str, key: SecretStr | str) -> str:
    """`c-` and 16 hex digits of HMAC-SHA256(key, CPR); a CPR with a dash gives the same reference."""
    secret = key.get_secret_value() if isinstance(key, SecretStr) else key
    digest = hmac.new(secret.encode(), cpr.replace("-", "").encode(), hashlib.sha256).hexdigest()
    return f"c-{digest[:16]}"
