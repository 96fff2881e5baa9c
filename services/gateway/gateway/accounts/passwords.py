"""Password hashing (Argon2id, RFC 9106) and the password policy (密码策略)."""

from __future__ import annotations

import string
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import Type

from shared.errors import FieldIssue

# The most common leaked passwords that pass a length-and-classes rule; a deployment would load
# a larger list (e.g. from HIBP's top list) into the same set.
COMMON_PASSWORDS = frozenset(
    {
        "password123!",
        "password@123",
        "p@ssw0rd123",
        "qwerty123!",
        "admin@12345",
        "abc123456!",
        "a123456789!",
        "iloveyou123!",
        "welcome@123",
        "1qaz@wsx3edc",
        "1qaz2wsx#edc",
        "zaq12wsx!@",
    }
)


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 10
    max_length: int = 128
    min_classes: int = 3

    def check(
        self, password: str, *, field: str, identifiers: tuple[str | None, ...] = ()
    ) -> list[FieldIssue]:
        issues: list[FieldIssue] = []
        if len(password) < self.min_length:
            issues.append(
                FieldIssue(
                    field,
                    "password_too_short",
                    f"at least {self.min_length} characters",
                    f"密码至少 {self.min_length} 位",
                )
            )
        if len(password) > self.max_length:
            issues.append(
                FieldIssue(field, "password_too_long", f"at most {self.max_length} characters", "密码过长")
            )
        classes = sum(
            (
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(c in string.punctuation or c == " " for c in password),
            )
        )
        if classes < self.min_classes:
            issues.append(
                FieldIssue(
                    field,
                    "password_too_simple",
                    f"use at least {self.min_classes} of: lower case, upper case, digits, symbols",
                    f"需包含小写字母、大写字母、数字、符号中的至少 {self.min_classes} 类",
                )
            )
        lowered = password.lower()
        if lowered in COMMON_PASSWORDS:
            issues.append(FieldIssue(field, "password_common", "this password is too common", "密码过于常见"))
        for ident in identifiers:
            if ident and len(ident) >= 3 and ident.lower() in lowered:
                issues.append(
                    FieldIssue(
                        field,
                        "password_contains_identifier",
                        "the password must not contain the user name, e-mail or phone",
                        "密码不得包含用户名、邮箱或手机号",
                    )
                )
                break
        return issues


class Passwords:
    """Argon2id hashing; a dummy hash keeps unknown accounts as slow as known ones."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._dummy = self._hasher.hash("not a password of anyone")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
