"""The command line every service shares: ``python -m <service> migrate|serve|republish``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Callable, Sequence

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.events.bus import EventBus
from shared.events.relay import OutboxRelay
from shared.ids import uuid7
from shared.migrations import downgrade, upgrade
from shared.service import ServiceDefinition
from shared.settings import EXIT_BAD_SETTINGS, describe_refusal


class StartupFailureInOneLine:
    """ASGI wrapper: a failed start-up is reported by its last line (the exception and its
    message), not by the traceback that Starlette hands uvicorn to log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_shortened(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                lines = str(message.get("message") or "").strip().splitlines()
                message = {
                    **message,
                    "message": f"start-up failed: {lines[-1] if lines else 'unknown error'}",
                }
            await send(message)

        await self.app(scope, receive, send_shortened)


def run_cli(
    make_definition: Callable[[], ServiceDefinition],
    *,
    default_port: int,
    argv: Sequence[str] | None = None,
) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the database to the newest schema (idempotent)")
    down = sub.add_parser("downgrade", help="downgrade the database schema")
    down.add_argument("revision", default="-1", nargs="?")
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=default_port)
    demo = sub.add_parser("demo-data", help="load the demo data set (through the domain rules)")
    demo.add_argument("--if-empty", action="store_true", help="only if the database has none yet")
    repub = sub.add_parser("republish", help="publish a range of sent events again")
    repub.add_argument("--type", required=True, dest="event_type")
    repub.add_argument("--from", type=int, required=True, dest="from_sequence")
    repub.add_argument("--to", type=int, required=True, dest="to_sequence")
    args = parser.parse_args(argv)

    try:
        definition = make_definition()
    except ValueError as exc:  # pydantic's ValidationError is one too
        # One line naming the variable and the rule; a traceback would hide it in 40 lines.
        prefix = make_definition.__module__.split(".", 1)[0].upper() + "_"
        sys.stderr.write(f"refusing to start: {describe_refusal(exc, prefix=prefix)}\n")
        return EXIT_BAD_SETTINGS
    url = definition.settings.database_url
    if args.command == "migrate":
        upgrade(definition.migrations_dir, url)
    elif args.command == "downgrade":
        downgrade(definition.migrations_dir, url, args.revision)
    elif args.command == "serve":
        create_app = importlib.import_module(f"{definition.name}.app").create_app
        uvicorn.run(
            StartupFailureInOneLine(create_app(definition.settings)),
            host=args.host,
            port=args.port,
            log_config=None,
            timeout_graceful_shutdown=20,
            proxy_headers=True,
        )
    elif args.command == "demo-data":
        if definition.demo_data is None:
            sys.stdout.write(f"{definition.name}: no demo data set\n")
        else:
            summary = asyncio.run(definition.demo_data(definition.settings, args.if_empty))
            sys.stdout.write(f"{definition.name}: {summary}\n")
    elif args.command == "republish":
        count = asyncio.run(_republish(definition, args.event_type, args.from_sequence, args.to_sequence))
        sys.stdout.write(f"re-published {count} events of {args.event_type}\n")
    return 0


async def _republish(definition: ServiceDefinition, event_type: str, start: int, end: int) -> int:
    from shared.db import create_engine

    engine = create_engine(definition.settings)
    bus = EventBus(definition.settings, producer=None)
    bus.start()
    try:
        await bus.wait_connected(timeout=30)
        relay = OutboxRelay(engine, definition.tables, bus, definition.settings)
        return await relay.republish(
            event_type=event_type, from_sequence=start, to_sequence=end, tag=f"replay-{uuid7()}"
        )
    finally:
        await bus.close()
        await engine.dispose()


def main_for(make_definition: Callable[[], ServiceDefinition], default_port: int) -> None:
    sys.exit(run_cli(make_definition, default_port=default_port))
