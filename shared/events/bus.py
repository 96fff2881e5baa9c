"""The NATS connection of one service process, kept up through outages.

A service must start (and serve reads and writes) while NATS is down: writes go to the
outbox and wait. So the connection is made in the background with retries, the client
reconnects for ever once connected, and every user of the bus waits for ``connected()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from shared.events.envelope import stream_name
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


class EventBus:
    def __init__(self, settings: ServiceSettings, *, producer: str | None) -> None:
        self.settings = settings
        self.producer = producer
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def namespace(self) -> str:
        return self.settings.events_namespace

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_forever(), name="nats-connect")

    async def _connect_forever(self) -> None:
        delay = 0.2
        while not self._closing:
            try:
                nc = await nats.connect(
                    servers=[s.strip() for s in self.settings.nats_url.split(",")],
                    name=f"{self.producer or 'service'}",
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                    error_cb=self._on_error,
                )
            except Exception as exc:  # noqa: BLE001 - any failure to connect means: try again
                log.warning("nats connect failed, retrying", extra={"error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._nc = nc
            self._js = nc.jetstream(timeout=self.settings.relay_publish_timeout_seconds)
            while not self._closing:
                try:
                    if self.producer:
                        await self.ensure_stream(self.producer)
                    break
                except Exception as exc:  # noqa: BLE001 - stream set-up retried until it works
                    log.warning("stream set-up failed, retrying", extra={"error": str(exc)})
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
            self._ready.set()
            log.info("nats connected", extra={"servers": self.settings.nats_url})
            return

    async def _on_disconnected(self) -> None:
        log.warning("nats disconnected")

    async def _on_reconnected(self) -> None:
        log.info("nats reconnected")

    async def _on_error(self, exc: Exception) -> None:
        log.debug("nats client error", extra={"error": str(exc)})

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def connected_within(self, seconds: float) -> bool:
        """Wait a little for the connection; lets loops notice they are asked to stop."""
        try:
            await asyncio.wait_for(self._ready.wait(), seconds)
        except TimeoutError:
            return False
        return True

    @property
    def is_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("NATS is not connected yet")
        return self._js

    @property
    def nc(self) -> NATS:
        if self._nc is None:
            raise RuntimeError("NATS is not connected yet")
        return self._nc

    def stream_for(self, source: str) -> str:
        return stream_name(self.namespace, source)

    def subject_for(self, event_type: str) -> str:
        return f"{self.namespace}.{event_type}" if self.namespace else event_type

    async def ensure_stream(self, source: str) -> None:
        """Create or update the producer's stream; idempotent, safe from every replica."""
        subjects_root = f"{self.namespace}.{source}" if self.namespace else source
        config = StreamConfig(
            name=self.stream_for(source),
            subjects=[f"{subjects_root}.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=timedelta(days=self.settings.stream_max_age_days).total_seconds(),
            duplicate_window=self.settings.stream_duplicate_window_seconds,
            num_replicas=self.settings.stream_replicas,
            description=f"Events produced by the {source} service",
        )
        try:
            info = await self.js.stream_info(config.name or "")
        except NotFoundError:
            with contextlib.suppress(BadRequestError):
                await self.js.add_stream(config)
                return
            info = await self.js.stream_info(config.name or "")
        current = info.config
        if (
            current.subjects != config.subjects
            or current.duplicate_window != config.duplicate_window
            or current.max_age != config.max_age
        ):
            await self.js.update_stream(config)

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._nc is not None:
            # The relay and consumers have stopped (and awaited their acks) before this, so
            # there is nothing left to drain; close() does not wait on pull subscriptions.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nc.close(), 5)
