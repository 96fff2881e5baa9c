"""The printable application (申报书): one submitted version as print-ready HTML (A4, 宋体),
with its SHA-256 digest, the seals over it and a verification code that anyone holding the paper
can check against the system (``GET /applications/printed/{code}``).

Rendering only: what to render is passed in, so the layout is testable without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from projects.applications.schemas import BUDGET_CATEGORY_ZH, TEAM_ROLE_ZH

SHANGHAI = ZoneInfo("Asia/Shanghai")
CODE_HEX = 20  # the verification code: the digest's first 80 bits, in five groups of four
SEAL_ZH = {"pledge": "科研诚信承诺", "endorsement": "依托单位审核意见", "recommendation": "推荐单位推荐意见"}
SEAL_HEADERS = ["事项", "签署人", "单位", "时间", "内容", "摘要", "核验"]
INDICATOR_ZH = {"output": "成果产出", "economic": "经济效益", "social": "社会效益", "technical": "技术指标"}


def verification_code(digest: str) -> str:
    head = digest[:CODE_HEX].upper()
    return "-".join(head[i : i + 4] for i in range(0, CODE_HEX, 4))


def digest_prefix(code: str) -> str | None:
    """The digest prefix a verification code stands for, or None if it is not one."""
    raw = code.replace("-", "").replace(" ", "").lower()
    if len(raw) != CODE_HEX or any(c not in "0123456789abcdef" for c in raw):
        return None
    return raw


@dataclass
class Sheet:
    """What one printed application shows."""

    code: str
    revision: int
    digest: str
    submitted_at: datetime
    state_zh: str
    call_title: str
    programme_name: str
    content: dict[str, Any]
    applicant_name: str
    unit_name: str
    department_name: str
    seals: list[dict[str, Any]] = field(default_factory=list)
    # The competent department's committed matching funds: on its recommendation seal, not in
    # the sealed content (None: not recommended yet).
    recommended_matching_fund_fen: int | None = None
    printed_at: datetime | None = None


def _t(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _yuan(fen: int | None) -> str:
    return f"{(fen or 0) / 100:,.2f}"


def _text(value: Any) -> str:
    return escape(str(value or "")).replace("\n", "<br>")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_text(c)}</td>" for c in r) + "</tr>" for r in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}" class="none">无</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """
@page { size: A4; margin: 20mm 18mm; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 12pt; color: #000; }
h1 { text-align: center; font-size: 20pt; letter-spacing: 0.3em; margin: 0 0 4mm; }
h2 { font-size: 13pt; border-left: 4px solid #000; padding-left: 2mm; margin: 7mm 0 2mm; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0; page-break-inside: auto; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { background: #eee; width: auto; }
.meta th { width: 25%; }
.none { text-align: center; color: #555; }
.verify { border: 2px solid #000; padding: 3mm; margin-top: 8mm; page-break-inside: avoid; }
.code { font-family: "Courier New", monospace; font-size: 15pt; font-weight: bold; letter-spacing: 0.1em; }
.digest { font-family: "Courier New", monospace; font-size: 8pt; word-break: break-all; }
.invalid { font-weight: bold; }
footer { margin-top: 6mm; font-size: 9pt; color: #333; }
@media print { .noprint { display: none; } }
"""


def render(sheet: Sheet) -> str:
    c = sheet.content
    code = verification_code(sheet.digest)
    meta = [
        ("申报编号", sheet.code),
        ("项目名称", c.get("title")),
        ("申报指南", sheet.call_title),
        ("计划专项", sheet.programme_name),
        ("申报人", sheet.applicant_name),
        ("依托单位", sheet.unit_name),
        ("推荐单位（主管部门）", sheet.department_name),
        ("申请经费（元）", _yuan(c.get("requested_funding_fen"))),
        ("申报单位自筹经费（元）", _yuan(c.get("matching_fund_fen"))),
        (
            "推荐单位匹配资金（元）",
            "尚未推荐"
            if sheet.recommended_matching_fund_fen is None
            else _yuan(sheet.recommended_matching_fund_fen),
        ),
        ("关键词", "、".join(c.get("keywords") or [])),
        ("提交时间（北京时间）", _t(sheet.submitted_at)),
        ("版本", f"第 {sheet.revision} 版　当前状态：{sheet.state_zh}"),
    ]
    meta_html = "".join(f"<tr><th>{escape(k)}</th><td>{_text(v)}</td></tr>" for k, v in meta)
    team = [
        [m.get("name"), TEAM_ROLE_ZH.get(m.get("role", ""), m.get("role")), m.get("person_id")]
        for m in c.get("team") or []
    ]
    budget = [
        [
            BUDGET_CATEGORY_ZH.get(b.get("category", ""), b.get("category")),
            _yuan(b.get("amount_fen")),
            b.get("note"),
        ]
        for b in c.get("budget") or []
    ]
    budget.append(["合计", _yuan(sum(int(b.get("amount_fen", 0)) for b in c.get("budget") or [])), ""])
    milestones = [[m.get("due"), m.get("deliverable")] for m in c.get("milestones") or []]
    indicators = [
        [
            i.get("name"),
            INDICATOR_ZH.get(i.get("category", ""), i.get("category")),
            i.get("promised"),
            i.get("unit"),
        ]
        for i in c.get("indicators") or []
    ]
    declared = [
        [
            d.get("title"),
            d.get("source"),
            TEAM_ROLE_ZH.get(d.get("role", ""), d.get("role")),
            "在研" if d.get("running") else "已结题",
        ]
        for d in c.get("declared_projects") or []
    ]
    attachments = [[a.get("name"), a.get("size"), a.get("sha256")] for a in c.get("attachments") or []]
    seals = [
        [
            SEAL_ZH.get(s["kind"], s["kind"]),
            s.get("actor_name") or s.get("actor_id"),
            s.get("unit_name") or s.get("unit_id") or "",
            _t(s.get("at")),
            _seal_statement(s),
            s.get("digest", "")[:16] + "…",
            "有效（与现行内容一致）" if s.get("valid") else "已失效（内容已变更）",
        ]
        for s in sheet.seals
    ]
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{escape(sheet.code)} 项目申报书</title><style>{CSS}</style></head>
<body>
<h1>项目申报书</h1>
<table class="meta">{meta_html}</table>
<h2>一、项目摘要</h2><p>{_text(c.get("abstract"))}</p>
<h2>二、研究内容</h2><p>{_text(c.get("content"))}</p>
<h2>三、实施计划</h2><p>{_text(c.get("plan"))}</p>
<h2>四、进度安排</h2>{_table(["完成时间", "阶段成果"], milestones)}
<h2>五、考核指标</h2>{_table(["指标", "类别", "承诺值", "单位"], indicators)}
<h2>六、项目组成员</h2>{_table(["姓名", "分工", "人员编号"], team)}
<h2>七、经费预算</h2>{_table(["科目", "金额（元）", "说明"], budget)}
<h2>八、申报人承担的其他项目</h2>{_table(["项目名称", "来源", "角色", "状态"], declared)}
<h2>九、附件清单</h2>{_table(["文件名", "大小（字节）", "SHA-256"], attachments)}
<h2>十、承诺与审核推荐（签章记录）</h2>{_table(SEAL_HEADERS, seals)}
<div class="verify">
<p>本申报书内容摘要（SHA-256）：<span class="digest">{escape(sheet.digest)}</span></p>
<p>核验码：<span class="code">{escape(code)}</span></p>
<p>凭核验码可在自治区科技管理信息系统核验本文与系统存档是否一致、各方签章是否仍然有效。
任何修改都会改变摘要，使承诺、依托单位审核与推荐单位推荐失效；推荐单位的匹配资金载于推荐意见，不改变申报内容。</p>
</div>
<footer>打印时间：{escape(_t(sheet.printed_at))}　申报编号：{escape(sheet.code)}　\
第 {sheet.revision} 版</footer>
</body></html>
"""


def _seal_statement(seal: dict[str, Any]) -> str:
    statement = seal.get("statement") or {}
    if seal["kind"] == "recommendation":
        return f"{statement.get('commitment', '')}（匹配资金 {_yuan(statement.get('matching_fund_fen'))} 元）"
    return str(statement.get("comments") or statement.get("text") or "")
