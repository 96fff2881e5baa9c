from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ProjectsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROJECTS_", extra="ignore", env_nested_delimiter="__")

    dedup_index_interval_seconds: float = Field(
        1.0, gt=0, le=60, description="how often the 查重 indexer looks for newly submitted texts when idle"
    )
