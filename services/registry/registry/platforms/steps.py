"""One recorded step of a platform: history row, ``registry.platform.<verb>`` event, audit row."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from registry.platforms.events import PLATFORM_EVENTS, PlatformEventPayload
from registry.platforms.models import Platform, PlatformHistory
from shared.clock import utcnow
from shared.ids import uuid7
from shared.uow import UnitOfWork


def payload(
    p: Platform,
    action: str,
    reason: str | None,
    document_number: str | None,
    previous: tuple[str, str] | None = None,
) -> PlatformEventPayload:
    return PlatformEventPayload(
        previous_kind=previous[0] if previous else None,
        previous_code=previous[1] if previous else None,
        id=p.id,
        code=p.code,
        name=p.name,
        kind=p.kind,
        state=p.state,
        host_unit_id=p.host_unit_id,
        co_builder_unit_ids=[UUID(u) for u in p.co_builder_unit_ids],
        field=p.field,
        sub_field=p.sub_field,
        region=p.region,
        director_person_id=p.director_person_id,
        action=action,
        reason=reason,
        document_number=document_number,
        merged_into_id=p.merged_into_id,
        version=p.version,
    )


async def step(
    uow: UnitOfWork,
    p: Platform,
    action: str,
    *,
    from_state: str | None,
    reason: str | None = None,
    document_number: str | None = None,
    attachments: list[str] | None = None,
    details: dict[str, Any] | None = None,
    related: UUID | None = None,
    previous: tuple[str, str] | None = None,
) -> None:
    """History row + event + audit row for one step the platform took."""
    uow.session.add(
        PlatformHistory(
            id=uuid7(),
            platform_id=p.id,
            occurred_at=utcnow(),
            actor_id=uow.actor.id,
            action=action,
            from_state=from_state,
            to_state=p.state,
            reason=reason,
            document_number=document_number,
            attachments=list(attachments or []),
            details=details or {},
            related_platform_id=related,
        )
    )
    event = await uow.emit(
        PLATFORM_EVENTS[action],
        payload(p, action, reason, document_number, previous),
        subject=f"platform/{p.id}",
    )
    await uow.record(
        f"platform.{action}",
        entity_type="platform",
        entity_id=p.id,
        changes={"state": [from_state, p.state], **(details or {})},
        reason=reason,
        event=event,
    )
