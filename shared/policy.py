"""Policy values as data: the numbers behind a service's rules, editable by department staff.

Policy documents name rules without numbers (超龄超届, 延期期限, 非共识少数意见…); a service
declares each number once as a ``PolicyDefinition`` with its default and bounds, keeps the
department's overrides in a table of its own (``key``, ``value``, ``version``, ``updated_by``),
and reads the current values with ``current``. ``change`` checks a new value against its
definition, stores it, and writes the audit row; the service emits its own event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import FieldIssue, NotFound, ValidationFailed
from shared.uow import UnitOfWork

Value = int | float | bool


@dataclass(frozen=True)
class PolicyDefinition:
    key: str
    default: Value
    minimum: float | None
    maximum: float | None
    unit: str
    zh: str
    description: str

    def as_dict(self, value: Value) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": value,
            "default": self.default,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "unit": self.unit,
            "zh": self.zh,
            "description": self.description,
        }


@dataclass(frozen=True)
class Changed:
    key: str
    before: Value
    value: Value
    version: int
    default: Value

    @property
    def changed(self) -> bool:
        return self.before != self.value


async def current(
    session: AsyncSession, model: Any, definitions: dict[str, PolicyDefinition]
) -> dict[str, Any]:
    """Every value: the department's where it set one, the default elsewhere."""
    values: dict[str, Any] = {k: d.default for k, d in definitions.items()}
    rows: list[Any] = list((await session.execute(select(model))).scalars())
    for row in rows:
        if row.key in values:
            values[row.key] = row.value
    return values


def check(definition: PolicyDefinition, value: Any) -> Value:
    def refuse(message: str, message_zh: str) -> ValidationFailed:
        return ValidationFailed([FieldIssue("value", "policy_value", message, message_zh)])

    if isinstance(definition.default, bool):
        if not isinstance(value, bool):
            raise refuse("must be true or false", "应为是或否")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise refuse("must be a number", "应为数字")
    if isinstance(definition.default, int) and not float(value).is_integer():
        raise refuse("must be a whole number", "应为整数")
    if (definition.minimum is not None and value < definition.minimum) or (
        definition.maximum is not None and value > definition.maximum
    ):
        raise refuse(
            f"must be between {definition.minimum} and {definition.maximum}",
            f"应在 {definition.minimum} 与 {definition.maximum} 之间",
        )
    return int(value) if isinstance(definition.default, int) else float(value)


async def change(
    uow: UnitOfWork, model: Any, definitions: dict[str, PolicyDefinition], key: str, value: Any
) -> Changed:
    """Store a new value (checked against its definition) unless it is the value already.

    The caller records the audit row and emits its event when ``changed``.
    """
    definition = definitions.get(key)
    if definition is None:
        raise NotFound(f"no policy value '{key}'", "未找到该政策参数")
    value = check(definition, value)
    row = await uow.session.get(model, key, with_for_update=True)
    before = row.value if row is not None else definition.default
    if before == value:
        return Changed(key, before, value, row.version if row is not None else 0, definition.default)
    if row is None:
        row = model(key=key, value=value, version=1, updated_by=uow.actor.id)
        uow.session.add(row)
    else:
        row.value = value
        row.version += 1
        row.updated_by = uow.actor.id
    await uow.session.flush()
    return Changed(key=key, before=before, value=value, version=row.version, default=definition.default)
