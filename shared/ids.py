"""Identifiers: UUIDv7 everywhere, so ids sort by creation time and index well."""

import uuid

import uuid_utils


def uuid7() -> uuid.UUID:
    """A new time-ordered UUID (RFC 9562 version 7) as a standard-library UUID."""
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)
