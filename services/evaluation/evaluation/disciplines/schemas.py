"""A discipline code as an API field: an unknown code is a 422 naming the field."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from evaluation.disciplines import check_code

DisciplineCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=20,
        description="NSFC application code (国家自然科学基金申请代码), e.g. F0201",
    ),
    AfterValidator(check_code),
]
