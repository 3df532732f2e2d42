"""The pseudonymous citizen reference: the same for one citizen in every service, without the CPR number.

A keyed hash (HMAC-SHA256) rather than a plain one: CPR numbers are few enough (about 10^8 valid ones) to
reverse any unkeyed hash by trying them all. Services that meet a CPR number (subsidy on submission, benefits
on import) share the key through their settings; everyone else sees only the reference.
"""

import hashlib
import hmac


def citizen_ref(cpr: str, key: str) -> str:
    """`c-` and 16 hex digits of HMAC-SHA256(key, CPR); a CPR with a dash gives the same reference."""
    digest = hmac.new(key.encode(), cpr.replace("-", "").encode(), hashlib.sha256).hexdigest()
    return f"c-{digest[:16]}"
