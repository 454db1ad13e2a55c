"""Ops staff in a browser: the Temporal UI calls the codec endpoints from its own page, and can
send them cookies (its codec setting "include cross-origin credentials") but not our bearer
token. So ops staff sign in once at /codec/session with the coordinator token, and get a cookie
that opens /codec/* only, for a working day.

The cookie stores no secret: it is its expiry and an HMAC of it under the link secret and a
digest of the coordinator token, so rotating either ends every session.
"""

from __future__ import annotations

import hashlib
import hmac
import time

OPS_COOKIE = "missionflow_ops"
OPS_COOKIE_PATH = "/codec"
OPS_SESSION_SECONDS = 12 * 3600


def ops_session(secret: str, coordinator_token: str, *, now: float | None = None) -> str:
    """A cookie value good for `OPS_SESSION_SECONDS` from `now`."""
    expires = int((time.time() if now is None else now) + OPS_SESSION_SECONDS)
    return f"{expires}.{_signature(secret, coordinator_token, expires)}"


def ops_session_valid(
    cookie: str | None, secret: str, coordinator_token: str, *, now: float | None = None
) -> bool:
    if not cookie:
        return False
    expires, _, signature = cookie.partition(".")
    if not expires.isdigit() or int(expires) <= (time.time() if now is None else now):
        return False
    expected = _signature(secret, coordinator_token, int(expires))
    return hmac.compare_digest(expected.encode(), signature.encode())


def _signature(secret: str, coordinator_token: str, expires: int) -> str:
    token_digest = hashlib.sha256(coordinator_token.encode()).hexdigest()
    message = f"ops-session|{expires}|{token_digest}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
