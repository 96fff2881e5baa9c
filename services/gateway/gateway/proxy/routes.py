"""Which roles may call which service routes: the gateway's route-level authorisation table.

Read it as a list of doors. A request through ``/api/<service>/<path>`` is let through only if
a line below matches its service, method and path, and the caller's token holds one of the
line's roles (``ANYONE_SIGNED_IN``: any valid token). Everything not listed is closed (404),
so a new endpoint is reachable from outside only once someone adds its line here, and the
BOLA/BFLA test matrix (services/gateway/tests/test_authorisation_matrix.py) reads this same
table. Object-level rules (my unit's applications, labs I direct…) stay in the services.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.auth import Role

ANYONE_SIGNED_IN = frozenset(r.value for r in Role)
ADMIN = frozenset({Role.administrator.value})
STAFF = frozenset({Role.department_staff.value, Role.administrator.value})
UNIT_ADMINS = STAFF | {Role.host_unit_admin.value}
LAB_EDITORS = UNIT_ADMINS | {Role.lab_director.value}
CLUSTER_EDITORS = STAFF | {Role.cluster_secretariat.value}
# Evaluation separates duties among department staff (expert_db, request, draw, carried in the
# token's scopes); administrators hold none of them.
DUTY_STAFF = frozenset({Role.department_staff.value})
EXPERTS_AND_DUTY_STAFF = DUTY_STAFF | {Role.expert.value}
APPLICATION_PARTIES = UNIT_ADMINS | {Role.applicant.value, Role.competent_department.value}
PROJECT_PARTIES = STAFF | {Role.applicant.value, Role.host_unit_admin.value}
# 谁推荐、谁负责: a competent department reads the projects it recommended (the service keeps
# it to those), and acts on none
PROJECT_READERS = PROJECT_PARTIES | {Role.competent_department.value}
RESULT_READERS = STAFF | {Role.host_unit_admin.value, Role.applicant.value}
FILERS = frozenset({Role.host_unit_admin.value, Role.cluster_secretariat.value})
SERVICES = ("registry", "projects", "evaluation")


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str
    roles: frozenset[str]
    pattern: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{[a-z_]+:path\}", r".+", self.path)
        regex = re.sub(r"\{[a-z_]+\}", r"[^/]+", regex)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


def r(service: str, method: str, path: str, roles: Iterable[str]) -> list[Route]:
    """One line of the table; service ``*`` means every service."""
    services = SERVICES if service == "*" else (service,)
    return [Route(s, method, path, frozenset(roles)) for s in services]


ROUTES: tuple[Route, ...] = tuple(
    route
    for line in (
        # registry: organisations (单位) are the public register; edits by staff or the unit's admin
        r("registry", "GET", "/organisations", ANYONE_SIGNED_IN),
        r("registry", "POST", "/organisations", STAFF),
        r("registry", "GET", "/organisations/{org_id}", ANYONE_SIGNED_IN),
        r("registry", "PATCH", "/organisations/{org_id}", STAFF | {Role.host_unit_admin}),
        r("registry", "GET", "/organisations/{org_id}/history", ANYONE_SIGNED_IN),
        r("registry", "GET", "/metadata/codes", ANYONE_SIGNED_IN),
        # registry: people (科研人员); ID numbers are masked by registry except for staff
        r("registry", "GET", "/people", ANYONE_SIGNED_IN),
        r("registry", "POST", "/people", UNIT_ADMINS),
        r("registry", "GET", "/people/export", UNIT_ADMINS),
        r("registry", "GET", "/people/import/template", UNIT_ADMINS),
        r("registry", "POST", "/people/import", UNIT_ADMINS),
        r("registry", "GET", "/people/{person_id}", ANYONE_SIGNED_IN),
        r("registry", "PATCH", "/people/{person_id}", UNIT_ADMINS),
        r("registry", "GET", "/people/{person_id}/history", ANYONE_SIGNED_IN),
        # registry: innovation platforms, their lifecycle, team, outputs; the service checks
        # that a unit admin acts for the host unit and a director for their own lab
        r("registry", "GET", "/platforms", ANYONE_SIGNED_IN),
        r("registry", "POST", "/platforms", UNIT_ADMINS),
        r("registry", "GET", "/platforms/lifecycle", ANYONE_SIGNED_IN),
        r("registry", "GET", "/platforms/export", LAB_EDITORS),
        r("registry", "GET", "/platforms/import/template", UNIT_ADMINS),
        r("registry", "POST", "/platforms/import", UNIT_ADMINS),
        r("registry", "GET", "/platforms/by-code/{code}", ANYONE_SIGNED_IN),
        r("registry", "GET", "/platforms/support-candidates", STAFF),
        r("registry", "GET", "/platforms/revocation-cases", STAFF),
        r("registry", "GET", "/platforms/revocation-cases/{case_id}", STAFF),
        r("registry", "POST", "/platforms/revocation-cases/{case_id}/decision", STAFF),
        r("registry", "GET", "/platforms/{platform_id}/duplicates", ANYONE_SIGNED_IN),
        r("registry", "GET", "/platforms/{platform_id}", ANYONE_SIGNED_IN),
        r("registry", "PATCH", "/platforms/{platform_id}", LAB_EDITORS),
        r("registry", "POST", "/platforms/{platform_id}/actions/{action}", UNIT_ADMINS),
        r("registry", "GET", "/platforms/{platform_id}/history", ANYONE_SIGNED_IN),
        r("registry", "GET", "/platforms/{platform_id}/director-appointments", ANYONE_SIGNED_IN),
        r("registry", "GET", "/platforms/{platform_id}/members", ANYONE_SIGNED_IN),
        r("registry", "POST", "/platforms/{platform_id}/members", LAB_EDITORS),
        r("registry", "GET", "/platforms/{platform_id}/members/{person_id}", ANYONE_SIGNED_IN),
        r("registry", "DELETE", "/platforms/{platform_id}/members/{person_id}", LAB_EDITORS),
        r("registry", "GET", "/platforms/{platform_id}/outputs", ANYONE_SIGNED_IN),
        r("registry", "GET", "/platforms/{platform_id}/outputs/{year}", ANYONE_SIGNED_IN),
        r("registry", "PUT", "/platforms/{platform_id}/outputs/{year}", LAB_EDITORS),
        # registry: shared instruments and open topics (开放共享)
        r("registry", "GET", "/instruments", ANYONE_SIGNED_IN),
        r("registry", "POST", "/instruments", LAB_EDITORS),
        r("registry", "GET", "/instruments/{instrument_id}", ANYONE_SIGNED_IN),
        r("registry", "PATCH", "/instruments/{instrument_id}", LAB_EDITORS),
        r("registry", "POST", "/instruments/{instrument_id}/retire", LAB_EDITORS),
        # 新购大型科研仪器查重评议: the unit and lab see their own instruments' reviews, a municipal
        # bureau those of its 盟市; staff decide
        r("registry", "GET", "/instrument-purchase-reviews", LAB_EDITORS | {Role.competent_department}),
        r(
            "registry",
            "GET",
            "/instrument-purchase-reviews/{review_id}",
            LAB_EDITORS | {Role.competent_department},
        ),
        r("registry", "POST", "/instrument-purchase-reviews/{review_id}/decision", STAFF),
        r("registry", "GET", "/topics", ANYONE_SIGNED_IN),
        r("registry", "POST", "/topics", LAB_EDITORS),
        r("registry", "GET", "/topics/{topic_id}", ANYONE_SIGNED_IN),
        r("registry", "PATCH", "/topics/{topic_id}", LAB_EDITORS),
        r("registry", "POST", "/topics/{topic_id}/close", LAB_EDITORS),
        # registry: integrity records (科研诚信) are for the department; units check applicants
        r("registry", "GET", "/integrity", STAFF),
        r("registry", "POST", "/integrity", STAFF),
        r("registry", "POST", "/integrity/{record_id}/lift", STAFF),
        r("registry", "GET", "/integrity/check", STAFF | {Role.host_unit_admin, Role.competent_department}),
        r("registry", "GET", "/integrity/{record_id}", STAFF),
        # registry: policy values, the reorganisation advisor, targets
        r("registry", "GET", "/policy", ANYONE_SIGNED_IN),
        r("registry", "PUT", "/policy/{key}", STAFF),
        r("registry", "GET", "/policy/{key}/history", STAFF),
        r("registry", "GET", "/reorganisation/advice", UNIT_ADMINS | {Role.competent_department}),
        r("registry", "GET", "/campaigns", STAFF),
        r("registry", "POST", "/campaigns", STAFF),
        r("registry", "GET", "/campaigns/{campaign_id}", STAFF),
        r("registry", "GET", "/campaigns/{campaign_id}/labs", STAFF),
        r("registry", "GET", "/targets", ANYONE_SIGNED_IN),
        r("registry", "GET", "/targets/snapshots", ANYONE_SIGNED_IN),
        r("registry", "PUT", "/targets/{key}", STAFF),
        r("registry", "GET", "/targets/{key}/history", ANYONE_SIGNED_IN),
        # registry: laboratory clusters (实验室群)
        r("registry", "GET", "/clusters", ANYONE_SIGNED_IN),
        r("registry", "POST", "/clusters", STAFF),
        r("registry", "GET", "/clusters/lifecycle", ANYONE_SIGNED_IN),
        r("registry", "GET", "/clusters/{cluster_id}", ANYONE_SIGNED_IN),
        r("registry", "GET", "/clusters/{cluster_id}/history", ANYONE_SIGNED_IN),
        r("registry", "PATCH", "/clusters/{cluster_id}", CLUSTER_EDITORS),
        r("registry", "POST", "/clusters/{cluster_id}/actions/{action}", CLUSTER_EDITORS),
        r("registry", "GET", "/clusters/{cluster_id}/assessments", ANYONE_SIGNED_IN),
        r("registry", "POST", "/clusters/{cluster_id}/assessments", STAFF),
        r("registry", "GET", "/clusters/{cluster_id}/work-plans", ANYONE_SIGNED_IN),
        r("registry", "GET", "/clusters/{cluster_id}/work-plans/{year}", ANYONE_SIGNED_IN),
        r("registry", "PUT", "/clusters/{cluster_id}/work-plans/{year}", CLUSTER_EDITORS),
        r("registry", "GET", "/clusters/{cluster_id}/guideline-suggestions", ANYONE_SIGNED_IN),
        r("registry", "POST", "/clusters/{cluster_id}/guideline-suggestions", CLUSTER_EDITORS),
        r(
            "registry",
            "GET",
            "/clusters/{cluster_id}/guideline-suggestions/{suggestion_id}",
            ANYONE_SIGNED_IN,
        ),
        r(
            "registry",
            "PATCH",
            "/clusters/{cluster_id}/guideline-suggestions/{suggestion_id}",
            CLUSTER_EDITORS,
        ),
        # the expert committee's chair (an expert) or the secretariat records the vetting
        r(
            "registry",
            "POST",
            "/clusters/{cluster_id}/guideline-suggestions/{suggestion_id}/vetting",
            CLUSTER_EDITORS | {Role.expert.value},
        ),
        # member units (their admins) report to the secretariat, which reads the reports
        r("registry", "POST", "/clusters/{cluster_id}/member-reports", CLUSTER_EDITORS | UNIT_ADMINS),
        r("registry", "GET", "/clusters/{cluster_id}/member-reports", CLUSTER_EDITORS),
        r("registry", "GET", "/clusters/{cluster_id}/member-reports/missing", CLUSTER_EDITORS),
        r("registry", "GET", "/clusters/{cluster_id}/member-reports/{report_id}", CLUSTER_EDITORS),
        r("registry", "GET", "/clusters/{cluster_id}/operating-funds", ANYONE_SIGNED_IN),
        r("registry", "POST", "/clusters/{cluster_id}/operating-funds/{year}", STAFF),
        # projects and evaluation: their read models of the register
        r("projects", "GET", "/organisations/{org_id}", ANYONE_SIGNED_IN),
        # projects: the plan catalogue (计划体系) and calls (指南); staff draft and run them
        r("projects", "GET", "/catalogue/codes", ANYONE_SIGNED_IN),
        r("projects", "GET", "/catalogue/programmes", ANYONE_SIGNED_IN),
        r("projects", "GET", "/catalogue/programmes/{code}", ANYONE_SIGNED_IN),
        r("projects", "PATCH", "/catalogue/programmes/{code}", STAFF),
        r("projects", "GET", "/calls", ANYONE_SIGNED_IN),
        r("projects", "POST", "/calls", STAFF),
        r("projects", "GET", "/calls/machine", ANYONE_SIGNED_IN),
        r("projects", "GET", "/calls/guideline-suggestions", STAFF),
        r("projects", "GET", "/calls/guideline-suggestions/{suggestion_id}", STAFF),
        r("projects", "GET", "/calls/{call_id}", ANYONE_SIGNED_IN),
        r("projects", "PATCH", "/calls/{call_id}", STAFF),
        r("projects", "POST", "/calls/{call_id}/actions/{action}", STAFF),
        r("projects", "POST", "/calls/{call_id}/jobs", STAFF),
        r("projects", "GET", "/calls/{call_id}/jobs/{job_id}", STAFF),
        r("projects", "POST", "/calls/{call_id}/jobs/{job_id}/cancel", STAFF),
        # projects: applications; the service limits each role to its own, its units' or the
        # units it recommends for, and refuses experts
        r("projects", "GET", "/applications", APPLICATION_PARTIES),
        r("projects", "POST", "/applications", {Role.applicant.value}),
        r("projects", "GET", "/applications/machine", ANYONE_SIGNED_IN),
        r("projects", "GET", "/applications/export.xlsx", APPLICATION_PARTIES),
        r("projects", "GET", "/applications/funding-table/{call_id}", STAFF),
        r("projects", "GET", "/applications/funding-table/{call_id}/export.xlsx", STAFF),
        r("projects", "GET", "/applications/{app_id}", APPLICATION_PARTIES),
        r("projects", "PATCH", "/applications/{app_id}", {Role.applicant.value}),
        r("projects", "POST", "/applications/{app_id}/actions/{action}", APPLICATION_PARTIES),
        r("projects", "POST", "/applications/{app_id}/formal-check", STAFF),
        r("projects", "GET", "/applications/{app_id}/steps", APPLICATION_PARTIES),
        r("projects", "GET", "/applications/{app_id}/versions", APPLICATION_PARTIES),
        r("projects", "GET", "/applications/{app_id}/seals", APPLICATION_PARTIES),
        r("projects", "GET", "/applications/{app_id}/document", APPLICATION_PARTIES),
        r("projects", "GET", "/applications/printed/{code}", ANYONE_SIGNED_IN),
        # projects: organisation modes, the project after approval, filings (备案); the service
        # checks who acts on each object (the project lead, the host unit, staff)
        r("projects", "GET", "/modes", ANYONE_SIGNED_IN),
        r("projects", "GET", "/policy", ANYONE_SIGNED_IN),
        r("projects", "PUT", "/policy/{key}", STAFF),
        r("projects", "GET", "/policy/{key}/history", STAFF),
        r("projects", "POST", "/calls/{call_id}/designations", STAFF),
        r("projects", "GET", "/calls/{call_id}/designations", STAFF),
        r("projects", "GET", "/calls/{call_id}/designations/{designation_id}", STAFF),
        r("projects", "POST", "/calls/{call_id}/races/{challenge_id}/rounds", STAFF),
        r("projects", "GET", "/calls/{call_id}/races/{challenge_id}/rounds", STAFF),
        r("projects", "GET", "/calls/{call_id}/races/{challenge_id}/rounds/{round_id}", STAFF),
        r("projects", "POST", "/applications/{app_id}/verification", STAFF),
        r("projects", "GET", "/projects", PROJECT_READERS),
        r("projects", "GET", "/projects/machine", ANYONE_SIGNED_IN),
        r("projects", "GET", "/projects/export.xlsx", PROJECT_READERS),
        r("projects", "GET", "/projects/statistics", STAFF),
        r("projects", "GET", "/projects/statistics/plan-categories", STAFF),
        r("projects", "GET", "/projects/{project_id}", PROJECT_READERS),
        r("projects", "GET", "/projects/{project_id}/timeline", PROJECT_READERS),
        r("projects", "GET", "/projects/{project_id}/task-book", PROJECT_READERS),
        r("projects", "PATCH", "/projects/{project_id}/task-book", {Role.applicant.value}),
        r("projects", "POST", "/projects/{project_id}/actions/{action}", PROJECT_PARTIES),
        r("projects", "GET", "/projects/{project_id}/indicators", PROJECT_READERS),
        r("projects", "GET", "/projects/{project_id}/annual-reports", PROJECT_READERS),
        r("projects", "GET", "/projects/{project_id}/annual-reports/{report_id}", PROJECT_READERS),
        r("projects", "POST", "/projects/{project_id}/annual-reports", {Role.applicant.value}),
        r(
            "projects",
            "POST",
            "/projects/{project_id}/annual-reports/{report_id}/actions/{action}",
            STAFF,
        ),
        r("projects", "GET", "/projects/{project_id}/evaluations", PROJECT_READERS),
        r("projects", "GET", "/projects/{project_id}/evaluations/{request_id}", PROJECT_READERS),
        r("projects", "POST", "/projects/{project_id}/evaluations", STAFF),
        r("projects", "POST", "/projects/{project_id}/fault-assessment", STAFF),
        r("projects", "GET", "/projects/{project_id}/disbursements", PROJECT_READERS),
        r("projects", "GET", "/projects/{project_id}/disbursements/{disbursement_id}", PROJECT_READERS),
        r("projects", "POST", "/projects/{project_id}/disbursements/{disbursement_id}/pay", STAFF),
        r("projects", "GET", "/projects/{project_id}/changes", PROJECT_READERS),
        r("projects", "GET", "/projects/{project_id}/changes/{change_id}", PROJECT_READERS),
        r("projects", "POST", "/projects/{project_id}/changes", PROJECT_PARTIES),
        r("projects", "POST", "/projects/{project_id}/changes/{change_id}/actions/{action}", PROJECT_PARTIES),
        r("projects", "GET", "/filings", STAFF | FILERS),
        r("projects", "GET", "/filings/{filing_id}", STAFF | FILERS),
        r("projects", "POST", "/filings", FILERS),
        r("projects", "POST", "/filings/{filing_id}/actions/{action}", STAFF),
        r("projects", "PUT", "/projects/{project_id}/st-report", {Role.applicant.value}),
        r("projects", "GET", "/platforms/{platform_id}/projects", LAB_EDITORS),
        r("projects", "GET", "/platforms/{platform_id}/funding", LAB_EDITORS),
        # projects: annual spot checks (抽查) over running projects, by staff
        r("projects", "POST", "/spot-checks", STAFF),
        r("projects", "GET", "/spot-checks", STAFF),
        r("projects", "GET", "/spot-checks/{check_id}", STAFF),
        r("projects", "GET", "/spot-checks/{check_id}/redraw", STAFF),
        r("projects", "PUT", "/spot-checks/{check_id}/findings/{project_id}", STAFF),
        r("projects", "POST", "/spot-checks/{check_id}/close", STAFF),
        # projects: the results register (科技成果库); a unit's admin reports its projects'
        # results and resubmits a rejected one corrected, staff verify; the service keeps each
        # reader to its units' or projects' rows and each action to its machine's roles
        r("projects", "POST", "/results", {Role.host_unit_admin.value}),
        r("projects", "GET", "/results", RESULT_READERS),
        r("projects", "GET", "/results/export.xlsx", RESULT_READERS),
        r("projects", "GET", "/results/{result_id}", RESULT_READERS),
        r("projects", "POST", "/results/{result_id}/actions/{action}", UNIT_ADMINS),
        # projects: the technology demand register (技术需求库) and application scenarios
        # (应用场景); units register, staff publish and close; published rows are public
        r("projects", "POST", "/technology-demands", {Role.host_unit_admin.value}),
        r("projects", "GET", "/technology-demands", ANYONE_SIGNED_IN),
        r("projects", "GET", "/technology-demands/export.xlsx", ANYONE_SIGNED_IN),
        r("projects", "GET", "/technology-demands/{demand_id}", ANYONE_SIGNED_IN),
        r("projects", "POST", "/technology-demands/{demand_id}/actions/{action}", STAFF),
        # projects: periodic lists (成果清单 / 应用场景清单), frozen by staff, read by all
        r("projects", "POST", "/periodic-lists", STAFF),
        r("projects", "GET", "/periodic-lists", ANYONE_SIGNED_IN),
        r("projects", "GET", "/periodic-lists/{list_id}", ANYONE_SIGNED_IN),
        r("projects", "GET", "/periodic-lists/{list_id}/export.xlsx", ANYONE_SIGNED_IN),
        r("evaluation", "GET", "/organisations/{org_id}", ANYONE_SIGNED_IN),
        # evaluation: the expert database (专家库); the service checks each staff member's duty
        # (expert_db, request, draw) and lets an expert see only their own profile
        r("evaluation", "POST", "/experts/apply", ANYONE_SIGNED_IN),
        r("evaluation", "GET", "/experts/me", ANYONE_SIGNED_IN),
        r("evaluation", "PATCH", "/experts/me", {Role.expert.value}),
        r("evaluation", "POST", "/experts/me/reconfirm", {Role.expert.value}),
        r("evaluation", "POST", "/experts/reconfirmation-sweep", DUTY_STAFF),
        r("evaluation", "GET", "/experts", DUTY_STAFF),
        r("evaluation", "POST", "/experts", DUTY_STAFF),
        r("evaluation", "POST", "/experts/import", DUTY_STAFF),
        r("evaluation", "GET", "/experts.xlsx", DUTY_STAFF),
        r("evaluation", "GET", "/experts/{expert_id}", EXPERTS_AND_DUTY_STAFF),
        r("evaluation", "PATCH", "/experts/{expert_id}", DUTY_STAFF),
        r("evaluation", "POST", "/experts/{expert_id}/declarations", EXPERTS_AND_DUTY_STAFF),
        r("evaluation", "POST", "/experts/{expert_id}/{action}", DUTY_STAFF),
        # evaluation: review rounds and assignment runs (回避 checked on every assignment); the
        # drawn list stays sealed until the round is opened
        r("evaluation", "GET", "/rounds", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}/items", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}/items/{item_id}", DUTY_STAFF),
        r("evaluation", "POST", "/rounds/{round_id}/request", DUTY_STAFF),
        r("evaluation", "POST", "/rounds/{round_id}/runs", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}/runs", DUTY_STAFF),
        r("evaluation", "GET", "/runs/{run_id}", DUTY_STAFF),
        r("evaluation", "POST", "/runs/{run_id}/cancel", DUTY_STAFF),
        r("evaluation", "POST", "/rounds/{round_id}/open", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}/assignments", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}/short-items", DUTY_STAFF),
        r("evaluation", "GET", "/assignments/mine", {Role.expert.value}),
        r("evaluation", "GET", "/assignments/{assignment_id}", EXPERTS_AND_DUTY_STAFF),
        r("evaluation", "POST", "/assignments/{assignment_id}/respond", {Role.expert.value}),
        # evaluation: review forms, score sheets and results (评审结果核定: the `results` duty; whoever
        # draws experts never sees scores); applicants read anonymised comments on their own
        # applications only; assessments of labs, clusters and projects
        r("evaluation", "GET", "/metadata/codes", ANYONE_SIGNED_IN),
        r("evaluation", "GET", "/review-forms", DUTY_STAFF),
        r("evaluation", "POST", "/review-forms", DUTY_STAFF),
        r("evaluation", "GET", "/review-forms/{form_id}", DUTY_STAFF),
        r("evaluation", "GET", "/reviews/mine", {Role.expert.value}),
        # evaluation: the round's integrity and confidentiality pledge (诚信和保密承诺), signed
        # by each expert before any sheet of the round opens; the office sees who signed
        r("evaluation", "GET", "/rounds/{round_id}/pledge", {Role.expert.value}),
        r("evaluation", "POST", "/rounds/{round_id}/pledge", {Role.expert.value}),
        r("evaluation", "GET", "/rounds/{round_id}/pledges", DUTY_STAFF),
        r("evaluation", "GET", "/assignments/{assignment_id}/sheet", {Role.expert.value}),
        r("evaluation", "PUT", "/assignments/{assignment_id}/sheet", {Role.expert.value}),
        r("evaluation", "POST", "/assignments/{assignment_id}/sheet/submit", {Role.expert.value}),
        r("evaluation", "POST", "/assignments/{assignment_id}/recuse", {Role.expert.value}),
        r("evaluation", "PUT", "/rounds/{round_id}/review-settings", DUTY_STAFF),
        r("evaluation", "PATCH", "/rounds/{round_id}/items/{item_id}", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}/progress", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}/score-sheets", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}/score-sheets.xlsx", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}/dispersion", DUTY_STAFF),
        r("evaluation", "POST", "/rounds/{round_id}/items/{item_id}/panel", DUTY_STAFF),
        r("evaluation", "GET", "/rounds/{round_id}/ranking", DUTY_STAFF),
        r("evaluation", "POST", "/rounds/{round_id}/finalize", DUTY_STAFF),
        r("evaluation", "GET", "/reviews/applications/{application_id}", {Role.applicant.value}),
        r("evaluation", "POST", "/reviews/applications/{application_id}/avoidance", {Role.applicant.value}),
        r("evaluation", "GET", "/assessments", DUTY_STAFF),
        r("evaluation", "POST", "/assessments/labs", DUTY_STAFF),
        r("evaluation", "POST", "/assessments/platforms", DUTY_STAFF),
        r("evaluation", "POST", "/assessments/clusters", DUTY_STAFF),
        r("evaluation", "GET", "/assessments/{item_id}", DUTY_STAFF),
        r("evaluation", "POST", "/assessments/{item_id}/finalize", DUTY_STAFF),
        # every service: the audit trail of one object, for supervisors (the `supervision` duty)
        r("*", "GET", "/audit", DUTY_STAFF),
        # every service: event machinery for operators
        r("*", "GET", "/admin/events/catalogue", ADMIN),
        r("*", "GET", "/admin/events/gaps", ADMIN),
        r("*", "GET", "/admin/events/dead-letters", ADMIN),
        r("*", "POST", "/admin/events/dead-letters/{dead_letter_id}/replay", ADMIN),
        r("*", "POST", "/admin/events/outbox/republish", ADMIN),
    )
    for route in line
)


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._by_key: dict[tuple[str, str], list[Route]] = {}
        for route in routes:
            self._by_key.setdefault((route.service, route.method), []).append(route)

    def match(self, service: str, method: str, path: str) -> Route | None:
        lookup = "GET" if method == "HEAD" else method
        for route in self._by_key.get((service, lookup), ()):
            if route.pattern.match(path):
                return route
        return None


TABLE = RouteTable(ROUTES)
