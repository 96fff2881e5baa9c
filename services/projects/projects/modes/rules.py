"""What each organisation mode (组织方式) changes in the flow, as data.

The application machine is the same for every mode; these rules decide which steps a mode
needs (open call, expert review, a 榜单 to take, results and their verification, a recorded
justification), how many teams one task may fund, and how the grant is paid. Policy numbers
are defaults the department may change (seed 003, seed 004).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tranche:
    percent: int
    condition: str  # signing | mid_term | milestone | delivery | verification
    label_zh: str


@dataclass(frozen=True)
class ModeRules:
    code: str
    label_zh: str
    differs_zh: str
    payment_plan: tuple[Tranche, ...]
    open_call: bool = True  # any eligible team may apply; otherwise only those staff designated
    expert_review: bool = True  # approval only after the competitive expert review
    challenge_required: bool = False  # the application names the 榜单 / task it takes
    parallel_teams: bool = False  # 赛马制: several teams per task, eliminated at milestones
    results_required: bool = False  # 后补助: the work is done; the application states its results
    verification_required: bool = False  # money only after staff verified the results
    justification_required: bool = False  # 一事一议: decided individually, justification on record
    single_matter: bool = False  # one project per call


_STANDARD_PLAN = (Tranche(70, "signing", "任务书签订后拨付"), Tranche(30, "mid_term", "中期检查通过后拨付"))

RULES: dict[str, ModeRules] = {
    rules.code: rules
    for rules in (
        ModeRules(
            "open_competition",
            "竞争立项（自由申报）",
            "公开申报，形式审查、专家评审、排序、按资助线立项",
            _STANDARD_PLAN,
        ),
        ModeRules(
            "central_local", "部区会商（央地协同）", "同竞争立项；承担的国家项目另行备案", _STANDARD_PLAN
        ),
        ModeRules(
            "unveiling",
            "揭榜挂帅",
            "指南为榜单（目标与奖励）；团队揭榜，每榜仅一支团队立项；榜单目标成为考核指标；"
            "榜单奖励即立项经费：任务书签订后拨付其中30%作为启动经费，交付验收通过后兑现其余70%",
            (
                Tranche(30, "signing", "任务书签订后拨付榜单奖励的30%作为启动经费"),
                Tranche(70, "delivery", "交付验收通过后兑现榜单奖励其余70%"),
            ),
            challenge_required=True,
        ),
        ModeRules(
            "horse_race",
            "赛马制",
            "同一任务并行资助多支团队；每个里程碑评估淘汰较弱团队，其余继续拨款",
            (Tranche(40, "signing", "任务书签订后拨付"), Tranche(60, "milestone", "里程碑评估保留后拨付")),
            challenge_required=True,
            parallel_teams=True,
        ),
        ModeRules(
            "directed",
            "定向委托",
            "处室直接指定承担单位和负责人，不公开竞争、不经专家评审排序；仍须形式审查和任务书",
            _STANDARD_PLAN,
            open_call=False,
            expert_review=False,
        ),
        ModeRules(
            "stable_support",
            "稳定支持",
            "按定向方式稳定支持指定单位；仍须形式审查和任务书",
            _STANDARD_PLAN,
            open_call=False,
            expert_review=False,
        ),
        ModeRules(
            "post_subsidy",
            "后补助",
            "先实施后补助：申报时提交已取得的成果，处室核验后立项并一次拨付，无执行期",
            (Tranche(100, "verification", "成果核验后一次拨付"),),
            expert_review=False,
            results_required=True,
            verification_required=True,
        ),
        ModeRules(
            "case_by_case",
            "一事一议",
            "单一重大事项单独决策，须记录决策文件（会议纪要等）和理由；一个指南只立一项",
            _STANDARD_PLAN,
            open_call=False,
            expert_review=False,
            justification_required=True,
            single_matter=True,
        ),
    )
}

# Term limits (一般 / 长周期) and the 非共识 minority are policy values (projects/policy).


def rules_for(mode: str) -> ModeRules:
    return RULES.get(mode, RULES["open_competition"])
