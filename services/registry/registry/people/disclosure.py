"""Who sees which of a person's fields: the one place that decides (个人信息保护法, minimum necessary).

Every view of a person — the object, the list, the history and the export — asks this module
which fields the caller may see, so that no view shows more than another. The rule per field is
written down in docs/security.md ("Personal data by need to know").

Three audiences, from the caller's token and the person's unit:

* ``full`` — department staff and administrators (integrity checks, the advisor's age rules,
  identity matching) and the person themself (their right to see their own data, Art. 45).
* ``unit`` — the admin of the person's own unit (依托单位管理员), who registers and edits them and
  needs to reach them: contact details, but not the whole ID number nor the birth date.
* ``other`` — anyone else signed in: what identifies a researcher professionally.

The masked ID number (``1501**********1234``) hides the county and the birth date; the birth
date restores 8 of its 10 hidden digits and the check digit most of the rest, so whoever sees
the number masked never sees the birth date (nor its year, nor a sort or cursor by it).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from uuid import UUID

from registry.access import acting_units, is_staff
from shared.auth import Principal, Role
from shared.errors import FieldIssue, Forbidden


class Audience(StrEnum):
    full = "full"
    unit = "unit"
    other = "other"


ALL = frozenset(Audience)
FULL = frozenset({Audience.full})
FULL_AND_UNIT = frozenset({Audience.full, Audience.unit})

# field → the audiences that see its value. ``id_number`` is shown masked to the others.
FIELD_RULES: Mapping[str, frozenset[Audience]] = {
    "name": ALL,
    "gender": ALL,  # also the 17th digit, which the masked number shows anyway
    "title": ALL,
    "discipline": ALL,
    "department": ALL,
    "unit_id": ALL,
    "full_time": ALL,
    "id_number": FULL,
    "birth_date": FULL,
    "phone": FULL_AND_UNIT,
    "email": FULL_AND_UNIT,
}
MASKED_OTHERWISE = frozenset({"id_number"})
# Sorting (and its cursor, which carries the last value) discloses the field as well.
SORTABLE_BY: Mapping[str, frozenset[Audience]] = {"name": ALL, "created_at": ALL, "birth_date": FULL}


def audience(principal: Principal, *, person_id: UUID | str, unit_id: UUID | str | None) -> Audience:
    """How much of this person the caller sees."""
    if is_staff(principal) or (principal.person_id is not None and principal.person_id == str(person_id)):
        return Audience.full
    if unit_id is not None and str(unit_id) in acting_units(principal):
        return Audience.unit
    return Audience.other


def sees(aud: Audience, field: str) -> bool:
    return aud in FIELD_RULES.get(field, FULL)


def withheld(aud: Audience) -> list[str]:
    """Fields this audience does not see in clear (masked ones included), for the answer to say so."""
    return sorted(f for f, allowed in FIELD_RULES.items() if aud not in allowed)


def redact_changes(aud: Audience, changes: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """An audit entry's changes as this audience may see them, and the fields left out.

    The history applies the object's rules: a change of a field the caller may not see is
    named (that it changed, by whom and why) but its values are not shown.
    """
    shown: dict[str, Any] = {}
    hidden: list[str] = []
    for name, value in (changes or {}).items():
        if name in FIELD_RULES and not sees(aud, name):
            hidden.append(name)
        else:
            shown[name] = value
    return shown, sorted(hidden)


def list_audience(principal: Principal) -> Audience:
    """The audience a caller has for every row of a list (the least of its rows): staff see all
    rows in full; anyone else may meet people of other units on any page."""
    return Audience.full if is_staff(principal) else Audience.other


def require_sort(aud: Audience, sort: str) -> None:
    """Refuse a sort that would disclose a field this audience may not see (403 naming ``sort``)."""
    key = sort.lstrip("-")
    if aud not in SORTABLE_BY.get(key, FULL):
        raise Forbidden(
            f"only department staff may sort people by {key}",
            f"仅科技厅业务处室可按{'出生日期' if key == 'birth_date' else key}排序",
            extra={
                "errors": [
                    FieldIssue(
                        "sort",
                        "field_withheld",
                        f"sorting by {key} would disclose it",
                        "按该字段排序会泄露其内容",
                    ).as_dict()
                ]
            },
        )


def export_scope(principal: Principal, unit_id: UUID | None) -> tuple[Audience, frozenset[str] | None]:
    """What an export may contain: the rows the caller manages and the fields it sees in them.

    Staff export everyone in full; a host-unit admin exports the people of the units it acts
    for (the unit audience); nobody else exports. ``None`` means every unit.
    """
    if is_staff(principal):
        return Audience.full, None
    if not principal.has_role(Role.host_unit_admin):
        raise Forbidden(
            "only department staff and host-unit admins export people",
            "仅科技厅业务处室和依托单位管理员可导出人员",
        )
    units = acting_units(principal)  # none yet: an empty sheet
    if unit_id is not None and str(unit_id) not in units:
        raise Forbidden(
            "you may export only the people of the units you act for",
            "只能导出本单位人员",
            extra={
                "errors": [
                    FieldIssue(
                        "unit_id", "not_your_unit", "not a unit you act for", "不是您所管理的单位"
                    ).as_dict()
                ]
            },
        )
    return Audience.unit, units
