"""Private links: an applicant's access token is a signature of their application's id.

Nothing secret is stored: the database keeps no token and the workflow history carries only the
application id, yet the server can give the same link again to the same applicant (an idempotent
retry). Rotating MISSIONFLOW_SECRET_KEY invalidates every link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid


def access_token(secret: str, owner_id: uuid.UUID, *, kind: str = "application") -> str:
    """The link token of an application or, with `kind="host"`, of a host: the kind is signed
    too, so one kind's token never opens the other's page."""
    digest = hmac.new(secret.encode(), kind.encode() + b":" + owner_id.bytes, hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:24]).decode().rstrip("=")


def token_matches(
    secret: str, owner_id: uuid.UUID, token: str | None, *, kind: str = "application"
) -> bool:
    if not token:
        return False
    return hmac.compare_digest(access_token(secret, owner_id, kind=kind), token)
