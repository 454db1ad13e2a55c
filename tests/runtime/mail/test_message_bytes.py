"""The bytes of a message: `message_bytes` writes exactly what the email package writes
(`build_message`), whatever the names, subject and body, and refuses what it refuses.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from mail_contexts import MAIL_FROM, MISSION, context

from missionflow.runtime.mail.message import build_message, message_bytes
from missionflow.runtime.mail.templates import render
from missionflow.runtime.models import OutboxMessage


def outbox_row(**changes: Any) -> OutboxMessage:
    rendered = render("application_received", context("application_received"))
    values: dict[str, Any] = {
        "mission_id": "eu-us-2017",
        "template": "application_received",
        "idempotency_key": "k",
        "recipient": "ana@example.es",
        "recipient_name": "Ana Núñez",
        "subject": rendered.subject,
        "text_body": rendered.text,
        "html_body": rendered.html,
        "headers": {
            "From": MISSION["organiser"],
            "X-Missionflow-Template": "application_received",
            "X-Missionflow-Mission": "eu-us-2017",
            "Reply-To": "Anna Verbeke <anna.verbeke@example.org>",
        },
        "message_id": "<0123456789abcdef@example.org>",
        "status": "queued",
        **changes,
    }
    return OutboxMessage(**values)


LONG = "A line long enough to need a soft break when it travels quoted-printable: " * 3
SHAPES: dict[str, dict[str, Any]] = {
    "confirmation": {},
    "short ascii lines: 7bit": {"text_body": "Hello.\nSee you.\n", "html_body": "<p>Hi</p>"},
    "long lines: quoted-printable": {"text_body": LONG + "\n" + LONG, "html_body": LONG},
    "mostly not latin: base64": {"text_body": "ご応募ありがとうございます。\n" * 30},
    "mixed line endings": {"text_body": "one\r\ntwo\rthree\nfour", "html_body": ""},
    "a line like a boundary": {"text_body": "--===============0000000000000000042==\n"},
    "no reply-to, auto-submitted": {
        "headers": {
            "From": "Org",
            "X-Missionflow-Template": "deadline_reminder",
            "X-Missionflow-Mission": "m",
            "Auto-Submitted": "auto-generated",
        }
    },
    "no from name": {"headers": {"X-Missionflow-Mission": "m"}},
    "a name with specials": {"recipient_name": 'Smith, "J." <boss@example.net> (CEO) \\ x'},
    "a name like an encoded word": {"recipient_name": "=?utf-8?q?Bcc=3A_evil@example.net?="},
    "a long non-ascii name": {"recipient_name": "Ñandú Çağlar Øre " * 8},
    "no name": {"recipient_name": None},
    "a long non-ascii subject": {"subject": "Délégation – agenda, " * 10},
    "a subject like an encoded word": {"subject": "=?utf-8?b?4oCT?= and =?x?q?y?="},
    "a non-ascii domain: smtputf8": {"recipient": "ana@bücher.example"},
    "an organiser with specials": {
        "headers": {"From": "Cluster; Org. (EU) <x>", "X-Missionflow-Mission": "m"}
    },
    "a header compose does not write": {"headers": {"X-Other": "1"}},
}


@pytest.mark.parametrize("changes", SHAPES.values(), ids=SHAPES.keys())
def test_message_bytes_are_build_messages_bytes(
    changes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast builder writes exactly what the email package writes, whatever the names."""
    monkeypatch.setattr("random.randrange", lambda _: 42)  # one boundary for both
    row = outbox_row(**changes)
    now = datetime(2017, 3, 1, 12, 30, tzinfo=UTC)

    fast = message_bytes(row, sender=MAIL_FROM, now=now)

    assert fast == build_message(row, sender=MAIL_FROM, now=now).as_bytes()


_NAME_CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs",))
"""Any name people type: plain words most of the time, specials, quotes, non-ASCII and
controls at others (the fast paths must recognise what they cannot write)."""


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.one_of(
        st.none(),
        st.from_regex(r"[A-Za-z0-9'_-]{1,20}( [A-Za-z0-9.'_-]{1,20}){0,4}", fullmatch=True),
        st.text(_NAME_CHARACTERS, max_size=80),
    ),
    local=st.from_regex(r"[A-Za-z0-9_+-]{1,30}(\.[A-Za-z0-9_+-]{1,10}){0,2}", fullmatch=True),
    domain=st.from_regex(r"[A-Za-z0-9-]{1,20}(\.[A-Za-z0-9-]{1,20}){1,3}", fullmatch=True),
    subject=st.text(_NAME_CHARACTERS, min_size=1, max_size=120),
    body=st.lists(
        st.sampled_from(["Dear Ana,", "", "Déjà vu – ñ", "x" * 90, "ends in a space ", "=?"])
        | st.text(_NAME_CHARACTERS, max_size=100),
        max_size=14,
    ),
)
def test_message_bytes_are_build_messages_bytes_for_any_name_subject_and_body(
    name: str | None, local: str, domain: str, subject: str, body: list[str]
) -> None:
    """The recipient written without parsing, the subject folded once and the bodies encoded
    line by line from a cache: what goes out is still, byte for byte, the email package's, or
    the same refusal."""
    text = "\n".join(body)
    row = outbox_row(
        recipient_name=name,
        recipient=f"{local}@{domain}",
        subject=subject,
        text_body=text,
        html_body=f"<p>{text}</p>",
    )
    now = datetime(2017, 3, 1, 12, 30, tzinfo=UTC)
    random.seed(7)
    try:
        expected = build_message(row, sender=MAIL_FROM, now=now).as_bytes()
    except ValueError:
        with pytest.raises(ValueError):
            message_bytes(row, sender=MAIL_FROM, now=now)
        return
    random.seed(7)
    assert message_bytes(row, sender=MAIL_FROM, now=now) == expected


@pytest.mark.parametrize("digits", [0, 42, 1234567890123456789, 9999999999999999999])
@pytest.mark.parametrize(
    "domain", ["example.org", "mail." + "very-long-subdomain." * 4 + "example.org", "x.y"]
)
def test_message_bytes_fold_every_message_id_and_boundary_as_the_email_package(
    digits: int, domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Message-IDs as `compose` makes them and boundaries as the generator makes them are
    folded once per shape and filled in: the bytes are still the email package's, also where
    the header is too long for one line."""
    monkeypatch.setattr("random.randrange", lambda _: digits)
    now = datetime(2017, 3, 1, 12, 30, tzinfo=UTC)
    for hex_id in ("0" * 32, "f" * 32, "0123456789abcdef" * 2, "a0" * 16):
        row = outbox_row(message_id=f"<{hex_id}@{domain}>")

        fast = message_bytes(row, sender=MAIL_FROM, now=now)

        assert fast == build_message(row, sender=MAIL_FROM, now=now).as_bytes()


@pytest.mark.parametrize(
    "changes",
    [
        {"headers": {"X-Missionflow-Mission": "m\r\nBcc: evil@example.net"}},
        {"headers": {"Reply-To": "a@example.org\nBcc: evil@example.net"}},
        {"recipient": "not an address"},
        {"recipient": "núñez@example.es"},  # the email package refuses a non-ASCII local part
        {"message_id": "<1@example.org>\r\nBcc: evil@example.net"},
    ],
)
def test_message_bytes_refuse_what_build_message_refuses(changes: dict[str, Any]) -> None:
    row = outbox_row(**changes)
    now = datetime.now(UTC)
    with pytest.raises(ValueError):
        build_message(row, sender=MAIL_FROM, now=now)
    with pytest.raises(ValueError):
        message_bytes(row, sender=MAIL_FROM, now=now)
