"""Platform rules: registration, lifecycle transitions, reorganisation (充实/调整/整合/撤销).

Every step writes an append-only history row, an audit row and its ``registry.platform.<verb>``
event in the caller's unit of work. Never commits.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from registry.access import is_staff, may_manage_unit, may_run_platform, require
from registry.advisor.duplicates import duplicates_of
from registry.organisations import repository as organisations
from registry.people import repository as people
from registry.platforms import consequences, kinds, repository
from registry.platforms.events import PLATFORM_EVENTS, LabAssessmentFinalized, PlatformEventPayload
from registry.platforms.machine import ACTION_LABELS, KIND_RANK, LIVE, PLATFORM_MACHINE, STATE_LABELS
from registry.platforms.models import (
    DirectorAppointment,
    Platform,
    PlatformAssessment,
    PlatformCodeAlias,
    PlatformHistory,
    PlatformMember,
    PlatformOutput,
)
from registry.platforms.schemas import (
    ActionRequest,
    DirectorIn,
    MemberIn,
    OutputIn,
    PlatformCreate,
    PlatformUpdate,
)
from registry.platforms.steps import step as _step
from registry.reference import KIND_CODE_PREFIX, PLATFORM_KINDS, SUB_FIELD_PARENT
from registry.sharing import service as sharing
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import DuplicateValue, FieldIssue, NotFound, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
SURVIVOR_STATES = ("operating", "under_rectification")
# Attributes a platform always has: an explicit null in a patch leaves them as they are.
NOT_NULL = (
    "name",
    "co_builder_unit_ids",
    "lab_type",
    "academic_committee",
    "staff_count",
    "annual_funding_fen",
    "kind_attributes",
)


async def _known_people(uow: UnitOfWork, ids: set[UUID], field: str) -> None:
    found = await people.get_many(uow.session, ids)
    missing = sorted(str(i) for i in ids - set(found))
    if missing:
        raise ValidationFailed(
            [FieldIssue(field, "unknown_person", f"no such person: {', '.join(missing)}", "人员未在库中登记")]
        )


def _director_fields(d: DirectorIn | None) -> dict[str, Any]:
    if d is None:
        return {
            "director_person_id": None,
            "director_term_start": None,
            "director_term_end": None,
            "director_full_time": True,
            "director_since": None,
        }
    return {
        "director_person_id": d.person_id,
        "director_term_start": d.term_start,
        "director_term_end": d.term_end,
        "director_full_time": d.full_time,
        "director_since": d.term_start,
    }


def _deputies(ds: list[DirectorIn]) -> list[dict[str, Any]]:
    return [d.model_dump(mode="json") for d in ds]


def _platform_values(data: PlatformCreate, code: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": uuid7(),
        "code": code,
        "name": data.name,
        "kind": data.kind,
        "state": data.initial_state,
        "host_unit_id": data.host_unit_id,
        "co_builder_unit_ids": [str(u) for u in data.co_builder_unit_ids],
        "lab_type": data.lab_type,
        "field": data.field,
        "sub_field": data.sub_field,
        "industry_chain": data.industry_chain,
        "research_directions": list(data.research_directions),
        "region": data.region.value,
        "approved_on": data.approved_on,
        "approval_document": data.approval_document,
        "deputy_directors": _deputies(data.deputy_directors),
        "academic_committee": data.academic_committee.model_dump(mode="json"),
        "staff_count": data.staff_count,
        "annual_funding_fen": data.annual_funding_fen,
        "kind_attributes": data.kind_attributes,
        "merged_into_id": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        **_director_fields(data.director),
    }


def _new_platform(data: PlatformCreate, code: str) -> Platform:
    return Platform(**_platform_values(data, code))


def _series(data: PlatformCreate) -> tuple[str, int]:
    """The readable-code series: kind prefix and the approval year (or this year)."""
    return KIND_CODE_PREFIX[data.kind], data.approved_on.year if data.approved_on else utcnow().year


_PAYLOAD_COLUMNS = (
    "id",
    "code",
    "name",
    "kind",
    "state",
    "host_unit_id",
    "field",
    "sub_field",
    "region",
    "director_person_id",
    "merged_into_id",
    "version",
)


async def register_many(
    uow: UnitOfWork, principal: Principal, rows: list[PlatformCreate], *, reason: str, chunk: int = 500
) -> list[str]:
    """Bulk registration (Excel import): host units and people already resolved, duplicates
    already excluded. Written ``chunk`` rows at a time (one insert each of the platforms, their
    director appointments, first history rows and ``registry.platform.proposed`` events), one
    audit row for the batch. The codes created."""
    for data in rows:
        require(
            may_manage_unit(principal, data.host_unit_id),
            "register platforms for that unit",
            "为该单位登记平台",
        )
        require(
            is_staff(principal) or data.initial_state == "proposed",
            "register a platform as already approved",
            "登记已批准的平台",
        )
    # One counter bump per series, in a fixed order (no deadlock between concurrent imports):
    # past every explicit code of the series, then as many fresh numbers as rows without one.
    explicit: dict[tuple[str, int], int] = {}
    for data in rows:
        match = repository.CODE_PATTERN.match(data.code or "")
        if match is not None:
            key = (match[1], int(match[2]))
            explicit[key] = max(explicit.get(key, 0), int(match[3]))
    wanting: dict[tuple[str, int], list[PlatformCreate]] = {}
    for data in rows:
        if data.code is None:
            wanting.setdefault(_series(data), []).append(data)
    codes: dict[int, str] = {}
    for prefix, year in sorted(set(explicit) | set(wanting)):
        members = wanting.get((prefix, year), [])
        fresh = await repository.allocate_codes(
            uow.session, prefix, year, len(members), at_least=explicit.get((prefix, year), 0)
        )
        codes.update({id(d): c for d, c in zip(members, fresh, strict=True)})
    codes_created: list[str] = []
    # In chunks (the platforms, their director appointments, first history rows and events,
    # one insert each), handing the event loop back between them: 20,000 rows at once hold it
    # for most of a second while their parameters are prepared.
    for start in range(0, len(rows), chunk):
        created = [
            _platform_values(data, data.code or codes[id(data)]) for data in rows[start : start + chunk]
        ]
        await _insert_registered(uow, created, reason=reason)
        codes_created.extend(values["code"] for values in created)
    if not codes_created:
        return []
    await uow.record(
        "platforms.imported",
        entity_type="platform_import",
        entity_id=uuid7(),
        changes={"created": codes_created},
        reason=reason,
    )
    return codes_created


async def _insert_registered(uow: UnitOfWork, created: list[dict[str, Any]], *, reason: str) -> None:
    """Plain multi-row inserts of new platforms and what goes with them: no ORM object per row."""
    await uow.session.execute(insert(Platform), created)
    appointments = [
        {
            "id": uuid7(),
            "platform_id": v["id"],
            "person_id": v["director_person_id"],
            "started_on": v["director_since"],
            "recorded_at": utcnow(),
            "recorded_by": uow.actor.id,
        }
        for v in created
        if v["director_person_id"] is not None
    ]
    if appointments:
        await uow.session.execute(insert(DirectorAppointment), appointments)
    now = utcnow()
    await uow.session.execute(
        insert(PlatformHistory),
        [
            {
                "id": uuid7(),
                "platform_id": values["id"],
                "occurred_at": now,
                "actor_id": uow.actor.id,
                "action": "propose",
                "from_state": None,
                "to_state": values["state"],
                "reason": reason,
                "document_number": values["approval_document"],
                "attachments": [],
                "details": {},
                "related_platform_id": None,
            }
            for values in created
        ],
    )
    await uow.emit_many(
        PLATFORM_EVENTS["propose"],
        [
            (
                PlatformEventPayload(
                    **{k: values[k] for k in _PAYLOAD_COLUMNS},
                    co_builder_unit_ids=[UUID(u) for u in values["co_builder_unit_ids"]],
                    action="propose",
                    reason=reason,
                    document_number=values["approval_document"],
                ),
                f"platform/{values['id']}",
            )
            for values in created
        ],
    )


async def register(uow: UnitOfWork, principal: Principal, data: PlatformCreate) -> Platform:
    """Staff register any platform; a host-unit admin proposes one for their own unit."""
    require(
        may_manage_unit(principal, data.host_unit_id), "register platforms for that unit", "为该单位登记平台"
    )
    require(
        is_staff(principal) or data.initial_state == "proposed",
        "register a platform as already approved",
        "登记已批准的平台",
    )
    if await organisations.get(uow.session, data.host_unit_id) is None:
        raise ValidationFailed([FieldIssue("host_unit_id", "unknown_unit", "no such unit", "依托单位未登记")])
    person_ids = {d.person_id for d in [*([data.director] if data.director else []), *data.deputy_directors]}
    await _known_people(uow, person_ids, "director")
    if data.code is not None:
        if await repository.code_taken(uow.session, data.code):
            raise DuplicateValue("code", data.code)
        await repository.reserve_code(uow.session, data.code)
        code = data.code
    else:
        [code] = await repository.allocate_codes(uow.session, *_series(data))
    p = _new_platform(data, code)
    uow.session.add(p)
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError as exc:
        raise DuplicateValue("code", code) from exc
    if data.director is not None:
        uow.session.add(_appointment(uow, p.id, data.director.person_id, data.director.term_start))
    await _step(uow, p, "propose", from_state=None, reason="登记", document_number=data.approval_document)
    return p


async def update(uow: UnitOfWork, principal: Principal, p: Platform, patch: PlatformUpdate) -> Platform:
    require(may_manage_unit(principal, p.host_unit_id), "edit this platform", "修改该平台信息")
    _refuse_if_closed(p)
    requested = patch.model_dump(mode="json", exclude_unset=True, exclude={"reason"})
    for required in NOT_NULL:
        if required in requested and requested[required] is None:
            del requested[required]
    if requested.get("kind_attributes") is not None:
        requested["kind_attributes"] = kinds.validate(p.kind, requested["kind_attributes"])
    changes = {k: [getattr(p, k), v] for k, v in requested.items() if _plain(getattr(p, k)) != v}
    if not changes:
        return p
    for k, (_, v) in changes.items():
        setattr(p, k, date.fromisoformat(v) if k == "approved_on" and v else v)
    p.version += 1
    await uow.session.flush()
    await _step(
        uow,
        p,
        "update",
        from_state=p.state,
        reason=patch.reason,
        details={"changed": {k: [_plain(a), b] for k, (a, b) in changes.items()}},
    )
    return p


def _plain(value: Any) -> Any:
    if isinstance(value, (date, UUID)):
        return str(value)
    return value


def _refuse_if_closed(p: Platform) -> None:
    if p.state in PLATFORM_MACHINE.terminal:
        raise PLATFORM_MACHINE.refuse(
            p.state,
            f"platform is {p.state}; its record is kept read-only",
            f"平台已{STATE_LABELS[p.state]}，档案只读",
        )


async def act(
    uow: UnitOfWork, principal: Principal, p: Platform, action: str, req: ActionRequest
) -> Platform:
    """Apply one lifecycle transition or reorganisation action (not 整合: see ``merge``)."""
    if action == "merge":
        return (await merge(uow, principal, p.id, req))[0]
    if action in KIND_CHANGES:
        return await reclassify(uow, principal, p, action, req)
    transition = PLATFORM_MACHINE.apply(p.state, action, principal.roles)
    before = p.state
    details: dict[str, Any] = {}
    if action in ("strengthen", "adjust"):
        details = await _reshape(uow, p, req)
    if action == "revoke":
        await consequences.close_with_revocation(uow, p, req.reason)
    if action == "start_construction":
        details = await _unique_at_the_door(uow, p, req)
    p.state = transition.target
    p.version += 1
    await uow.session.flush()
    await _step(
        uow,
        p,
        action,
        from_state=before,
        reason=req.reason,
        document_number=req.document_number,
        attachments=req.attachments,
        details=details,
    )
    return p


async def _unique_at_the_door(uow: UnitOfWork, p: Platform, req: ActionRequest) -> dict[str, Any]:
    """批准建设 of a lab whose directions duplicate another lab of its sub-field is refused until
    staff say they reviewed the matches; the matches they approved over stay in the history."""
    found = await duplicates_of(uow.session, p)
    if not found["matches"]:
        return {}
    if not req.duplicates_reviewed:
        codes = "、".join(m["code"] for m in found["matches"])
        raise PLATFORM_MACHINE.refuse(
            p.state,
            f"the research directions duplicate {len(found['matches'])} lab(s) of the same sub-field "
            "(唯一性); review them and repeat with duplicates_reviewed=true",
            f"研究方向与同一细分领域的实验室（{codes}）重复，不符合唯一性要求；"
            "经审查仍批准建设的，请确认已审查重复情况",
            extra={"duplicates": found["matches"], "threshold": found["threshold"]},
        )
    return {
        "duplicates_reviewed": [
            {"code": m["code"], "score": m["score"], "matching_phrases": m["matching_phrases"]}
            for m in found["matches"]
        ]
    }


KIND_CHANGES = ("promote", "demote", "reclassify")


def kind_change(old: str, new: str) -> str:
    """晋升 up the laboratory ranks, 降级 down them, any other change of kind 变更类别."""
    if old in KIND_RANK and new in KIND_RANK:
        return "promote" if KIND_RANK[new] > KIND_RANK[old] else "demote"
    return "reclassify"


async def reclassify(
    uow: UnitOfWork, principal: Principal, p: Platform, action: str, req: ActionRequest
) -> Platform:
    """晋升/降级/变更类别 (能进能出): the same record and history under a new kind and code.

    The approval document is required; the old code stays an alias, so lookups and searches by
    it still find the platform; the old kind's attributes are kept in the history row.
    """
    PLATFORM_MACHINE.apply(p.state, action, principal.roles)
    issues = []
    if req.kind is None:
        issues.append(FieldIssue("kind", "missing", "name the new kind", "请填写新的平台类别"))
    elif req.kind == p.kind:
        issues.append(
            FieldIssue("kind", "same_kind", f"the platform is already a {p.kind}", "新类别与现类别相同")
        )
    elif kind_change(p.kind, req.kind) != action:
        right = kind_change(p.kind, req.kind)
        issues.append(
            FieldIssue(
                "kind",
                "wrong_direction",
                f"{p.kind} → {req.kind} is '{right}', not '{action}'",
                f"由「{PLATFORM_KINDS[p.kind]}」改为「{PLATFORM_KINDS[req.kind]}」属于"
                f"「{ACTION_LABELS[right]}」，不是「{ACTION_LABELS[action]}」",
            )
        )
    if not req.document_number:
        issues.append(
            FieldIssue("document_number", "missing", "the approval document is required", "须填写批准文号")
        )
    if issues:
        raise ValidationFailed(issues)
    assert req.kind is not None and req.document_number is not None
    attributes = kinds.validate(req.kind, req.kind_attributes or {})
    approved_on = req.approved_on or utcnow().date()
    [code] = await repository.allocate_codes(uow.session, KIND_CODE_PREFIX[req.kind], approved_on.year)
    previous = (p.kind, p.code)
    uow.session.add(PlatformCodeAlias(code=p.code, platform_id=p.id, kind=p.kind, retired_at=utcnow()))
    details = {
        "kind": [p.kind, req.kind],
        "code": [p.code, code],
        "kind_attributes": [dict(p.kind_attributes), attributes],
        "approved_on": [_plain(p.approved_on), approved_on.isoformat()],
        "approval_document": [p.approval_document, req.document_number],
    }
    p.kind, p.code, p.kind_attributes = req.kind, code, attributes
    p.approved_on, p.approval_document = approved_on, req.document_number
    p.version += 1
    await uow.session.flush()
    await _step(
        uow,
        p,
        action,
        from_state=p.state,
        reason=req.reason,
        document_number=req.document_number,
        attachments=req.attachments,
        details=details,
        previous=previous,
    )
    return p


async def _reshape(uow: UnitOfWork, p: Platform, req: ActionRequest) -> dict[str, Any]:
    """充实/调整: directions, director, deputies or sub-field change, each kept in the history."""
    changed: dict[str, Any] = {}
    if req.research_directions is not None and req.research_directions != p.research_directions:
        changed["research_directions"] = [p.research_directions, req.research_directions]
        p.research_directions = list(req.research_directions)
    if req.sub_field is not None and req.sub_field != p.sub_field:
        if SUB_FIELD_PARENT[req.sub_field] != p.field:
            raise ValidationFailed(
                [
                    FieldIssue(
                        "sub_field",
                        "sub_field_of_other_field",
                        "not a sub-field of this platform's field",
                        "不属于本平台所在领域",
                    )
                ]
            )
        changed["sub_field"] = [p.sub_field, req.sub_field]
        p.sub_field = req.sub_field
    if req.director is not None:
        await _known_people(uow, {req.director.person_id}, "director.person_id")
        old = {k: _plain(v) for k, v in _director_fields_of(p).items()}
        since = await _appoint(uow, p, req.director)
        for k, v in _director_fields(req.director).items():
            setattr(p, k, v)
        p.director_since = since
        changed["director"] = [
            old,
            req.director.model_dump(mode="json") | {"director_since": since.isoformat()},
        ]
    if req.deputy_directors is not None:
        await _known_people(uow, {d.person_id for d in req.deputy_directors}, "deputy_directors")
        changed["deputy_directors"] = [p.deputy_directors, _deputies(req.deputy_directors)]
        p.deputy_directors = _deputies(req.deputy_directors)
    return changed


def _appointment(
    uow: UnitOfWork, platform_id: UUID, person_id: UUID, started_on: date
) -> DirectorAppointment:
    return DirectorAppointment(
        id=uuid7(),
        platform_id=platform_id,
        person_id=person_id,
        started_on=started_on,
        recorded_at=utcnow(),
        recorded_by=uow.actor.id,
    )


async def _appoint(uow: UnitOfWork, p: Platform, d: DirectorIn) -> date:
    """The director named in 充实/调整: the same person again continues their tenure (a new
    term, 连任); another person ends it and starts their own. The tenure's start date."""
    current = await repository.open_appointment(uow.session, p.id)
    if current is not None and current.person_id == d.person_id:
        return current.started_on
    if current is not None:
        current.ended_on = max(d.term_start, current.started_on)
    uow.session.add(_appointment(uow, p.id, d.person_id, d.term_start))
    return d.term_start


def _director_fields_of(p: Platform) -> dict[str, Any]:
    return {k: getattr(p, k) for k in _director_fields(None)}


async def merge(
    uow: UnitOfWork, principal: Principal, absorbed_id: UUID, req: ActionRequest
) -> tuple[Platform, Platform]:
    """整合: the absorbed platform's members, instruments and open topics move to the survivor.

    Both rows are locked; everything happens in the caller's one transaction, so a failure at
    any point leaves both platforms exactly as they were.
    """
    if req.into_id is None:
        raise ValidationFailed(
            [FieldIssue("into_id", "missing", "name the surviving platform", "请指定整合后保留的平台")]
        )
    if req.into_id == absorbed_id:
        raise ValidationFailed(
            [FieldIssue("into_id", "self_merge", "a platform cannot merge into itself", "不能整合到自身")]
        )
    pair = await repository.lock_pair(uow.session, absorbed_id, req.into_id)
    absorbed, survivor = pair.get(absorbed_id), pair.get(req.into_id)
    if absorbed is None:
        raise NotFound(f"platform {absorbed_id} not found", "未找到该平台")
    if survivor is None:
        raise ValidationFailed(
            [FieldIssue("into_id", "unknown_platform", "no such platform", "保留平台不存在")]
        )
    transition = PLATFORM_MACHINE.apply(absorbed.state, "merge", principal.roles)
    if survivor.state not in SURVIVOR_STATES:
        raise PLATFORM_MACHINE.refuse(
            survivor.state,
            f"the surviving platform is {survivor.state}; it must be operating or under rectification",
            f"保留平台状态为「{STATE_LABELS[survivor.state]}」，须为运行或整改中",
            roles=principal.roles,
        )
    members = await repository.move_members(uow.session, absorbed.id, survivor.id)
    instruments = await repository.move_instruments(uow.session, absorbed.id, survivor.id)
    topics = await repository.move_open_topics(uow.session, absorbed.id, survivor.id)
    moved = {"members": members, "instruments": instruments, "open_topics": topics}
    await sharing.announce_moved(uow, instruments, topics, f"整合入{survivor.code}：{req.reason}")
    before = absorbed.state
    absorbed.state = transition.target
    absorbed.merged_into_id = survivor.id
    absorbed.version += 1
    survivor.version += 1
    await uow.session.flush()
    common: dict[str, Any] = {
        "reason": req.reason,
        "document_number": req.document_number,
        "attachments": req.attachments,
    }
    await _step(
        uow, absorbed, "merge", from_state=before, details={"moved": moved}, related=survivor.id, **common
    )
    await _step(
        uow,
        survivor,
        "absorb",
        from_state=survivor.state,
        details={"absorbed": str(absorbed.id), "absorbed_code": absorbed.code, "moved": moved},
        related=absorbed.id,
        **common,
    )
    return absorbed, survivor


async def add_member(uow: UnitOfWork, principal: Principal, p: Platform, data: MemberIn) -> PlatformMember:
    require(
        may_run_platform(principal, p.id, p.host_unit_id), "change this platform's team", "调整该平台团队"
    )
    _refuse_if_closed(p)
    await _known_people(uow, {data.person_id}, "person_id")
    member = PlatformMember(
        id=uuid7(), platform_id=p.id, person_id=data.person_id, role=data.role, joined_on=data.joined_on
    )
    uow.session.add(member)
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError as exc:
        raise DuplicateValue("person_id", str(data.person_id)) from exc
    p.version += 1
    await _step(
        uow,
        p,
        "update",
        from_state=p.state,
        reason="团队成员加入",
        details={"member_added": str(data.person_id), "role": data.role},
    )
    return member


async def remove_member(uow: UnitOfWork, principal: Principal, p: Platform, person_id: UUID) -> None:
    require(
        may_run_platform(principal, p.id, p.host_unit_id), "change this platform's team", "调整该平台团队"
    )
    _refuse_if_closed(p)
    member = next((m for m in await repository.members(uow.session, p.id) if m.person_id == person_id), None)
    if member is None:
        raise NotFound("this person is not on the team", "该人员不在团队中")
    await uow.session.delete(member)
    p.version += 1
    await _step(
        uow,
        p,
        "update",
        from_state=p.state,
        reason="团队成员退出",
        details={"member_removed": str(person_id)},
    )


async def report_output(
    uow: UnitOfWork, principal: Principal, p: Platform, year: int, data: OutputIn
) -> PlatformOutput:
    return (await report_outputs(uow, principal, p, {year: data}))[year]


async def report_outputs(
    uow: UnitOfWork, principal: Principal, p: Platform, by_year: dict[int, OutputIn]
) -> dict[int, PlatformOutput]:
    """Annual outputs (年度产出) for one or more years, recorded as one step."""
    require(
        may_run_platform(principal, p.id, p.host_unit_id), "report this platform's outputs", "填报该平台产出"
    )
    _refuse_if_closed(p)
    this_year = utcnow().year
    for year in by_year:
        if year > this_year or year < 1950:
            raise ValidationFailed(
                [FieldIssue("year", "year_range", "a past or the current year", "应为以往年度或本年度")]
            )
    rows: dict[int, PlatformOutput] = {}
    changed: dict[str, Any] = {}
    for year, data in sorted(by_year.items()):
        values = data.model_dump()
        row = await uow.session.get(PlatformOutput, (p.id, year), with_for_update=True)
        if row is None:
            row = PlatformOutput(platform_id=p.id, year=year, **values)
            uow.session.add(row)
            changed[str(year)] = [None, values]
        else:
            before = {k: getattr(row, k) for k in values}
            if before != values:
                for k, v in values.items():
                    setattr(row, k, v)
                changed[str(year)] = [before, values]
        rows[year] = row
    if changed:
        p.version += 1
        await uow.session.flush()
        years = "、".join(sorted(changed))
        await _step(
            uow, p, "update", from_state=p.state, reason=f"{years}年度产出填报", details={"outputs": changed}
        )
    return rows


PASSING = ("excellent", "good", "qualified")


async def record_assessment(uow: UnitOfWork, a: LabAssessmentFinalized) -> Platform | None:
    """A finalized assessment: unqualified → 整改; a passing grade ends a rectification in course."""
    p = await repository.get(uow.session, a.platform_id, for_update=True)
    if p is None:
        log.warning("assessment %s names unknown platform %s; ignored", a.assessment_id, a.platform_id)
        return None
    if await uow.session.get(PlatformAssessment, a.assessment_id) is not None:
        return p
    assessment = PlatformAssessment(
        id=a.assessment_id,
        platform_id=p.id,
        period=a.period,
        grade=a.grade,
        score=a.score,
        finalized_at=a.finalized_at,
        remarks=a.remarks,
    )
    uow.session.add(assessment)
    action = None
    if a.grade == "unqualified" and p.state == "operating":
        action = "open_rectification"
    elif a.grade in PASSING and p.state == "under_rectification":
        action = "close_rectification"
    reason = f"评估结果：{a.period} {a.grade}"
    if action is None:
        await uow.session.flush()
        await uow.record(
            "platform.assessed",
            entity_type="platform",
            entity_id=p.id,
            changes={"assessment": [None, {"period": a.period, "grade": a.grade}]},
            reason=reason,
        )
    else:
        before = p.state
        p.state = PLATFORM_MACHINE.apply(p.state, action).target
        p.version += 1
        await uow.session.flush()
        await _step(
            uow,
            p,
            action,
            from_state=before,
            reason=reason,
            details={"assessment_id": str(a.assessment_id), "grade": a.grade, "period": a.period},
        )
    if p.state in LIVE and a.grade == "excellent":
        await consequences.list_for_support(uow, p, assessment)
    elif a.grade == "unqualified" and p.state == "under_rectification" and action is None:
        await consequences.open_revocation_case(uow, p, assessment)
    return p
