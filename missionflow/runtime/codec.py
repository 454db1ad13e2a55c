"""Every payload sealed before it reaches Temporal: no applicant's name, email or answer is ever
stored in a workflow's history in plain text.

The codec sits between the pydantic payload converter and the wire, so it sees every workflow
input, Update, query answer, activity input and result, memo and (with the failure converter
`temporalio.converter.DefaultFailureConverterWithEncodedAttributes`) every error message. Each
payload is the whole converted payload, serialized and sealed with AES-256-GCM under the current
key; the key's id travels in the sealed payload's metadata, so a payload sealed before a key
rotation opens with the old key as long as it is still configured. A payload without our
encoding passes through untouched: histories recorded before encryption still replay.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
"""The `encoding` of a sealed payload; the Temporal UI and CLI show it as encrypted."""
KEY_ID = "encryption-key-id"
"""The metadata entry naming the key a payload is sealed with."""
NONCE_BYTES = 12
TAG_BYTES = 16


class UnsealError(ValueError):
    """A sealed payload that cannot be opened here: its key is not configured, or it was not
    sealed by that key (a wrong key under the same id, or altered bytes)."""


class SealingCodec(PayloadCodec):
    """AES-256-GCM over whole payloads, with any number of keys for opening and one for sealing.

    Args:
        current: the id of the key that seals new payloads.
        keys: every key this process may open payloads with, by id, 32 bytes each.
    """

    def __init__(self, *, current: str, keys: Mapping[str, bytes]) -> None:
        if current not in keys:
            raise ValueError(f"the current key {current!r} is not among the keys given")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current

    @property
    def current(self) -> str:
        return self._current

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.unseal(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        """The payload, serialized whole (metadata too: it names the payload's type) and
        sealed; the key id is also the associated data, so it cannot be swapped for another."""
        nonce = os.urandom(NONCE_BYTES)
        key_id = self._current.encode()
        sealed = self._ciphers[self._current].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def unseal(self, payload: Payload) -> Payload:
        """The payload as it was before `seal`; a payload not sealed comes back as it is.

        Raises:
            UnsealError: its key is not configured here, or it does not open with that key.
        """
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            known = ", ".join(sorted(self._ciphers))
            raise UnsealError(
                f"a payload is sealed with key {key_id!r}, which is not configured here "
                f"(keys: {known}); add it back to MISSIONFLOW_ENCRYPTION_KEYS to read it"
            )
        if len(payload.data) < NONCE_BYTES + TAG_BYTES:
            raise UnsealError(f"a payload sealed with key {key_id!r} is too short to be sealed")
        try:
            opened = cipher.decrypt(
                payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode()
            )
        except InvalidTag:
            raise UnsealError(
                f"a payload sealed with key {key_id!r} does not open with the key configured "
                "under that id: the key differs from the one that sealed it, or the payload "
                "was altered"
            ) from None
        return Payload.FromString(opened)
