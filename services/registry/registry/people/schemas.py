from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from registry.people import disclosure, identity
from registry.people.models import Person
from registry.reference import GENDERS, TITLES, TitleCode
from shared.auth import Principal
from shared.timestamps import Timestamp


def _valid_id_number(value: str) -> str:
    number, issue = identity.check(value)
    if issue is not None:
        raise PydanticCustomError(issue.code, issue.message, {"message_zh": issue.message_zh})
    return number


IdNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=30),
    AfterValidator(_valid_id_number),
]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
Gender = Literal["male", "female"]
Title = TitleCode


class PersonCreate(BaseModel):
    """Gender and birth date may be left out: they are read from the ID number."""

    model_config = ConfigDict(extra="forbid")

    name: PersonName = Field(description="姓名")
    id_number: IdNumber = Field(description="居民身份证号码")
    gender: Gender | None = Field(default=None, description="性别")
    birth_date: date | None = Field(default=None, description="出生日期")
    title: Title | None = Field(default=None, description="职称")
    discipline: str | None = Field(default=None, max_length=100, description="学科")
    department: str | None = Field(default=None, max_length=100, description="院系/部门（单位内）")
    unit_id: UUID | None = Field(default=None, description="工作单位")
    full_time: bool = Field(default=True, description="全职/兼职")
    phone: str | None = Field(default=None, max_length=30, description="联系电话")
    email: str | None = Field(default=None, max_length=200, description="电子邮箱")


class PersonUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName | None = None
    title: Title | None = None
    discipline: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=100)
    unit_id: UUID | None = None
    full_time: bool | None = None
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=500, description="why (kept in history)")


class PersonOut(BaseModel):
    """A person as the caller may see them (``disclosure``: the same rules in every view)."""

    id: UUID
    name: str
    gender: str
    gender_zh: str
    birth_date: date | None = Field(description="出生日期; only for staff and the person themself")
    id_number: str = Field(description="whole for staff and the person themself, else 1501**********1234")
    id_number_masked: bool
    title: str | None
    title_zh: str | None
    discipline: str | None
    department: str | None
    unit_id: UUID | None
    full_time: bool
    phone: str | None = Field(description="联系电话; staff, the person themself and their unit's admin")
    email: str | None = Field(description="电子邮箱; staff, the person themself and their unit's admin")
    withheld_fields: list[str] = Field(description="fields the caller may not see in clear (最小必要)")
    version: int
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, person: Person, aud: disclosure.Audience) -> PersonOut:
        def shown(field: str, value: Any) -> Any:
            return value if disclosure.sees(aud, field) else None

        whole = disclosure.sees(aud, "id_number")
        return cls(
            id=person.id,
            name=person.name,
            gender=person.gender,
            gender_zh=GENDERS[person.gender],
            birth_date=shown("birth_date", person.birth_date),
            id_number=person.id_number if whole else identity.mask(person.id_number),
            id_number_masked=not whole,
            title=person.title,
            title_zh=TITLES.get(person.title) if person.title else None,
            discipline=person.discipline,
            department=person.department,
            unit_id=person.unit_id,
            full_time=person.full_time,
            phone=shown("phone", person.phone),
            email=shown("email", person.email),
            withheld_fields=disclosure.withheld(aud),
            version=person.version,
            created_at=person.created_at,
            updated_at=person.updated_at,
        )

    @classmethod
    def for_viewer(cls, person: Person, principal: Principal) -> PersonOut:
        return cls.of(person, disclosure.audience(principal, person_id=person.id, unit_id=person.unit_id))


class HistoryEntry(BaseModel):
    occurred_at: Timestamp
    actor_id: str | None
    action: str
    changes: dict[str, Any] = Field(description="only the fields the caller may see in the person view")
    withheld_fields: list[str] = Field(description="fields that changed here but that the caller may not see")
    reason: str | None
