"""The background task that sends due webhook deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.webhooks.service import DeliveryPolicy, deliver_due

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        fernet: Fernet,
        policy: DeliveryPolicy,
        *,
        poll_seconds: float,
        timeout_seconds: float,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.fernet = fernet
        self.policy = policy
        self.poll_seconds = poll_seconds
        # No redirects (a 3xx is a failed attempt) and no proxies from the environment: the
        # request goes exactly to the address that was checked.
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(max_connections=50),
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-deliveries")

    async def _run(self) -> None:
        while not self._stopping:
            try:
                sent = await deliver_due(self.sessionmaker, self.client, self.fernet, self.policy)
            except Exception as exc:  # noqa: BLE001 - delivery resumes on the next tick
                log.warning("webhook delivery round failed", extra={"error": repr(exc)})
                sent = 0
            if not sent:
                await asyncio.sleep(self.poll_seconds)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)
        await self.client.aclose()
