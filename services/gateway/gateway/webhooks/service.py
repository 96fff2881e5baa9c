"""Subscriptions, fan-out of consumed events into deliveries, signed delivery with back-off.

Deliveries follow the Standard Webhooks specification, so a receiver can verify them with any
of its libraries: each is POSTed with the CloudEvents envelope as body and ``webhook-id`` (the
delivery's id, the same on every retry, for de-duplication), ``webhook-timestamp`` (Unix
seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``,
where the key is the base64 part of the ``whsec_`` secret. The receiver recomputes it and refuses
timestamps more than a few minutes away (replay protection).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import fnmatch
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.accounts.service import Origin
from gateway.partners.models import PartnerClient
from gateway.webhooks import targets
from gateway.webhooks.models import DELIVERY_STATUS_ZH, WebhookDelivery, WebhookSubscription
from shared.clock import utcnow
from shared.errors import FieldIssue, StateConflict, ValidationFailed
from shared.uow import UnitOfWork

PATTERN = re.compile(r"^[a-z][a-z_]*(\.([a-z][a-z_]*|\*)){1,2}$|^[a-z][a-z_]*\.\*$")


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int
    base_seconds: float
    max_backoff_seconds: float
    allow: Sequence[targets.IPNetwork]
    require_https: bool
    lease_seconds: float = 60.0

    def backoff(self, attempts: int) -> float:
        return float(min(self.max_backoff_seconds, self.base_seconds * 2 ** (attempts - 1)))


def matches(event_type: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(event_type, p) for p in patterns)


SECRET_PREFIX = "whsec_"  # noqa: S105 - the specification's prefix, not a secret


def new_secret() -> str:
    """A ``whsec_`` secret: 32 random bytes in standard base64, as the specification writes it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    padded = encoded + "=" * (-len(encoded) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except binascii.Error:
        # subscriptions made before the Standard Webhooks form kept URL-safe base64
        return base64.urlsafe_b64decode(padded)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


async def subscribe(
    uow: UnitOfWork,
    partner: PartnerClient,
    *,
    url: str,
    event_types: Sequence[str],
    fernet: Fernet,
    policy: DeliveryPolicy,
    origin: Origin,
) -> tuple[WebhookSubscription, str]:
    issues = []
    for i, pattern in enumerate(event_types):
        if not PATTERN.match(pattern):
            issues.append(
                FieldIssue(
                    f"event_types.{i}",
                    "bad_pattern",
                    "expected e.g. registry.platform.*",
                    "事件类型格式不正确",
                )
            )
        elif not any(fnmatch.fnmatchcase(pattern, allowed) for allowed in partner.allowed_event_types):
            issues.append(
                FieldIssue(
                    f"event_types.{i}",
                    "not_allowed",
                    f"{pattern} is outside the event types granted to this partner",
                    "该事件类型不在本平台获准订阅的范围内",
                )
            )
    if issues:
        raise ValidationFailed(issues)
    await targets.resolve(url, allow=policy.allow, require_https=policy.require_https)
    secret = new_secret()
    subscription = WebhookSubscription(
        partner_id=partner.id,
        url=url,
        event_types=sorted(set(event_types)),
        secret_encrypted=fernet.encrypt(secret.encode()).decode(),
    )
    uow.session.add(subscription)
    await uow.session.flush()
    await uow.record(
        "webhook_subscribed",
        entity_type="webhook_subscription",
        entity_id=subscription.id,
        changes={
            "partner": partner.client_id,
            "url": url,
            "event_types": subscription.event_types,
            **origin.as_dict(),
        },
    )
    return subscription, secret


async def unsubscribe(uow: UnitOfWork, subscription: WebhookSubscription, origin: Origin) -> None:
    subscription.status = "deleted"
    await uow.record(
        "webhook_unsubscribed",
        entity_type="webhook_subscription",
        entity_id=subscription.id,
        changes=origin.as_dict(),
    )


async def fan_out(session: AsyncSession, envelope: dict[str, Any]) -> int:
    """One pending delivery per active subscription that wants this event (in the consumer's
    transaction, so an event applied once yields its deliveries once)."""
    event_type = envelope["type"]
    rows = await session.execute(
        select(WebhookSubscription, PartnerClient.allowed_event_types)
        .join(PartnerClient, PartnerClient.id == WebhookSubscription.partner_id)
        .where(WebhookSubscription.status == "active", PartnerClient.status == "active")
    )
    wanted: list[tuple[WebhookSubscription, list[str]]] = [(row[0], row[1]) for row in rows]
    values = [
        {
            "subscription_id": sub.id,
            "event_id": UUID(str(envelope["id"])),
            "event_type": event_type,
            "envelope": envelope,
        }
        for sub, allowed in wanted
        if matches(event_type, sub.event_types) and matches(event_type, allowed)
    ]
    if values:
        await session.execute(insert(WebhookDelivery).values(values).on_conflict_do_nothing())
    return len(values)


async def replay(uow: UnitOfWork, delivery: WebhookDelivery, origin: Origin) -> None:
    if delivery.status == "pending":
        raise StateConflict(
            "the delivery is still pending",
            f"该推送仍为「{DELIVERY_STATUS_ZH[delivery.status]}」，不能重新推送",
            current_state=delivery.status,
            state_labels_zh=DELIVERY_STATUS_ZH,
        )
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    await uow.record(
        "webhook_replayed", entity_type="webhook_delivery", entity_id=delivery.id, changes=origin.as_dict()
    )


async def _claim(
    sessionmaker: async_sessionmaker[AsyncSession], policy: DeliveryPolicy, limit: int
) -> list[Any]:
    """Lease due deliveries (several gateway replicas share the work without sending twice)."""
    async with sessionmaker() as session:
        due = (
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= utcnow())
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = (
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(due.scalar_subquery()))
                .values(next_attempt_at=utcnow() + timedelta(seconds=policy.lease_seconds))
                .returning(
                    WebhookDelivery.id,
                    WebhookDelivery.subscription_id,
                    WebhookDelivery.envelope,
                    WebhookDelivery.attempts,
                )
            )
        ).all()
        subs = {}
        if rows:
            ids = {r.subscription_id for r in rows}
            subs = {
                s.id: s
                for s in (
                    await session.execute(select(WebhookSubscription).where(WebhookSubscription.id.in_(ids)))
                ).scalars()
            }
        await session.commit()
    return [(r, subs[r.subscription_id]) for r in rows]


async def _send(
    client: httpx.AsyncClient,
    fernet: Fernet,
    policy: DeliveryPolicy,
    delivery_id: UUID,
    sub: Any,
    envelope: Any,
) -> tuple[int | None, str | None]:
    try:
        target = await targets.resolve(sub.url, allow=policy.allow, require_https=policy.require_https)
    except ValidationFailed as exc:
        return None, exc.issues[0].message
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    secret = fernet.decrypt(sub.secret_encrypted.encode()).decode()
    headers = {
        "content-type": "application/cloudevents+json; charset=utf-8",
        "host": target.host,
        "user-agent": "sci-platform-webhooks/1",
        "webhook-id": str(delivery_id),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, str(delivery_id), timestamp, body),
    }
    extensions = {"sni_hostname": target.sni} if target.sni else {}
    try:
        response = await client.post(target.url, content=body, headers=headers, extensions=extensions)
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    fernet: Fernet,
    policy: DeliveryPolicy,
    limit: int = 50,
) -> int:
    """Send what is due once; returns how many were attempted."""
    claimed = await _claim(sessionmaker, policy, limit)
    if not claimed:
        return 0
    results = await asyncio.gather(
        *(_send(client, fernet, policy, row.id, sub, row.envelope) for row, sub in claimed)
    )
    now = utcnow()
    async with sessionmaker() as session:
        for (row, _), (status_code, error) in zip(claimed, results, strict=True):
            attempts = row.attempts + 1
            values: dict[str, Any] = {
                "attempts": attempts,
                "last_status_code": status_code,
                "last_error": error,
            }
            if error is None:
                values.update(status="delivered", delivered_at=now)
            elif attempts >= policy.max_attempts:
                values.update(status="failed")
            else:
                values.update(next_attempt_at=now + timedelta(seconds=policy.backoff(attempts)))
            await session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == row.id).values(**values)
            )
        await session.commit()
    return len(claimed)
