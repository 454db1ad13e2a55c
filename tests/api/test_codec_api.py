"""The codec endpoints the Temporal UI is pointed at: POST /codec/encode and /codec/decode, for
ops staff only, CORS for the Temporal UI's origin alone, and the browser's sign-in."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from support import sealed_converter
from temporalio.api.common.v1 import Payload

from api.main import create_app
from api.ops_access import OPS_COOKIE
from missionflow.runtime.codec import SealingCodec
from missionflow.runtime.settings import Settings

API = "http://127.0.0.1:8000"
UI = "http://127.0.0.1:8233"
APPLICANT = {"contact_name": "Jana Weber", "contact_email": "jana.weber@example.org"}


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process; the codec endpoints need neither Temporal nor the database."""
    app = create_app(settings, mailbox=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=API) as client:
        yield client


def bearer(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.coordinator_token()}"}


def to_json(payload: Payload) -> dict[str, Any]:
    """A payload as protobuf's JSON renders it, as the Temporal UI sends it."""
    return {
        "metadata": {
            key: base64.b64encode(value).decode() for key, value in payload.metadata.items()
        },
        "data": base64.b64encode(payload.data).decode(),
    }


def from_json(item: dict[str, Any]) -> Payload:
    return Payload(
        metadata={key: base64.b64decode(value) for key, value in item["metadata"].items()},
        data=base64.b64decode(item["data"]),
    )


@pytest.mark.parametrize("path", ["/codec/encode", "/codec/decode"])
async def test_only_ops_staff(app_client: httpx.AsyncClient, path: str) -> None:
    body = {"payloads": []}
    refused = await app_client.post(path, json=body)
    assert refused.status_code == 401, refused.text
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    wrong = await app_client.post(path, json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403, "a wrong token, as on every coordinator route"
    assert "coordinator token" in wrong.json()["detail"]


async def test_what_a_worker_sealed_opens_and_seals_again(
    app_client: httpx.AsyncClient, settings: Settings
) -> None:
    converter = sealed_converter()
    [sealed] = await converter.encode([APPLICANT])
    opened = await app_client.post(
        "/codec/decode", json={"payloads": [to_json(sealed)]}, headers=bearer(settings)
    )
    assert opened.status_code == 200, opened.text
    [plain] = [from_json(item) for item in opened.json()["payloads"]]
    assert plain.metadata["encoding"] == b"json/plain"
    assert b"jana.weber@example.org" in plain.data

    resealed = await app_client.post("/codec/encode", json=opened.json(), headers=bearer(settings))
    assert resealed.status_code == 200, resealed.text
    [again] = [from_json(item) for item in resealed.json()["payloads"]]
    assert again.metadata["encoding"] == b"binary/encrypted"
    assert again.metadata["encryption-key-id"] == b"tests-1"
    assert b"jana" not in again.data
    assert await converter.decode([again], [dict]) == [APPLICANT], "a worker opens it"


async def test_payloads_not_sealed_come_back_as_they_are(
    app_client: httpx.AsyncClient, settings: Settings
) -> None:
    plain = {"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}, "data": "IjEi"}
    answer = await app_client.post(
        "/codec/decode", json={"payloads": [plain]}, headers=bearer(settings)
    )
    assert answer.status_code == 200 and answer.json() == {"payloads": [plain]}


async def test_url_safe_unpadded_base64_is_read(
    app_client: httpx.AsyncClient, settings: Settings
) -> None:
    [sealed] = await sealed_converter().encode([APPLICANT])
    item = to_json(sealed)
    item["data"] = base64.urlsafe_b64encode(sealed.data).decode().rstrip("=")
    answer = await app_client.post(
        "/codec/decode", json={"payloads": [item]}, headers=bearer(settings)
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("body", "where", "why"),
    [
        ({}, ["body", "payloads"], "Field required"),
        ({"payloads": "none"}, ["body", "payloads"], "valid list"),
        ({"payloads": [{"data": "not base64!"}]}, ["body", "payloads", 0, "data"], "not base64"),
        (
            {"payloads": [{"metadata": {"encoding": 7}}]},
            ["body", "payloads", 0, "metadata", "encoding"],
            "must be a base64 string",
        ),
        ({"payloads": [{"data": "abcde"}]}, ["body", "payloads", 0, "data"], "not base64"),
    ],
)
@pytest.mark.parametrize("path", ["/codec/encode", "/codec/decode"])
async def test_junk_is_refused_field_by_field(
    app_client: httpx.AsyncClient, settings: Settings, path: str, body: Any, where: list, why: str
) -> None:
    answer = await app_client.post(path, json=body, headers=bearer(settings))
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == where and why in error["msg"], error


@pytest.mark.parametrize("path", ["/codec/encode", "/codec/decode"])
async def test_a_body_that_is_not_json_is_refused(
    app_client: httpx.AsyncClient, settings: Settings, path: str
) -> None:
    answer = await app_client.post(
        path,
        content=b"{payloads",
        headers={**bearer(settings), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text


async def test_a_payload_under_a_key_not_held_is_refused_by_its_place(
    app_client: httpx.AsyncClient, settings: Settings
) -> None:
    [mine] = await sealed_converter().encode([APPLICANT])
    [theirs] = await SealingCodec(current="gone", keys={"gone": b"g" * 32}).encode([mine])
    answer = await app_client.post(
        "/codec/decode",
        json={"payloads": [to_json(mine), to_json(theirs)]},
        headers=bearer(settings),
    )
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "payloads", 1]
    assert "sealed with key 'gone', which is not configured here" in error["msg"]


async def test_cors_for_the_temporal_ui_alone(app_client: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
    }
    allowed = await app_client.options("/codec/decode", headers={"Origin": UI, **preflight})
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["Access-Control-Allow-Origin"] == UI
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert "x-namespace" in allowed.headers["Access-Control-Allow-Headers"].lower()

    stranger = await app_client.options(
        "/codec/decode", headers={"Origin": "https://evil.example", **preflight}
    )
    assert stranger.status_code == 400
    assert "Access-Control-Allow-Origin" not in stranger.headers

    elsewhere = await app_client.options("/missions", headers={"Origin": UI, **preflight})
    assert "Access-Control-Allow-Origin" not in elsewhere.headers, "the rest stays same-origin"


async def test_a_browser_signs_in_and_the_ui_sends_its_cookie(
    app_client: httpx.AsyncClient, settings: Settings
) -> None:
    form = await app_client.get("/codec/session")
    assert form.status_code == 200 and 'name="token"' in form.text
    assert f"{API}/codec" in form.text and UI in form.text

    wrong = await app_client.post("/codec/session", data={"token": "guess"})
    assert wrong.status_code == 401 and OPS_COOKIE not in wrong.cookies
    assert "not the coordinator token" in wrong.text

    signed = await app_client.post("/codec/session", data={"token": settings.coordinator_token()})
    assert signed.status_code == 200, signed.text
    header = signed.headers["set-cookie"]
    assert "HttpOnly" in header and "Path=/codec" in header and "SameSite=strict" in header
    assert settings.coordinator_token() not in header, "the cookie holds no secret"

    [sealed] = await sealed_converter().encode([APPLICANT])
    body = {"payloads": [to_json(sealed)]}
    opened = await app_client.post("/codec/decode", json=body, headers={"Origin": UI})
    assert opened.status_code == 200, opened.text
    assert opened.headers["Access-Control-Allow-Origin"] == UI

    cookie = app_client.cookies[OPS_COOKIE]
    app_client.cookies.clear()
    expires, _, signature = cookie.partition(".")
    forged = f"{int(expires) + 86400}.{signature}"
    app_client.cookies.set(OPS_COOKIE, forged)
    refused = await app_client.post("/codec/decode", json=body)
    assert refused.status_code == 401, "a cookie whose expiry was moved is not a session"
    app_client.cookies.set(OPS_COOKIE, cookie)  # path /, as if the browser sent it anywhere
    missions = await app_client.get("/missions")
    assert missions.status_code == 401, "the cookie opens the codec endpoints only"
