from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class EvaluationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EVALUATION_", extra="ignore", env_nested_delimiter="__")

    run_workers: int = 2  # assignment runs this process executes at once (0: an API-only process)
    run_lease_seconds: float = 30.0  # a worker that stops renewing for this long loses its run
    run_poll_seconds: float = 1.0
    run_max_attempts: int = 3
    # start the runs' planning process with the service, so that the first run does not wait for it
    run_planner_prestart: bool = True
    expert_confirm_months: int = 24  # experts re-confirm their details this often
    reconfirm_notice_days: int = 60  # the sweep asks this long before the confirmation lapses
