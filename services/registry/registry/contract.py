"""Answer shapes several packages of registry share: a state machine described for SPAs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MachineState(BaseModel):
    code: str
    zh: str
    terminal: bool


class MachineTransition(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    action: str
    zh: str
    from_: list[str] = Field(alias="from", description="the states the action starts from")
    to: str
    roles: list[str] | None = Field(description="roles that may take it; null: anyone who may act")


class MachineOut(BaseModel):
    """A state machine with Chinese labels, as SPAs draw it."""

    name: str
    states: list[MachineState]
    transitions: list[MachineTransition]
