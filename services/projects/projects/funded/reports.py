"""Annual progress reports (年度进展报告) and each indicator's path from promise to verdict."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from projects.funded.machines import PROJECT_MACHINE
from projects.funded.models import AnnualReport, Indicator, IndicatorRecord, Project
from projects.funded.schemas import AnnualReportCreate
from projects.funded.service import record_step
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, StateConflict, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

REPORT_STATES_ZH = {"submitted": "待审核", "accepted": "审核通过", "returned": "退回修改"}
STAGES_ZH = {
    "annual_report": "年度报告",
    "mid_term": "中期检查",
    "milestone": "里程碑评估",
    "acceptance": "结题验收",
    "performance": "综合绩效评价",
}


async def submit_annual(uow: UnitOfWork, project: Project, data: AnnualReportCreate) -> AnnualReport:
    if project.state not in {"in_progress", "accepting"}:
        raise PROJECT_MACHINE.refuse(
            project.state,
            "annual reports are filed while the project runs",
            f"项目当前为「{PROJECT_MACHINE.state_labels_zh[project.state]}」，仅执行中的项目报送年度进展报告",
            roles=uow.actor.roles,
            code="not_running",
        )
    if not project.start_date.year <= data.year <= project.end_date.year:
        raise ValidationFailed(
            [
                FieldIssue(
                    "year", "outside_term", "the year is outside the project's term", "年度不在项目执行期内"
                )
            ]
        )
    existing = (
        await uow.session.execute(
            select(AnnualReport)
            .where(AnnualReport.project_id == project.id, AnnualReport.year == data.year)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if existing is not None and existing.state != "returned":
        raise Conflict(
            f"the {data.year} report is already filed",
            f"{data.year}年度报告已报送",
            code="duplicate_report",
            extra={"report_state": existing.state},
        )
    own = {
        i.id
        for i in (
            await uow.session.execute(select(Indicator).where(Indicator.project_id == project.id))
        ).scalars()
    }
    unknown = [n for n, p in enumerate(data.progress) if p.indicator_id not in own]
    if unknown:
        raise ValidationFailed(
            [
                FieldIssue(
                    f"progress.{n}.indicator_id",
                    "unknown",
                    "not an indicator of this project",
                    "不是本项目的考核指标",
                )
                for n in unknown
            ]
        )
    now = utcnow()
    progress = [p.model_dump(mode="json") for p in data.progress]
    if existing is not None:  # a returned report, submitted again: its figures replace the old
        await uow.session.execute(delete(IndicatorRecord).where(IndicatorRecord.source_id == existing.id))
        report = existing
        report.summary, report.spent_fen, report.progress = data.summary, data.spent_fen, progress
        report.submitted_by, report.submitted_at, report.state = uow.actor.id, now, "submitted"
    else:
        report = AnnualReport(
            id=uuid7(),
            project_id=project.id,
            year=data.year,
            summary=data.summary,
            spent_fen=data.spent_fen,
            progress=progress,
            submitted_by=uow.actor.id,
            submitted_at=now,
            state="submitted",
        )
        uow.session.add(report)
    for p in data.progress:
        uow.session.add(
            IndicatorRecord(
                id=uuid7(),
                indicator_id=p.indicator_id,
                stage="annual_report",
                value=p.value,
                note=p.note or f"{data.year}年度",
                source_id=report.id,
                actor_id=uow.actor.id,
                at=now,
            )
        )
    await record_step(
        uow,
        project,
        "annual_report",
        f"{'重新报送' if existing is not None else '报送'}{data.year}年度进展报告",
        details={"year": data.year, "spent_fen": data.spent_fen, "resubmitted": existing is not None},
    )
    return report


REVIEW_ACTIONS = {
    "accept": ("accepted", "年度进展报告审核通过"),
    "return": ("returned", "年度进展报告退回修改"),
}


async def review_annual(
    uow: UnitOfWork, project: Project, report: AnnualReport, action: str, comments: str | None
) -> AnnualReport:
    """Staff accept a submitted annual report, or return it with comments for the lead to redo."""
    if report.state != "submitted":
        raise StateConflict(
            f"the report is {report.state}, not waiting for review",
            f"该年度报告当前为「{REPORT_STATES_ZH[report.state]}」，不在待审核状态",
            current_state=report.state,
            state_labels_zh=REPORT_STATES_ZH,
            code="report_not_submitted",
            extra={"report_state": report.state},
        )
    if action == "return" and not (comments and comments.strip()):
        raise ValidationFailed(
            [FieldIssue("comments", "required", "say what to change", "退回修改须填写审核意见")]
        )
    state, label_zh = REVIEW_ACTIONS[action]
    report.state = state
    report.reviewed_by = uow.actor.id
    report.reviewed_at = utcnow()
    report.review_comments = comments
    await record_step(
        uow,
        project,
        f"annual_report_{state}",
        f"{report.year}{label_zh}",
        reason=comments,
        details={"year": report.year, "report_id": str(report.id)},
    )
    return report


def _deviation(promised: float | None, achieved: float | None) -> float | None:
    if promised in (None, 0) or achieved is None:
        return None
    assert promised is not None
    return round((achieved - promised) / promised, 4)


async def indicator_paths(session: Any, project: Project) -> list[dict[str, Any]]:
    """Each indicator: promised (application / 榜单), target (task book), every report and
    verdict in time order, the final verdict and its deviation from the promise."""
    indicators = list(
        (
            await session.execute(
                select(Indicator).where(Indicator.project_id == project.id).order_by(Indicator.seq)
            )
        ).scalars()
    )
    records = list(
        (
            await session.execute(
                select(IndicatorRecord)
                .where(IndicatorRecord.indicator_id.in_([i.id for i in indicators]))
                .order_by(IndicatorRecord.at, IndicatorRecord.id)
            )
        ).scalars()
    )
    out = []
    for i in indicators:
        path: list[dict[str, Any]] = (
            [
                {
                    "stage": "promised",
                    "stage_zh": "申报承诺" if i.source == "application" else "榜单目标",
                    "value": i.promised,
                }
            ]
            if i.promised is not None
            else []
        )
        path.append({"stage": "task_book", "stage_zh": "任务书考核指标", "value": i.target})
        mine = [r for r in records if r.indicator_id == i.id]
        path += [
            {
                "stage": r.stage,
                "stage_zh": STAGES_ZH.get(r.stage, r.stage),
                "value": r.value,
                "verdict": r.verdict,
                "note": r.note,
                "at": r.at,
                "source_id": r.source_id,
            }
            for r in mine
        ]
        final = next((r for r in reversed(mine) if r.stage in {"performance", "acceptance"}), None)
        achieved = final.value if final else None
        out.append(
            {
                "id": i.id,
                "seq": i.seq,
                "name": i.name,
                "category": i.category,
                "unit": i.unit,
                "source": i.source,
                "promised": i.promised,
                "target": i.target,
                "achieved": achieved,
                "verdict": final.verdict if final else None,
                "verdict_stage": final.stage if final else None,
                "deviation_from_promise": _deviation(i.promised, achieved),
                "deviation_from_target": _deviation(i.target, achieved),
                "path": path,
            }
        )
    return out
