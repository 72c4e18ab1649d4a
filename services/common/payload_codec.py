"""Encryption of Temporal payloads (AES-256-GCM): personal data never reaches the history in
the clear. Each payload names its key id, so keys can rotate: the current key encrypts,
every configured key decrypts."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16  # AES-GCM's authentication tag


class PayloadKeyError(ValueError):
    """A payload that cannot be decrypted: unknown key, or tampered with."""


class MalformedPayload(PayloadKeyError):
    """An encrypted payload that is no such thing: too short to hold its nonce and tag, or
    one whose plain text is not a payload."""


def read_key(text: str) -> bytes:
    """A key as configured: base64 of 32 random bytes (`openssl rand -base64 32`)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a payload key is base64 of 32 bytes (openssl rand -base64 32)") from None
    if len(key) != 32:
        raise ValueError(f"a payload key is 32 bytes, this one is {len(key)}")
    return key


def key_id(key: bytes) -> str:
    """A key's public name: the start of its SHA-256, safe to write into every payload."""
    return hashlib.sha256(b"lifecare-payload-key:" + key).hexdigest()[:16]


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload with the current key; decrypts with whichever key it names.

    A payload without the encrypted encoding (a history written before encryption) passes
    through as it is.
    """

    def __init__(self, current: bytes, previous: Iterable[bytes] = ()) -> None:
        self.key_id = key_id(current)
        self._current = AESGCM(current)
        self._keys = {key_id(k): AESGCM(k) for k in previous}
        self._keys[self.key_id] = self._current

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        kid = self.key_id.encode()
        sealed = self._current.encrypt(nonce, payload.SerializeToString(), kid)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: kid}, data=nonce + sealed)

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        kid = payload.metadata.get(KEY_ID, b"")
        key = self._keys.get(kid.decode(errors="replace"))
        if key is None:
            raise PayloadKeyError(f"no payload key with id {kid.decode(errors='replace')!r}")
        if len(payload.data) < NONCE_BYTES + TAG_BYTES:
            raise MalformedPayload(
                f"an encrypted payload holds at least {NONCE_BYTES + TAG_BYTES} bytes "
                f"(nonce and tag), this one {len(payload.data)}"
            )
        try:
            plain = key.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], kid)
        except InvalidTag:
            raise PayloadKeyError("payload fails authentication: tampered, or wrong key") from None
        try:
            return Payload.FromString(plain)
        except DecodeError:
            raise MalformedPayload("the decrypted payload is not a Temporal payload") from None
