"""Partners manage their event subscriptions and see and replay their deliveries; operators
see every delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import ColumnElement, func, select

from gateway.deps import OriginDep
from gateway.partners.api import require_scope
from gateway.partners.models import PartnerClient
from gateway.partners.service import PartnerScope
from gateway.webhooks import service
from gateway.webhooks.models import DELIVERY_STATUS_ZH, WebhookDelivery, WebhookSubscription
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.http.auth import require_roles
from shared.http.deps import PageDep, RuntimeDep, UnitOfWorkDep
from shared.http.schemas import Page
from shared.timestamps import Timestamp
from shared.uow import Actor, UnitOfWork

router = APIRouter(tags=["webhooks"])
ManagerDep = Annotated[PartnerClient, Depends(require_scope(PartnerScope.webhooks_manage))]
AdminDep = Annotated[Principal, Depends(require_roles(Role.administrator))]
DeliveryStatus = Literal["pending", "delivered", "failed"]


async def partner_uow(runtime: RuntimeDep, partner: ManagerDep) -> AsyncIterator[UnitOfWork]:
    async with runtime.sessionmaker() as session:
        yield UnitOfWork(session, runtime.tables, actor=Actor(id=f"partner:{partner.client_id}"))


PartnerUowDep = Annotated[UnitOfWork, Depends(partner_uow)]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)]
    event_types: list[Annotated[str, StringConstraints(max_length=200)]] = Field(min_length=1, max_length=50)


class SubscriptionOut(BaseModel):
    id: UUID
    url: str
    event_types: list[str]
    status: str
    created_at: Timestamp

    @classmethod
    def of(cls, s: WebhookSubscription) -> SubscriptionOut:
        return cls(
            id=s.id, url=s.url, event_types=list(s.event_types), status=s.status, created_at=s.created_at
        )


class SubscriptionCreated(BaseModel):
    subscription: SubscriptionOut
    secret: str = Field(
        description="Standard Webhooks secret (whsec_ and a base64 key) for webhook-signature; shown once"
    )


class DeliveryOut(BaseModel):
    id: UUID
    subscription_id: UUID
    event_id: UUID
    event_type: str
    status: str
    status_zh: str
    attempts: int
    next_attempt_at: Timestamp
    last_status_code: int | None
    last_error: str | None
    delivered_at: Timestamp | None
    created_at: Timestamp
    payload: dict[str, Any] = Field(description="the CloudEvents envelope sent as the body, as delivered")

    @classmethod
    def of(cls, d: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=d.id,
            subscription_id=d.subscription_id,
            event_id=d.event_id,
            event_type=d.event_type,
            status=d.status,
            status_zh=DELIVERY_STATUS_ZH[d.status],
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
            created_at=d.created_at,
            payload=d.envelope,
        )


@router.post("/partner/webhooks", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated)
async def subscribe(
    body: SubscriptionCreate, partner: ManagerDep, uow: PartnerUowDep, runtime: RuntimeDep, origin: OriginDep
) -> SubscriptionCreated:
    """Subscribe to event types (patterns such as ``registry.platform.*``)."""
    subscription, secret = await service.subscribe(
        uow,
        partner,
        url=body.url,
        event_types=body.event_types,
        fernet=runtime.extras["fernet"],
        policy=runtime.extras["delivery_policy"],
        origin=origin,
    )
    await uow.commit()
    return SubscriptionCreated(subscription=SubscriptionOut.of(subscription), secret=secret)


@router.get("/partner/webhooks", response_model=Page[SubscriptionOut])
async def my_subscriptions(partner: ManagerDep, uow: PartnerUowDep, page: PageDep) -> Page[SubscriptionOut]:
    """My active subscriptions, oldest first."""
    where = (WebhookSubscription.partner_id == partner.id, WebhookSubscription.status == "active")
    total = (
        await uow.session.execute(select(func.count()).select_from(WebhookSubscription).where(*where))
    ).scalar_one()
    rows = await uow.session.execute(
        select(WebhookSubscription)
        .where(*where)
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
        .offset(page.offset)
        .limit(page.size)
    )
    items = [SubscriptionOut.of(s) for s in rows.scalars()]
    return Page(items=items, total=total, page=page.page, size=page.size)


async def _own_subscription(
    uow: UnitOfWork, partner: PartnerClient, subscription_id: UUID
) -> WebhookSubscription:
    subscription = await uow.session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.partner_id != partner.id or subscription.status != "active":
        raise NotFound(f"subscription {subscription_id} not found", "未找到该订阅")
    return subscription


async def _delivery(
    uow: UnitOfWork, delivery_id: UUID, partner: PartnerClient | None, *, lock: bool = False
) -> WebhookDelivery:
    """A delivery; a partner's own only (another's answers as missing)."""
    delivery = await uow.session.get(WebhookDelivery, delivery_id, with_for_update=lock)
    if delivery is not None and partner is not None:
        subscription = await uow.session.get(WebhookSubscription, delivery.subscription_id)
        if subscription is None or subscription.partner_id != partner.id:
            delivery = None
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} not found", "未找到该推送记录")
    return delivery


@router.get("/partner/webhooks/deliveries/{delivery_id}", response_model=DeliveryOut)
async def my_delivery(delivery_id: UUID, partner: ManagerDep, uow: PartnerUowDep) -> DeliveryOut:
    """One delivery of my subscriptions: its attempts, last status and the body sent."""
    return DeliveryOut.of(await _delivery(uow, delivery_id, partner))


@router.get("/partner/webhooks/{subscription_id}", response_model=SubscriptionOut)
async def my_subscription(subscription_id: UUID, partner: ManagerDep, uow: PartnerUowDep) -> SubscriptionOut:
    return SubscriptionOut.of(await _own_subscription(uow, partner, subscription_id))


@router.delete("/partner/webhooks/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unsubscribe(
    subscription_id: UUID, partner: ManagerDep, uow: PartnerUowDep, origin: OriginDep
) -> Response:
    await service.unsubscribe(uow, await _own_subscription(uow, partner, subscription_id), origin)
    await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _deliveries(uow: UnitOfWork, where: list[ColumnElement[bool]], page: PageDep) -> Page[DeliveryOut]:
    total = (
        await uow.session.execute(select(func.count()).select_from(WebhookDelivery).where(*where))
    ).scalar_one()
    rows = await uow.session.execute(
        select(WebhookDelivery)
        .where(*where)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .offset(page.offset)
        .limit(page.size)
    )
    return Page(
        items=[DeliveryOut.of(d) for d in rows.scalars()], total=total, page=page.page, size=page.size
    )


@router.get("/partner/webhooks/{subscription_id}/deliveries", response_model=Page[DeliveryOut])
async def my_deliveries(
    subscription_id: UUID,
    partner: ManagerDep,
    uow: PartnerUowDep,
    page: PageDep,
    status: DeliveryStatus | None = None,
) -> Page[DeliveryOut]:
    """The delivery log of one of my subscriptions, newest first."""
    await _own_subscription(uow, partner, subscription_id)
    where: list[ColumnElement[bool]] = [WebhookDelivery.subscription_id == subscription_id]
    if status:
        where.append(WebhookDelivery.status == status)
    return await _deliveries(uow, where, page)


async def _replay(
    uow: UnitOfWork, delivery_id: UUID, partner: PartnerClient | None, origin: OriginDep
) -> DeliveryOut:
    delivery = await _delivery(uow, delivery_id, partner, lock=True)
    await service.replay(uow, delivery, origin)
    out = DeliveryOut.of(delivery)
    await uow.commit()
    return out


@router.post("/partner/webhooks/deliveries/{delivery_id}/replay", response_model=DeliveryOut)
async def replay_my_delivery(
    delivery_id: UUID, partner: ManagerDep, uow: PartnerUowDep, origin: OriginDep
) -> DeliveryOut:
    """Send a delivered or failed delivery again (补发)."""
    return await _replay(uow, delivery_id, partner, origin)


@router.get(
    "/admin/webhooks/deliveries", response_model=Page[DeliveryOut], summary="Every delivery (operators)"
)
async def all_deliveries(
    uow: UnitOfWorkDep, _: AdminDep, page: PageDep, status: DeliveryStatus | None = None
) -> Page[DeliveryOut]:
    where: list[ColumnElement[bool]] = [WebhookDelivery.status == status] if status else []
    return await _deliveries(uow, where, page)


@router.get("/admin/webhooks/deliveries/{delivery_id}", response_model=DeliveryOut)
async def delivery(delivery_id: UUID, uow: UnitOfWorkDep, _: AdminDep) -> DeliveryOut:
    return DeliveryOut.of(await _delivery(uow, delivery_id, None))


@router.post("/admin/webhooks/deliveries/{delivery_id}/replay", response_model=DeliveryOut)
async def replay_delivery(
    delivery_id: UUID, uow: UnitOfWorkDep, _: AdminDep, origin: OriginDep
) -> DeliveryOut:
    return await _replay(uow, delivery_id, None, origin)
