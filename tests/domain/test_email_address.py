"""The remembered email check answers exactly as pydantic's `EmailStr` does."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, EmailStr, TypeAdapter, ValidationError

from missionflow.domain.email_address import EmailAddress, _normalised

OURS = TypeAdapter(EmailAddress)
PYDANTICS = TypeAdapter(EmailStr)

ADDRESSES = [
    "ana@example.org",
    "Ana.Lopez@Example.ORG",
    "  padded@example.org  ",
    "Ana Lopez <ana@example.org>",
    "josé@exämple.org",
    "a+tag@sub.example.co.uk",
    "not an address",
    "two@@example.org",
    "no-domain@",
    "@example.org",
    "ana@localhost",
    "a" * 65 + "@example.org",
    "",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_answers_as_email_str(address: str) -> None:
    for _ in range(2):  # the second answer comes from what was remembered
        try:
            expected = PYDANTICS.validate_python(address)
        except ValidationError as refused:
            with pytest.raises(ValidationError) as ours:
                OURS.validate_python(address)
            assert ours.value.errors(include_url=False) == refused.errors(include_url=False)
        else:
            assert OURS.validate_python(address) == expected


def test_each_address_is_checked_once() -> None:
    _normalised.cache_clear()
    for _ in range(3):
        OURS.validate_json('"remembered@example.org"')
    assert _normalised.cache_info().misses == 1
    assert _normalised.cache_info().hits == 2


def test_the_schema_says_email_as_before() -> None:
    class Ours(BaseModel):
        email: EmailAddress

    class Pydantics(BaseModel):
        email: EmailStr

    assert Ours.model_json_schema()["properties"] == Pydantics.model_json_schema()["properties"]
    assert Ours.model_json_schema()["properties"]["email"]["format"] == "email"
