"""Resident ID numbers (居民身份证号码): validation, encryption at rest, digests and masking.

* The ``people`` table holds the number only as AES-256-GCM ciphertext (``id_number_ciphertext``:
  version byte, 12-byte nonce, ciphertext and tag; the person's table and column are bound in
  as associated data, so a ciphertext copied elsewhere does not decrypt).
* Duplicates are found by ``id_number_hmac``, a keyed digest (HMAC-SHA256): unlike a plain hash
  it cannot be reversed by trying every possible number without the key.
* Both keys are derived (HKDF-SHA256) from one master key in the settings
  (``REGISTRY_ID_NUMBER_KEY``, base64 of 32 random bytes), required outside local and test.
* Other services match identities by ``digest`` (SHA-256 of the normalised number, as the
  event contract says); it is computed when an event is written, never stored here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from shared.errors import FieldIssue

_VERSION = b"\x01"
_AAD = b"registry.people.id_number"
# Local development and tests only: settings refuse to run without a real key elsewhere.
DEVELOPMENT_KEY = base64.b64encode(
    hashlib.sha256(b"registry local development id-number key").digest()
).decode()


def normalise(value: str) -> str:
    return str(ric.compact(value)).upper()


def check(value: str, field: str = "id_number") -> tuple[str, FieldIssue | None]:
    """The normalised number, or the reason it is not a valid resident ID number."""
    try:
        return str(ric.validate(value)).upper(), None
    except stdnum_errors.InvalidChecksum:
        return value, FieldIssue(field, "ric_checksum", "the check digit is wrong", "身份证号码校验位错误")
    except stdnum_errors.InvalidLength:
        return value, FieldIssue(
            field, "ric_length", "a resident ID number has 18 characters", "身份证号码应为18位"
        )
    except stdnum_errors.InvalidComponent:
        return value, FieldIssue(
            field,
            "ric_component",
            "the birth date or region inside the number is impossible",
            "身份证号码中的出生日期或地区码无效",
        )
    except stdnum_errors.ValidationError:
        return value, FieldIssue(
            field, "ric_invalid", "not a valid resident ID number", "身份证号码格式不正确"
        )


def parse_master_key(text: str) -> bytes:
    """Base64 of exactly 32 bytes, or ValueError saying what is wrong."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the ID-number key must be base64") from None
    if len(key) != 32:
        raise ValueError(f"the ID-number key must be 32 bytes (base64 of 32 random bytes), not {len(key)}")
    return key


@dataclass(frozen=True)
class Keyring:
    encryption: bytes
    lookup: bytes

    @classmethod
    def from_master(cls, master: bytes) -> Keyring:
        def derive(purpose: bytes) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)

        return cls(
            encryption=derive(b"registry id-number encryption v1"),
            lookup=derive(b"registry id-number lookup v1"),
        )


_configured: dict[str, Keyring] = {}


def configure(keyring: Keyring) -> None:
    """Set once at start-up from the settings (``RegistrySettings.id_number_keyring``)."""
    _configured["keyring"] = keyring


def keyring() -> Keyring:
    """The configured keys (for a worker process that encrypts and digests numbers too)."""
    return _keys()


def _keys() -> Keyring:
    keyring = _configured.get("keyring")
    if keyring is None:
        raise RuntimeError("the ID-number keyring is not configured (registry.people.identity.configure)")
    return keyring


def encrypt(number: str) -> bytes:
    nonce = os.urandom(12)
    return _VERSION + nonce + AESGCM(_keys().encryption).encrypt(nonce, number.encode(), _AAD)


def decrypt(blob: bytes) -> str:
    if blob[:1] != _VERSION:
        raise ValueError("unknown ID-number ciphertext version")
    try:
        return AESGCM(_keys().encryption).decrypt(blob[1:13], blob[13:], _AAD).decode()
    except InvalidTag:
        raise ValueError("the ID-number ciphertext does not open with this key") from None


def lookup_digest(number: str) -> str:
    """Keyed digest for the duplicate check and exact search (HMAC-SHA256, hex)."""
    return hmac.new(_keys().lookup, normalise(number).encode(), hashlib.sha256).hexdigest()


def digest(number: str) -> str:
    """The public digest other services match identities by (SHA-256, hex; events only)."""
    return hashlib.sha256(normalise(number).encode()).hexdigest()


def mask(number: str) -> str:
    """``150102198001011234`` → ``1501**********1234``."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def birth_date_of(number: str) -> date:
    return ric.get_birth_date(number)


def gender_of(number: str) -> str:
    return "male" if int(number[16]) % 2 == 1 else "female"
