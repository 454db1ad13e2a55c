"""The rule of a resend: only a failed email, and never one whose recipient was erased."""

from __future__ import annotations

import pytest

from missionflow.domain.erasure import ERASED_ADDRESS
from missionflow.domain.resending import resend_refusal


def test_only_a_failed_email_is_sent_again() -> None:
    assert resend_refusal("failed", "jana@example.org") is None


@pytest.mark.parametrize("status", ["queued", "sending", "sent"])
def test_one_on_its_way_or_sent_is_refused_by_name(status: str) -> None:
    assert resend_refusal(status, "jana@example.org") == (
        f"This email is {status} already: only a failed one is sent again."
    )


def test_an_erased_recipient_is_never_written_to_again() -> None:
    refusal = resend_refusal("failed", ERASED_ADDRESS)
    assert refusal is not None and "erased" in refusal
