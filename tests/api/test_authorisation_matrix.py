"""Every route × every kind of caller, on the real dev server and both databases (issue 19): no
credentials, a revoked personal token, a bearer token that is no token of ours, the
administrator, each role of mission A by a signed-in session, a coordinator of mission B only,
personal tokens narrowed by role or to another mission, and a session that forgets its CSRF
token. Each gets the answer its rule (tests/api/authorisation_routes.py) says: 401 (or the
console's 303 to its sign-in page), 403 or 404 when refused, and when allowed anything but
those. The refused requests, all of them, change no row of any table, no mission's workflow
state and send no email; the allowed ones (safe methods, or bodies refused as invalid) change
nothing either but the audit log's record of personal-data exports. A mission the caller has no
role on answers exactly as one that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from authorisation_routes import (
    ALLOWED,
    DEVELOPMENT_ONLY_PREFIX,
    FRAMEWORK,
    PUBLIC,
    ROUTES,
    Caller,
    Kind,
    Rule,
    Send,
    answered,
    expected,
    rule_of,
)
from fastapi.routing import iter_route_contexts
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine
from support import eventually, rehearsal
from temporalio.testing import WorkflowEnvironment
from test_people_and_roles import APPLICATION, PASSWORD, member, person

from api.identity import CSRF_HEADER, SAFE_METHODS
from api.main import create_app
from api.missions import mission_status
from missionflow.domain.people import Action, Role, allowed_actions
from missionflow.runtime.settings import Settings

Browser = Callable[[], httpx.AsyncClient]

UNSTABLE_COLUMNS = {"personal_token": {"last_used_at"}}
"""Written by any request that uses a personal token, refused or not (at most once a minute,
api.identity): the token was used, which is no change made by the request."""


def app_routes(settings: Settings) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, with the development mailbox as a deployment
    without SMTP relay serves it."""
    app = create_app(settings, mailbox=True)
    return {
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        for method in context.methods or ()
        if method != "HEAD"
    }


def checked_routes(settings: Settings) -> list[tuple[str, str]]:
    """The routes the matrix sends requests to: all but the framework's and the development
    mailbox (authorisation_routes says why)."""
    return sorted(
        route
        for route in app_routes(settings)
        if route not in FRAMEWORK and not route[1].startswith(DEVELOPMENT_ONLY_PREFIX)
    )


def test_the_table_names_exactly_the_apps_routes(settings: Settings) -> None:
    served = checked_routes(settings)
    unruled = [route for route in served if rule_of(*route) is None]
    assert not unruled, (
        f"routes without a rule: {unruled}. Add each to ROUTES in "
        "tests/api/authorisation_routes.py with who may call it."
    )
    stale = sorted(set(ROUTES) - set(served))
    assert not stale, f"ROUTES names routes the app no longer serves: {stale}"
    unsaid = [
        (method, path)
        for method, path in served
        if method not in SAFE_METHODS
        and (rule := rule_of(method, path)) is not None
        and rule.invalid is None
        and rule.skip_allowed is None
    ]
    assert not unsaid, (
        f"{unsaid}: give each rule the body refused as invalid that an allowed caller sends, "
        "or say why the allowed case is not sent (skip)"
    )


OWNER = "olga@example.org"
UNKNOWN = "no-such-mission"


def later(document: dict[str, Any]) -> dict[str, Any]:
    """The rehearsal with every instant ten hours later: nothing happens on its own (no
    reminder, no closing call) while the matrix runs."""
    if isinstance(document, dict):
        return {key: later(value) for key, value in document.items()}
    if isinstance(document, list):
        return [later(value) for value in document]
    if isinstance(document, str) and document.startswith("+PT"):
        return "+PT10H" + document[3:]
    return document


async def started(api: httpx.AsyncClient) -> str:
    document = rehearsal()
    document["matchmaking"]["preferences_deadline"] = "+PT4M30S"  # its preference lists
    document = later(document)
    answer = await api.post("/missions", json=document)
    assert answer.status_code == 201, answer.text
    return document["id"]


async def session_of(browsers: Browser, email: str) -> tuple[httpx.AsyncClient, str]:
    client = browsers()
    answer = await client.post("/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return client, answer.json()["csrf_token"]


async def token_of(owner: tuple[httpx.AsyncClient, str], **scope: str) -> dict[str, str]:
    client, csrf = owner
    made = await client.post(
        "/auth/tokens", json={"name": "matrix", **scope}, headers={CSRF_HEADER: csrf}
    )
    assert made.status_code == 201, made.text
    return {"id": made.json()["id"], "Authorization": f"Bearer {made.json()['token']}"}


@dataclass
class World:
    ours: str
    theirs: str
    values: dict[str, str]
    callers: list[Caller]


async def world(api: httpx.AsyncClient, browsers: Browser) -> World:
    """Missions A and B, A's four roles, B's coordinator, the callers, an application of A
    assigned to A's reviewer, a host of A's matchmaking, and every email they cause sent: from
    then on nothing changes on its own."""
    ours, theirs = await started(api), await started(api)
    people = {
        OWNER: Role.OWNER,
        "cora@example.org": Role.COORDINATOR,
        "rita@example.org": Role.REVIEWER,
        "vera@example.org": Role.VIEWER,
    }
    ids = {email: (await person(api, email, email.split("@")[0].title()))["id"] for email in people}
    for email, role in people.items():
        await member(api, ours, email, role.value)
    await person(api, "bob@example.org", "Bob")
    await member(api, theirs, "bob@example.org", "coordinator")
    await member(api, theirs, OWNER, "viewer")
    applied = await api.post(
        f"/missions/{ours}/applications", json=APPLICATION, headers={"Authorization": ""}
    )
    assert applied.status_code == 201, applied.text
    application = applied.json()["application_id"]
    assigned = await api.post(
        f"/missions/{ours}/review-assignments",
        json={"application_id": application, "person_id": ids["rita@example.org"]},
    )
    assert assigned.status_code == 201, assigned.text
    host = {"name": "Boston Nanofab", "country": "US", "sector": "Advanced materials"}
    loaded = await api.post(
        f"/missions/{ours}/hosts",
        json=[{**host, "contact_name": "Hope Host", "contact_email": "hope@nanofab.example.com"}],
    )
    assert loaded.status_code == 200, loaded.text

    sessions = {email: await session_of(browsers, email) for email in [*people, "bob@example.org"]}
    as_viewer = await token_of(sessions[OWNER], role="viewer")
    as_reviewer = await token_of(sessions[OWNER], role="reviewer")
    elsewhere = await token_of(sessions[OWNER], mission_id=theirs)
    coordinator_token = await token_of(sessions["cora@example.org"])
    revoked = await token_of(sessions["cora@example.org"])
    client, csrf = sessions["cora@example.org"]
    gone = await client.delete(f"/auth/tokens/{revoked['id']}", headers={CSRF_HEADER: csrf})
    assert gone.status_code == 204, gone.text
    forgetful, _ = await session_of(browsers, "cora@example.org")

    def role(*roles: Role) -> frozenset[Action]:
        return allowed_actions(roles)

    def by_token(name: str, token: dict[str, str], **caller: Any) -> Caller:
        return Caller(name, browsers(), headers={"Authorization": token["Authorization"]}, **caller)

    def by_session(name: str, email: str, actions: frozenset[Action] | None) -> Caller:
        client, csrf = sessions[email]
        assigned = email == "rita@example.org"
        return Caller(name, client, actions, person=email, csrf=csrf, assigned=assigned)

    coordinator = role(Role.COORDINATOR)
    callers = [  # the first has no credentials: the public routes are asked by it alone
        Caller("no credentials", browsers(), credentials=False),
        by_token("a revoked token", revoked, credentials=False, refused_with=401),
        by_token(
            "a foreign token", {"Authorization": "Bearer x"}, credentials=False, refused_with=403
        ),
        Caller("administrator", api, role(), admin=True),
        *(by_session(f"{r.value} (session)", email, role(r)) for email, r in people.items()),
        by_session("B's coordinator", "bob@example.org", None),
        Caller(
            "session without CSRF",
            forgetful,
            coordinator,
            person="cora@example.org",
            forgets_csrf=True,
        ),
        by_token(
            "coordinator's token", coordinator_token, actions=coordinator, person="cora@example.org"
        ),
        by_token(
            "owner's token as viewer",
            as_viewer,
            actions=role(Role.OWNER, Role.VIEWER),
            person=OWNER,
        ),
        by_token(
            "owner's token as reviewer",
            as_reviewer,
            actions=role(Role.OWNER, Role.REVIEWER),
            person=OWNER,
        ),
        by_token("owner's token for B", elsewhere, actions=None, person=OWNER),
    ]

    async def settled() -> list[dict[str, Any]]:
        emails = []
        for mission_id in (ours, theirs):
            page = (await api.get(f"/missions/{mission_id}/emails")).json()
            assert page["total"] >= 2, "the invitations are queued"
            # Sent, not failed: a failed email is tried again, which would change its row.
            assert {e["status"] for e in page["emails"]} == {"sent"}, page
            emails.append(page["emails"])
        return emails[0]

    sent = await eventually(settled, within=30)
    values = {
        "mission_id": ours,
        "application_id": application,
        "participant_id": loaded.json()["hosts"][0]["id"],
        "other_id": application,
        "colleague_id": str(uuid.uuid4()),
        "person_id": ids["rita@example.org"],
        "token_id": as_viewer["id"],
        "visit_id": "berlin",
        "meeting_id": str(uuid.uuid4()),
        "action": "accept",
        "email_id": sent[0]["id"],
    }
    return World(ours, theirs, values, callers)


def filled(template: str, values: dict[str, str]) -> str:
    try:
        return template.format(**values)
    except KeyError as missing:
        raise AssertionError(
            f"{template}: no value for the path parameter {missing}; add one to World.values"
        ) from None


def body(send: Send, values: dict[str, str]) -> dict[str, Any]:
    """`send` with "{application_id}" and the like in a JSON body replaced by their values."""
    if "json" not in send or not isinstance(send["json"], dict):
        return dict(send)
    json = {k: filled(v, values) if isinstance(v, str) else v for k, v in send["json"].items()}
    return {**send, "json": json}


async def call(
    caller: Caller, method: str, template: str, send: Send, values: dict[str, str]
) -> httpx.Response:
    headers = dict(caller.headers)
    if caller.csrf and method not in SAFE_METHODS:
        headers[CSRF_HEADER] = caller.csrf
    kwargs = body(send, values)
    headers.update(kwargs.pop("headers", {}))
    return await caller.client.request(
        method, filled(template, values), headers=headers, follow_redirects=False, **kwargs
    )


Rows = tuple[tuple[str, ...], list[tuple[str, ...]]]
"""A table's column names and its rows (each value's repr), sorted."""


async def snapshot(engine: AsyncEngine, client: Any, missions: list[str]) -> dict[str, Rows]:
    """Every row of every table, and each mission's workflow status as a row of its own."""
    metadata = MetaData()
    state: dict[str, Rows] = {}
    async with engine.connect() as connection:
        await connection.run_sync(metadata.reflect)
        for table in metadata.sorted_tables:
            skip = UNSTABLE_COLUMNS.get(table.name, set())
            columns = [c for c in table.columns if c.name not in skip]
            rows = (await connection.execute(select(*columns))).all()
            values = sorted(tuple(repr(value) for value in row) for row in rows)
            state[f"table {table.name}"] = (tuple(c.name for c in columns), values)
    for mission_id in missions:
        live = (await mission_status(client, mission_id)).model_dump(mode="json")
        row = tuple(repr(value) for value in live.values())
        state[f"workflow of {mission_id}"] = (tuple(live), [row])
    return state


def differences(before: dict[str, Rows], after: dict[str, Rows], *, but: str = "") -> list[str]:
    """What changed from `before` to `after`, but rows holding the value `but`: each changed
    row by its first value (the table's key) and the columns that differ."""
    found = []
    for name, (columns, rows) in before.items():
        gone = {row[0]: row for row in rows if row not in after[name][1] and but not in row}
        new = {row[0]: row for row in after[name][1] if row not in rows and but not in row}
        for key in gone.keys() | new.keys():
            was, now = gone.get(key), new.get(key)
            if was is None or now is None:
                found.append(f"{name}: {'added' if was is None else 'removed'} {key}")
                continue
            changed = {
                c: (a[:80], b[:80]) for c, a, b in zip(columns, was, now, strict=True) if a != b
            }
            found.append(f"{name}: {key} changed {changed}")
    return found


async def test_every_route_answers_every_caller_by_its_rule(
    api: httpx.AsyncClient,
    browsers: Browser,
    engine: AsyncEngine,
    dev_env: WorkflowEnvironment,
    settings: Settings,
    mailbox: Any,
) -> None:
    w = await world(api, browsers)
    routes = checked_routes(settings)
    missions = [w.ours, w.theirs]
    mismatches: list[str] = []
    allowed: list[tuple[Caller, str, str, Rule, Send, int]] = []

    async def check(
        caller: Caller, method: str, template: str, rule: Rule, send: Send, want: int
    ) -> httpx.Response:
        answer = await call(caller, method, template, send, w.values)
        if not answered(answer, want, rule):
            told = {ALLOWED: "let through", PUBLIC: "public"}.get(want, want)
            mismatches.append(
                f"{method} {template} by {caller.name}: {answer.status_code}, expected "
                f"{told}: {answer.text[:160]!r}"
            )
        return answer

    async def as_unknown(
        caller: Caller, method: str, template: str, send: Send, answer: httpx.Response
    ) -> None:
        """A mission without a role on it answers as one that does not exist."""
        unknown = {**w.values, "mission_id": UNKNOWN}
        none = await call(caller, method, template, send, unknown)
        if (answer.status_code, answer.text.replace(w.ours, UNKNOWN)) != (
            none.status_code,
            none.text,
        ):
            mismatches.append(
                f"{method} {template} by {caller.name}: {answer.status_code} "
                f"{answer.text[:160]!r}, for a mission that does not exist {none.status_code} "
                f"{none.text[:160]!r}"
            )

    before = await snapshot(engine, dev_env.client, missions)
    emails = len(mailbox.messages)
    refused = 0
    for method, template in routes:
        rule = rule_of(method, template)
        assert rule is not None, f"{method} {template} has no rule"
        for caller in w.callers:
            want = expected(rule, method, template, caller, owner=OWNER)
            if want not in (ALLOWED, PUBLIC):
                refused += 1
                answer = await check(caller, method, template, rule, rule.refused, want)
                if want == 404 and rule.kind == Kind.MISSION:
                    await as_unknown(caller, method, template, rule.refused, answer)
                continue
            send = rule.refused if method in SAFE_METHODS else rule.invalid
            # The public is asked once, without credentials; `skip_allowed` says why not.
            if send is not None and (want == ALLOWED or caller is w.callers[0]):
                allowed.append((caller, method, template, rule, send, want))
    changed = differences(before, await snapshot(engine, dev_env.client, missions))
    assert len(mailbox.messages) == emails, "a refused request sent an email"

    for caller, method, template, rule, send, want in allowed:
        await check(caller, method, template, rule, send, want)
    assert len(mailbox.messages) == emails, "an allowed request (read, or invalid) sent an email"
    # A coordinator's export of a person's data (GET .../personal-data/{aid}) is logged.
    exported = repr("personal_data.exported")
    after = await snapshot(engine, dev_env.client, missions)
    changed += [f"allowed: {c}" for c in differences(before, after, but=exported)]

    assert refused > 400 and len(allowed) > 200, "the matrix asks too little to mean much"
    assert not mismatches and not changed, "\n".join(
        [f"{len(mismatches)} answers not by their rule:", *mismatches, *changed]
    )
