"""A DEVELOPMENT identity provider: one EC key pair whose private half mints bearer tokens for the demo.

In production the tokens come from the municipality's or MitID Erhverv's identity broker; the subsidy service
only ever holds the issuer's public key (`SUBSIDY_TOKEN_ISSUER_KEY`).
"""

import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey

ISSUER = "jobbro-identity"
AUDIENCE = "jobbro-subsidy"
PRIVATE = "token-issuer.key.pem"
PUBLIC = "token-issuer.pub.pem"


def ensure_issuer(folder: Path) -> str:
    """Create the issuer's key pair in `folder` unless it exists; return the public key, PEM."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / PRIVATE).exists():
        key = ec.generate_private_key(ec.SECP256R1())
        (folder / PRIVATE).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        (folder / PUBLIC).write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    return (folder / PUBLIC).read_text()


def mint(folder: Path, *, subject: str, role: str, lifetime_seconds: int = 3600, **claims: str) -> str:
    """A bearer token for `role` (employer with `cvr=…`, caseworker with `municipality=…`)."""
    key = ECKey.import_key((folder / PRIVATE).read_text())
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "role": role, "iat": now, "exp": now + lifetime_seconds}
    return jwt.encode({"alg": "ES256"}, payload | claims, key, algorithms=["ES256"])
