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


def access_token(secret: str, application_id: uuid.UUID) -> str:
    digest = hmac.new(secret.encode(), b"application:" + application_id.bytes, hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:24]).decode().rstrip("=")


def token_matches(secret: str, application_id: uuid.UUID, token: str | None) -> bool:
    if not token:
        return False
    return hmac.compare_digest(access_token(secret, application_id), token)
