"""Resident ID numbers (居民身份证号码): validation with python-stdnum, digest and masking."""

from __future__ import annotations

import hashlib
from datetime import date

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from shared.errors import FieldIssue


def normalise(value: str) -> str:
    return str(ric.compact(value)).upper()


def check(value: str, field: str = "id_number") -> tuple[str, FieldIssue | None]:
    """The normalised number, or the reason it is not a valid resident ID number."""
    try:
        return str(ric.validate(value)).upper(), None
    except stdnum_errors.InvalidChecksum:
        return value, FieldIssue(field, "ric_checksum", "the check digit is wrong", "身份证号码校验位错误")
    except stdnum_errors.InvalidLength:
        return value, FieldIssue(
            field, "ric_length", "a resident ID number has 18 characters", "身份证号码应为18位"
        )
    except stdnum_errors.InvalidComponent:
        return value, FieldIssue(
            field,
            "ric_component",
            "the birth date or region inside the number is impossible",
            "身份证号码中的出生日期或地区码无效",
        )
    except stdnum_errors.ValidationError:
        return value, FieldIssue(
            field, "ric_invalid", "not a valid resident ID number", "身份证号码格式不正确"
        )


def digest(number: str) -> str:
    return hashlib.sha256(normalise(number).encode()).hexdigest()


def mask(number: str) -> str:
    """``150102198001011234`` → ``1501**********1234``."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def birth_date_of(number: str) -> date:
    return ric.get_birth_date(number)


def gender_of(number: str) -> str:
    return "male" if int(number[16]) % 2 == 1 else "female"
