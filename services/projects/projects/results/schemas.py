"""Results (科技成果) in and out, with the Chinese label of every code."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.timestamps import Timestamp


class ResultKind(StrEnum):
    paper = "paper"
    patent = "patent"
    software = "software"
    standard = "standard"
    new_product = "new_product"
    new_process = "new_process"
    new_variety = "new_variety"
    technology = "technology"
    report = "report"
    other = "other"


KINDS_ZH = {
    "paper": "论文",
    "patent": "专利",
    "software": "软件著作权",
    "standard": "标准",
    "new_product": "新产品",
    "new_process": "新工艺",
    "new_variety": "新品种",
    "technology": "关键技术",
    "report": "研究报告",
    "other": "其他",
}


class Maturity(StrEnum):
    """技术成熟度, the stages the department's 成果 forms use."""

    principle = "principle"
    laboratory = "laboratory"
    pilot = "pilot"
    demonstration = "demonstration"
    industrial = "industrial"


MATURITY_ZH = {
    "principle": "原理/概念",
    "laboratory": "实验室验证",
    "pilot": "中试",
    "demonstration": "示范应用",
    "industrial": "产业化",
}


class TransferStatus(StrEnum):
    """转化状态."""

    not_transferred = "not_transferred"
    self_applied = "self_applied"
    licensed = "licensed"
    transferred = "transferred"
    equity = "equity"


TRANSFER_ZH = {
    "not_transferred": "未转化",
    "self_applied": "自行实施",
    "licensed": "许可使用",
    "transferred": "已转让",
    "equity": "作价入股",
}


class ResultState(StrEnum):
    reported = "reported"
    verified = "verified"
    rejected = "rejected"


class ResultSource(StrEnum):
    acceptance = "acceptance"
    unit = "unit"


SOURCES_ZH = {"acceptance": "结题验收", "unit": "单位填报"}


class ResultIn(BaseModel):
    """One result as a report lists it: the 科技报告 of acceptance or a unit's report."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=2, max_length=300, description="成果名称")
    kind: ResultKind = Field(description="成果类型")
    people: list[str] = Field(min_length=1, max_length=50, description="完成人 (names, in order)")
    maturity: Maturity = Field(description="技术成熟度")
    transfer_status: TransferStatus = Field(TransferStatus.not_transferred, description="转化状态")
    summary: str = Field("", max_length=5000, description="成果简介")


class ResultReport(ResultIn):
    """A host unit's admin reports a result of one of its own projects."""

    project_id: UUID


class ResultCorrection(BaseModel):
    """What the reporting unit corrects in a rejected result; fields left out stay as reported."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=2, max_length=300, description="成果名称")
    kind: ResultKind | None = Field(None, description="成果类型")
    people: list[str] | None = Field(None, min_length=1, max_length=50, description="完成人")
    maturity: Maturity | None = Field(None, description="技术成熟度")
    transfer_status: TransferStatus | None = Field(None, description="转化状态")
    summary: str | None = Field(None, max_length=5000, description="成果简介")


class ResultDecision(BaseModel):
    """Staff's verify/reject (reason: 核验意见, required to reject), or the reporting unit's
    resubmit of a rejected result (reason: 更正说明, required; correction: what it corrects)."""

    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(
        None, max_length=2000, description="核验意见 (required to reject) or 更正说明 (required to resubmit)"
    )
    correction: ResultCorrection | None = Field(
        None, description="resubmit only: the corrected fields of the rejected result"
    )


class ResultOut(BaseModel):
    id: UUID
    code: str
    project_id: UUID
    project_code: str
    project_title: str
    title: str
    kind: ResultKind
    kind_zh: str
    unit_id: UUID
    unit_name: str | None
    people: list[str]
    maturity: Maturity
    maturity_zh: str
    transfer_status: TransferStatus
    transfer_status_zh: str
    summary: str
    year: int
    source: ResultSource
    source_zh: str
    evaluation_id: UUID | None
    state: ResultState
    state_zh: str
    allowed_actions: list[str]
    reported_by: str
    reported_at: Timestamp
    decided_by: str | None
    decided_at: Timestamp | None
    decision_reason: str | None
