"""The codec endpoints: POST /codec/encode and /codec/decode, the remote codec the Temporal UI
and CLI call to show sealed payloads in the clear (docs/operations.md).

They speak the codec server protocol of Temporal's samples: a JSON body `{"payloads": [...]}`,
each payload as protobuf's JSON renders `temporal.api.common.v1.Payload` (`metadata` values and
`data` in base64), answered in kind. Only ops staff may call them (the coordinator token, or the
ops session cookie a browser gets at /codec/session), and only the Temporal UI's origin may
call them from a browser (`CodecCors`). The `X-Namespace` header the UI sends is accepted and
not needed: one set of keys serves the deployment's namespace.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload

from api.deps import CodecDep, OpsStaff
from missionflow.runtime.codec import UnsealError

PREFIX = "/codec"
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


def _from_base64(value: object) -> bytes:
    """Protobuf's JSON parsers take standard or URL-safe base64, padded or not; so do we."""
    if not isinstance(value, str):
        raise ValueError("must be a base64 string")
    if not _BASE64.fullmatch(value):
        raise ValueError("is not base64")
    unpadded = value.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
    except binascii.Error as error:
        raise ValueError(f"is not base64 ({error})") from None


Base64 = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(lambda raw: base64.b64encode(raw).decode(), return_type=str),
    Field(json_schema_extra={"type": "string", "format": "byte"}),
]


class PayloadJson(BaseModel):
    """One `temporal.api.common.v1.Payload` in protobuf's JSON."""

    model_config = ConfigDict(extra="ignore")

    metadata: dict[str, Base64] = Field(default_factory=dict)
    data: Base64 = b""

    @classmethod
    def of(cls, payload: Payload) -> PayloadJson:
        return cls.model_construct(metadata=dict(payload.metadata), data=payload.data)

    def payload(self) -> Payload:
        return Payload(metadata=self.metadata, data=self.data)


class PayloadsJson(BaseModel):
    """`temporal.api.common.v1.Payloads` in protobuf's JSON."""

    payloads: list[PayloadJson]


router = APIRouter(prefix=PREFIX, tags=["codec"], dependencies=[OpsStaff])


@router.post("/encode", summary="Seal payloads as the workers do")
async def encode(body: PayloadsJson, codec: CodecDep) -> PayloadsJson:
    sealed = await codec.encode([item.payload() for item in body.payloads])
    return PayloadsJson(payloads=[PayloadJson.of(payload) for payload in sealed])


@router.post("/decode", summary="Open sealed payloads; others come back as they are")
async def decode(body: PayloadsJson, codec: CodecDep) -> PayloadsJson:
    opened: list[PayloadJson] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(body.payloads):
        try:
            opened.append(PayloadJson.of(codec.unseal(item.payload())))
        except UnsealError as error:
            errors.append({"loc": ("body", "payloads", index), "msg": str(error), "type": "unseal"})
    if errors:
        raise RequestValidationError(errors)
    return PayloadsJson(payloads=opened)


class CodecCors:
    """CORS for the codec endpoints alone, for the Temporal UI's origin: the rest of the API
    answers no cross-origin request. Credentials are allowed, so the UI can send the ops
    session cookie."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        self._app = app
        self._cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        target = self._cors if path.startswith(PREFIX + "/") else self._app
        await target(scope, receive, send)
