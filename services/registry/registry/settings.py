from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from registry.people import identity
from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", env_nested_delimiter="__")

    id_number_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes (e.g. `openssl rand -base64 32`): encrypts resident ID "
        "numbers at rest and keys their lookup digest. Required outside local/test (the service "
        "refuses to start without it); local and test runs use a fixed development key.",
    )

    def id_number_keyring(self) -> identity.Keyring:
        """The keys for ID numbers; ValueError if the key is missing or unfit for this environment."""
        text = self.id_number_key.get_secret_value().strip() if self.id_number_key else None
        if self.environment not in ("local", "test"):
            if text is None:
                raise ValueError("id_number_key (REGISTRY_ID_NUMBER_KEY) is required outside local/test")
            if text == identity.DEVELOPMENT_KEY:
                raise ValueError("id_number_key is the development key; set a real one outside local/test")
        return identity.Keyring.from_master(identity.parse_master_key(text or identity.DEVELOPMENT_KEY))
