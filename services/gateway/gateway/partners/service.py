"""Partner clients: registration by an administrator, secrets, the client-credentials grant."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from enum import StrEnum
from uuid import UUID

from sqlalchemy import func, select

from gateway.accounts.service import Origin
from gateway.partners.models import PartnerClient
from shared.errors import FieldIssue, ValidationFailed
from shared.statemachine import StateMachine, Transition
from shared.uow import UnitOfWork


class PartnerScope(StrEnum):
    open_data_read = "open_data:read"  # 开放数据读取
    webhooks_manage = "webhooks:manage"  # 事件订阅管理


PARTNER_STATUS_LABELS = {"active": "正常", "disabled": "已停用"}
PARTNER_MACHINE = StateMachine(
    name="partner_client",
    transitions=(
        Transition.of("disable", ["active"], "disabled", "停用"),
        Transition.of("enable", ["disabled"], "active", "启用"),
    ),
    state_labels_zh=PARTNER_STATUS_LABELS,
)
SCOPE_LABELS_ZH = {PartnerScope.open_data_read: "开放数据读取", PartnerScope.webhooks_manage: "事件订阅管理"}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


async def register(
    uow: UnitOfWork,
    *,
    name: str,
    scopes: Sequence[str],
    allowed_event_types: Sequence[str],
    rate_limit_per_minute: int,
    origin: Origin,
) -> tuple[PartnerClient, str]:
    secret = new_secret()
    client = PartnerClient(
        client_id="pc_" + secrets.token_hex(8),
        name=name,
        secret_hash=_digest(secret),
        scopes=sorted(set(scopes)),
        allowed_event_types=sorted(set(allowed_event_types)),
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=uow.actor.id,
    )
    uow.session.add(client)
    await uow.session.flush()
    await uow.record(
        "partner_registered",
        entity_type="partner_client",
        entity_id=client.id,
        changes={
            "name": name,
            "scopes": client.scopes,
            "events": client.allowed_event_types,
            **origin.as_dict(),
        },
    )
    return client, secret


async def rotate_secret(uow: UnitOfWork, client: PartnerClient, origin: Origin) -> str:
    secret = new_secret()
    client.secret_hash = _digest(secret)
    client.version += 1
    await uow.record(
        "partner_secret_rotated", entity_type="partner_client", entity_id=client.id, changes=origin.as_dict()
    )
    return secret


async def set_status(uow: UnitOfWork, client: PartnerClient, *, active: bool, origin: Origin) -> None:
    target = "active" if active else "disabled"
    if client.status == target:
        raise PARTNER_MACHINE.refuse(
            client.status,
            f"the client is already {target}",
            f"该合作平台已是「{PARTNER_STATUS_LABELS[target]}」状态",
        )
    client.status = target
    client.version += 1
    await uow.record(
        f"partner_{target}", entity_type="partner_client", entity_id=client.id, changes=origin.as_dict()
    )


async def authenticate(uow: UnitOfWork, client_id: str, secret: str) -> PartnerClient | None:
    client = (
        await uow.session.execute(select(PartnerClient).where(PartnerClient.client_id == client_id))
    ).scalar_one_or_none()
    # compare_digest against a dummy keeps unknown ids as slow as known ones
    expected = client.secret_hash if client else _digest("unknown client")
    if not hmac.compare_digest(expected, _digest(secret)) or client is None or client.status != "active":
        return None
    return client


def granted_scopes(client: PartnerClient, requested: str | None) -> list[str]:
    """RFC 6749 §3.3: the requested scopes if all are granted; all granted ones if none asked."""
    allowed = set(client.scopes)
    if not requested:
        return sorted(allowed)
    wanted = set(requested.split())
    if not wanted <= allowed:
        raise ValidationFailed(
            [
                FieldIssue(
                    "scope", "invalid_scope", "a requested scope is not granted", "申请的权限范围未获授权"
                )
            ]
        )
    return sorted(wanted)


async def get(uow: UnitOfWork, client_pk: UUID) -> PartnerClient | None:
    return await uow.session.get(PartnerClient, client_pk, with_for_update=True)


async def list_page(uow: UnitOfWork, *, offset: int, limit: int) -> tuple[list[PartnerClient], int]:
    total = (await uow.session.execute(select(func.count()).select_from(PartnerClient))).scalar_one()
    rows = await uow.session.execute(
        select(PartnerClient).order_by(PartnerClient.name).offset(offset).limit(limit)
    )
    return list(rows.scalars()), int(total)
