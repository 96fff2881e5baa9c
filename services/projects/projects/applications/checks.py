"""Formal review (形式审查) automatic checks. Each result states its rule, the value and evidence,
so that an appeal or a discipline inspection can follow it. Reads only local data: the call's
rules, projects' own read models of registry (units, people, integrity records) and applications."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.applications import dedup, dedup_index
from projects.applications.models import Application
from projects.calls.models import Call
from projects.funded.machines import RUNNING_STATES
from projects.funded.models import Project
from projects.integrity.service import bars as integrity_bars
from projects.organisations.models import OrganisationView
from projects.policy import service as policy
from projects.registry_views.models import PersonView
from shared.clock import utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")
# States in which an application counts toward "applications this year" (限项).
COUNTED_STATES = (
    "submitted",
    "returned",
    "endorsed",
    "recommended",
    "formally_accepted",
    "in_review",
    "reviewed",
    "approved",
)
RUNNING_PROJECT_STATES = RUNNING_STATES


def dedup_text(app: Application) -> str:
    return dedup_index.text_of(app.title, app.abstract, app.content)


def _result(check: str, rule: str, rule_zh: str, value: Any, evidence: Any, passed: bool) -> dict[str, Any]:
    return {
        "check": check,
        "rule": rule,
        "rule_zh": rule_zh,
        "value": value,
        "evidence": evidence,
        "passed": passed,
    }


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


async def eligibility(session: AsyncSession, app: Application, call: Call, on: date) -> list[dict[str, Any]]:
    rules = call.eligibility
    out: list[dict[str, Any]] = []
    unit = await session.get(OrganisationView, app.unit_id)
    if rules.get("must_be_registered_unit", True):
        out.append(
            _result(
                "eligibility.registered_unit",
                "the host unit is in the regional register",
                "依托单位须在自治区科技管理信息系统注册",
                True,
                {"unit_id": str(app.unit_id), "found": unit is not None},
                unit is not None,
            )
        )
    if rules.get("unit_types"):
        actual = unit.type if unit else None
        out.append(
            _result(
                "eligibility.unit_type",
                "host unit type",
                "依托单位类型",
                rules["unit_types"],
                {"unit_type": actual},
                actual in rules["unit_types"],
            )
        )
    if rules.get("regions"):
        actual = unit.region if unit else None
        out.append(
            _result(
                "eligibility.region",
                "host unit region",
                "依托单位所在地区",
                rules["regions"],
                {"region": actual},
                actual in rules["regions"],
            )
        )
    person = await session.get(PersonView, app.applicant_person_id)
    if rules.get("max_applicant_age") is not None:
        age = _age(person.birth_date, on) if person and person.birth_date else None
        out.append(
            _result(
                "eligibility.age",
                "applicant age on the submission date at most",
                "申报人申报当日年龄上限",
                rules["max_applicant_age"],
                {"birth_date": str(person.birth_date) if person else None, "age": age, "on": str(on)},
                age is not None and age <= rules["max_applicant_age"],
            )
        )
    if rules.get("applicant_titles"):
        title = person.title if person else None
        out.append(
            _result(
                "eligibility.title",
                "applicant professional title",
                "申报人职称",
                rules["applicant_titles"],
                {"title": title},
                title in rules["applicant_titles"],
            )
        )
    ratio = float(rules.get("enterprise_matching_ratio") or 0)
    if ratio > 0 and unit is not None and unit.type == "enterprise":
        needed = int(app.requested_funding_fen * ratio)
        out.append(
            _result(
                "eligibility.matching_fund",
                "enterprise matching fund ≥ ratio × requested grant",
                "企业牵头须按比例配套自筹资金",
                ratio,
                {
                    "requested_fen": app.requested_funding_fen,
                    "matching_fund_fen": app.matching_fund_fen,
                    "needed_fen": needed,
                },
                app.matching_fund_fen >= needed,
            )
        )
    return out


async def integrity(session: AsyncSession, app: Application, on: date) -> dict[str, Any]:
    people = {str(app.applicant_person_id)} | {m["person_id"] for m in app.team}
    evidence = await integrity_bars(session, people, [app.unit_id], on)
    return _result(
        "integrity",
        "applicant, team members and host unit not barred from applying on the date",
        "申报人、项目组成员及依托单位在申报日不在科研失信惩戒期内",
        str(on),
        evidence,
        not evidence,
    )


async def _failed_bar_years(session: AsyncSession, lim: dict[str, Any]) -> int:
    """The call's own bar after a failed project, else the department's policy value."""
    if "failed_bar_years" in lim:
        return int(lim["failed_bar_years"])
    return int((await policy.current(session))["failed_bar_years"])


async def limits(session: AsyncSession, app: Application, call: Call) -> list[dict[str, Any]]:
    """限项, role-aware, across all programmes and years, including declared external projects."""
    lim = call.limits
    out: list[dict[str, Any]] = []
    for member in app.team:
        pid = member["person_id"]
        lead = member["role"] == "lead"
        running_stmt = select(Project.code, Project.title, Project.source).where(
            Project.state.in_(RUNNING_PROJECT_STATES)
        )
        if lead:
            running_stmt = running_stmt.where(Project.pi_person_id == pid)
        elif member["role"] == "chief_expert":
            running_stmt = running_stmt.where(Project.chief_expert_person_ids.contains([pid]))
        else:
            running_stmt = running_stmt.where(
                Project.team_person_ids.contains([pid]), Project.pi_person_id != pid
            )
        running: list[dict[str, Any]] = [
            {"code": c, "title": t, "source": "备案" if source == "filing" else "自治区"}
            for c, t, source in (await session.execute(running_stmt))
        ]
        if pid == str(app.applicant_person_id):
            running += [
                {"code": None, "title": d["title"], "source": d["source"]}
                for d in app.declared_projects
                if d.get("running") and (d["role"] == "lead") == lead
            ]
        limit_key = "lead_running_max" if lead else f"{member['role']}_running_max"
        allowed = int(lim.get(limit_key, 99))
        out.append(
            _result(
                f"limits.running.{member['role']}",
                f"{limit_key}: running projects as {member['role']}",
                "在研项目数限项",
                allowed,
                {"person_id": pid, "name": member.get("name"), "running": running, "count": len(running)},
                len(running) < allowed,
            )
        )
        if lead:
            out.append(await failed_projects(session, pid, await _failed_bar_years(session, lim)))
        member_filter = Application.team.contains([{"person_id": pid}])
        same_year = select(Application.code, Application.title).where(
            Application.year == app.year, Application.id != app.id, Application.state.in_(COUNTED_STATES)
        )
        if lead:
            same_year = same_year.where(Application.applicant_person_id == pid)
            key = "lead_applications_per_year"
        else:
            same_year = same_year.where(and_(member_filter, Application.applicant_person_id != pid))
            key = "member_applications_per_year"
        others = [{"code": c, "title": t} for c, t in (await session.execute(same_year))]
        allowed = int(lim.get(key, 99))
        out.append(
            _result(
                f"limits.applications.{'lead' if lead else 'member'}",
                f"{key}: applications in call year {app.year} including this one",
                "同年度申报项目数限项",
                allowed,
                {
                    "person_id": pid,
                    "name": member.get("name"),
                    "other_applications": others,
                    "count": len(others) + 1,
                },
                len(others) + 1 <= allowed,
            )
        )
    return out


async def failed_projects(session: AsyncSession, person_id: str, years: int) -> dict[str, Any]:
    """A lead whose project failed recently may not lead a new one — unless the failure was
    found diligent (尽职免责, 容错): then it does not count against the team."""
    since = utcnow() - timedelta(days=365 * years)
    rows = (
        await session.execute(
            select(
                Project.code, Project.title, Project.result, Project.diligent_exempt, Project.misconduct
            ).where(
                Project.pi_person_id == person_id,
                Project.result.in_(("fail", "terminated")),
                Project.updated_at >= since,
            )
        )
    ).all()
    counted = [
        {"code": c, "title": t, "result": r, "misconduct": m}
        for c, t, r, exempt, m in rows
        if (r == "fail" and not exempt) or m
    ]
    exempted = [{"code": c, "title": t, "result": r} for c, t, r, exempt, _ in rows if exempt]
    return _result(
        "limits.failed_projects",
        f"no failed project led within {years} years, unless found diligent (尽职免责)",
        f"近{years}年内无未通过验收（绩效评价）的项目（尽职免责的除外）",
        years,
        {"person_id": person_id, "counted": counted, "exempted": exempted},
        not counted,
    )


async def duplicates(session: AsyncSession, app: Application, threshold: float) -> dict[str, Any]:
    """查重 against every other application (and so every project) of all years and programmes."""
    pending = await dedup_index.catch_up(session)
    text = dedup_text(app)
    mine = dedup.shingle_hashes(text)
    candidate_ids = await dedup_index.candidates(session, dedup.signature(text), app.id)
    matches: list[dict[str, Any]] = []
    if candidate_ids:
        rows = await session.execute(
            select(
                Application.id,
                Application.code,
                Application.year,
                Application.programme_code,
                Application.title,
                Application.abstract,
                Application.content,
                Application.state,
                Application.applicant_person_id,
            ).where(Application.id.in_(candidate_ids))
        )
        for other in rows:
            other_text = dedup_index.text_of(other.title, other.abstract, other.content)
            score = dedup.jaccard_hashes(mine, dedup.shingle_hashes(other_text))
            if score >= threshold:
                matches.append(
                    {
                        "application_id": str(other.id),
                        "code": other.code,
                        "year": other.year,
                        "programme_code": other.programme_code,
                        "title": other.title,
                        "state": other.state,
                        "same_applicant": other.applicant_person_id == app.applicant_person_id,
                        "similarity": round(score, 3),
                        "passages": [p.__dict__ for p in dedup.similar_passages(text, other_text)],
                    }
                )
    matches.sort(key=lambda m: (-m["similarity"], m["code"]))
    result = _result(
        "duplicates",
        "character-3-gram Jaccard similarity to any other application below threshold "
        f"(MinHash {dedup.PERMUTATIONS} permutations, LSH {dedup.BANDS}×{dedup.ROWS}, confirmed exactly)",
        "与历年所有申报书（含已立项项目）的文本相似度低于阈值",
        threshold,
        matches,
        not matches,
    )
    if pending:
        result["index_pending"] = pending  # texts not yet indexed: the result may be incomplete
    return result


async def formal_report(session: AsyncSession, app: Application, call: Call) -> dict[str, Any]:
    on = (app.submitted_at or utcnow()).astimezone(SHANGHAI).date()
    results = [
        *await eligibility(session, app, call, on),
        await integrity(session, app, on),
        *await limits(session, app, call),
        await duplicates(session, app, call.dedup_threshold),
    ]
    return {
        "checked_at": utcnow().isoformat(),
        "submission_date": str(on),
        "passed": all(r["passed"] for r in results),
        "checks": results,
    }
