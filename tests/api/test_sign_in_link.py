"""Signing in by a one-time link sent by email, over HTTP on the real dev server, both databases
and a real SMTP server: the console's forms and the JSON routes, one email per link, one use per
link, expired and unknown links refused, no answer that tells who has an account, and at most
three links per address in fifteen minutes."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
from sqlalchemy import update
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment
from test_console_pages import Browser, csrf_of
from test_people_and_roles import person

from missionflow.domain.sign_in_links import workflow_id
from missionflow.runtime.people import Person, SignInLink, secret_digest

LINK = re.compile(r"http://missionflow\.test(/console/sign-in/link\?token=([\w-]+))")
SENT = "If this address has an account, a link is on its way; it works once, for 15 minutes."


async def ask_by_form(browser: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await browser.get("/console/sign-in")
    assert page.status_code == 200, page.text
    return await browser.post(
        "/console/sign-in/email", data={"email": email, "csrf_token": csrf_of(page)}
    )


async def links(session_factory, email: str) -> list[SignInLink]:
    async with session_factory() as session:
        rows = await session.exec(
            select(SignInLink)
            .join(Person, col(SignInLink.person_id) == col(Person.id))
            .where(Person.email == email)
            .order_by(col(SignInLink.created_at))
        )
        return list(rows.all())


async def emailed(
    dev_env: WorkflowEnvironment, mailbox, session_factory, email: str
) -> list[EmailMessage]:
    """The links' emails to `email`, once every link's workflow has finished."""
    for row in await links(session_factory, email):
        await dev_env.client.get_workflow_handle(workflow_id(row.id)).result()
    return mailbox.sent("sign_in_link", to=email)


def link_in(message: EmailMessage) -> tuple[str, str]:
    """The link's path and its token."""
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found is not None, body.get_content()
    return found.group(1), found.group(2)


async def test_a_link_is_emailed_once_and_signs_in_once_without_a_password(
    api: httpx.AsyncClient, browsers: Browser, dev_env, mailbox, session_factory
) -> None:
    await person(api, "ada@example.org", "Ada Lovelace")
    async with session_factory() as session, session.begin():
        await session.exec(
            update(Person).where(col(Person.email) == "ada@example.org").values(password_hash=None)
        )
    browser = browsers()
    answer = await ask_by_form(browser, " Ada@Example.org ")
    assert answer.status_code == 200, answer.text
    assert SENT in answer.text
    [message] = await emailed(dev_env, mailbox, session_factory, "ada@example.org")
    assert message["Subject"] == "Your sign-in link to the missionflow console"
    assert str(message["To"]) == "Ada Lovelace <ada@example.org>"
    assert message["From"].addresses[0].addr_spec == "missions@missionflow.test"
    path, token = link_in(message)
    [row] = await links(session_factory, "ada@example.org")
    assert row.token_hash == secret_digest(token) != token, "only the token's digest is stored"
    assert row.expires_at - row.created_at == timedelta(minutes=15)

    page = await browser.get(path)
    assert page.status_code == 200, page.text
    assert f'name="token" value="{token}"' in page.text and ">Sign in</button>" in page.text
    assert "no-referrer" in page.headers["referrer-policy"]
    [row] = await links(session_factory, "ada@example.org")
    assert row.used_at is None, "opening the link (as a mail scanner does) spends nothing"

    forged = await browser.post("/console/sign-in/link", data={"token": token, "csrf_token": "x"})
    assert forged.status_code == 403 and "missionflow_session" not in browser.cookies
    signed = await browser.post(
        "/console/sign-in/link", data={"token": token, "csrf_token": csrf_of(page)}
    )
    assert (signed.status_code, signed.headers["location"]) == (303, "/console"), signed.text
    home = await browser.get("/console")
    assert home.status_code == 200 and "Signed in as Ada Lovelace" in home.text
    [row] = await links(session_factory, "ada@example.org")
    assert row.used_at is not None

    other = browsers()
    again = await other.get(path)
    assert again.status_code == 410 and "already used or has expired" in again.text
    form = await other.get("/console/sign-in")
    reused = await other.post(
        "/console/sign-in/link", data={"token": token, "csrf_token": csrf_of(form)}
    )
    assert reused.status_code == 410 and "Ask for a new one" in reused.text
    assert "missionflow_session" not in other.cookies
    json_reuse = await other.post("/auth/sign-in-link/redeem", json={"token": token})
    assert json_reuse.status_code == 410
    assert len(mailbox.sent("sign_in_link")) == 1, "the link went once"


async def test_json_routes_expired_unknown_and_concurrent_links(
    api: httpx.AsyncClient, browsers: Browser, dev_env, mailbox, session_factory
) -> None:
    await person(api, "grace@example.org", "Grace Hopper")
    browser = browsers()
    for _ in range(2):
        asked = await browser.post("/auth/sign-in-link", json={"email": "grace@example.org"})
        assert (asked.status_code, asked.json()) == (202, {"detail": SENT})
    first, second = await emailed(dev_env, mailbox, session_factory, "grace@example.org")
    (_, expired), (_, token) = link_in(first), link_in(second)
    async with session_factory() as session, session.begin():
        await session.exec(
            update(SignInLink)
            .where(col(SignInLink.token_hash) == secret_digest(expired))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    late = await browser.post("/auth/sign-in-link/redeem", json={"token": expired})
    assert late.status_code == 410, late.text
    assert (await browser.get(f"/console/sign-in/link?token={expired}")).status_code == 410
    unknown = await browser.post("/auth/sign-in-link/redeem", json={"token": "not-a-link"})
    assert unknown.status_code == 404
    page = await browser.get("/console/sign-in/link?token=not-a-link")
    assert page.status_code == 404 and "Ask for a new one" in page.text
    assert (await browser.post("/auth/sign-in-link/redeem", json={})).status_code == 422
    assert "missionflow_session" not in browser.cookies

    one, two = browsers(), browsers()
    answers = await asyncio.gather(
        *(b.post("/auth/sign-in-link/redeem", json={"token": token}) for b in (one, two))
    )
    assert sorted(a.status_code for a in answers) == [200, 410], "one use wins"
    winner = one if answers[0].status_code == 200 else two
    signed_in = next(a for a in answers if a.status_code == 200).json()
    assert signed_in["me"]["email"] == "grace@example.org" and signed_in["csrf_token"]
    assert (await winner.get("/auth/me")).json()["email"] == "grace@example.org"

    schema = (await api.get("/openapi.json")).json()
    for path in ("/auth/sign-in-link", "/auth/sign-in-link/redeem"):
        body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"]["$ref"].startswith("#/components/schemas/SignInLink")


async def test_an_unknown_address_is_answered_the_same_and_nothing_is_sent(
    api: httpx.AsyncClient, browsers: Browser, dev_env, mailbox, session_factory
) -> None:
    await person(api, "cora@example.org", "Cora Coordinator")
    browser = browsers()
    unknown = await ask_by_form(browser, "nobody@example.org")
    known = await ask_by_form(browser, "cora@example.org")
    assert unknown.status_code == known.status_code == 200
    assert unknown.text == known.text, "the page tells no one who has an account"
    by_json = await browser.post("/auth/sign-in-link", json={"email": "nobody@example.org"})
    assert (by_json.status_code, by_json.json()) == (202, {"detail": SENT})
    # Cora's email arrives after anything the requests before it could have sent.
    assert len(await emailed(dev_env, mailbox, session_factory, "cora@example.org")) == 1
    assert mailbox.sent("sign_in_link", to="nobody@example.org") == []
    assert len(mailbox.sent("sign_in_link")) == 1
    async with session_factory() as session:
        assert len((await session.exec(select(SignInLink))).all()) == 1, "only Cora's is stored"

    empty = await ask_by_form(browser, "")
    assert empty.status_code == 422 and "Enter your email." in empty.text
    forged = await browser.post(
        "/console/sign-in/email", data={"email": "cora@example.org", "csrf_token": "x"}
    )
    assert forged.status_code == 403
    assert len(await links(session_factory, "cora@example.org")) == 1, "refused: none stored"


async def test_an_address_gets_at_most_three_links_in_fifteen_minutes(
    api: httpx.AsyncClient, browsers: Browser, dev_env, mailbox, session_factory
) -> None:
    await person(api, "fay@example.org", "Fay Form")
    browser = browsers()
    for _ in range(4):
        answer = await ask_by_form(browser, "fay@example.org")
        assert answer.status_code == 200 and SENT in answer.text
    assert len(await emailed(dev_env, mailbox, session_factory, "fay@example.org")) == 3
    assert len(await links(session_factory, "fay@example.org")) == 3, "the fourth: none stored"

    earlier = datetime.now(UTC) - timedelta(minutes=16)
    async with session_factory() as session, session.begin():
        await session.exec(update(SignInLink).values(created_at=earlier))
    assert (await ask_by_form(browser, "fay@example.org")).status_code == 200
    assert len(await emailed(dev_env, mailbox, session_factory, "fay@example.org")) == 4
