"""Every route × every kind of caller, on the real dev server and both databases (issue 19): no
credentials, the administrator, each role of mission A by a signed-in session, a coordinator of
mission B only, personal tokens narrowed by role or to another mission, and a session that
forgets its CSRF token. Each gets the answer its rule (tests/api/authorisation_routes.py) says:
401 (or the console's 303 to its sign-in page), 403 or 404 when refused, and when allowed
anything but those. The refused requests, all of them, change no row of any table, no mission's
workflow state and send no email.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from authorisation_routes import (
    DEVELOPMENT_ONLY_PREFIX,
    FRAMEWORK,
    ROUTES,
    Kind,
    Rule,
    Send,
    console_rule,
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

ALLOWED = 0
"""The expected answer of a request its rule allows: anything but a refusal."""
SIGN_IN_PAGE = 303
PUBLIC = 1
"""The expected answer of a public route: no credentials needed (never a 401); a form of its
own may still refuse (the console's sign-in forms check their pre-session CSRF token)."""
REFUSALS_404 = ("No mission with id", "for this link", "You have no such token")
"""How a 404 that refuses the caller reads, unlike one for a thing that does not exist."""
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


def test_the_table_names_exactly_the_apps_routes(settings: Settings) -> None:
    served = {
        route
        for route in app_routes(settings)
        if route not in FRAMEWORK and not route[1].startswith(DEVELOPMENT_ONLY_PREFIX)
    }
    unruled = sorted(route for route in served if rule_of(*route) is None)
    assert not unruled, (
        f"routes without a rule: {unruled}. Add each to ROUTES in "
        "tests/api/authorisation_routes.py with who may call it."
    )
    stale = sorted(set(ROUTES) - served)
    assert not stale, f"ROUTES names routes the app no longer serves: {stale}"
    assert console_rule("GET", "/console/missions/{mission_id}/applications") is not None


@dataclass
class Caller:
    name: str
    client: httpx.AsyncClient
    actions: frozenset[Action] | None = None
    """On mission A; None: it has no role there."""
    signed_in: bool = True
    admin: bool = False
    person: str | None = None
    csrf: str | None = None
    """Sent with every unsafe request; None for tokens, and for the forgetful session."""
    forgets_csrf: bool = False
    assigned: bool = False
    """Whether A's application is assigned to it for review."""
    headers: dict[str, str] = field(default_factory=dict)


def expected(rule: Rule, method: str, path: str, caller: Caller) -> int:
    """The answer `caller` must get, or ALLOWED."""
    if rule.kind == Kind.PUBLIC:
        return PUBLIC
    if not caller.signed_in:
        if rule.kind == Kind.LINK:
            return 404
        return SIGN_IN_PAGE if path.startswith("/console") else 401
    if method not in SAFE_METHODS and caller.forgets_csrf:
        return 404 if rule.kind == Kind.LINK else 403
    if rule.kind == Kind.SIGNED_IN:
        return ALLOWED
    if rule.kind == Kind.PERSON:
        return 403 if caller.person is None else ALLOWED
    if rule.kind == Kind.OWN_TOKEN:
        return 403 if caller.person is None else ALLOWED if caller.person == OWNER else 404
    if rule.kind == Kind.ADMIN:
        return ALLOWED if caller.admin else 403
    has = caller.actions or frozenset()
    if rule.kind == Kind.LINK and not caller.assigned:
        has -= {Action.REVIEW_ASSIGNED}
    if rule.kind == Kind.MISSION and caller.actions is None:
        return 404
    if has & rule.actions:
        return ALLOWED
    return 404 if rule.kind == Kind.LINK else 403


def answered(status: int, response: httpx.Response, want: int) -> bool:
    if status >= 500:
        return False
    if want == PUBLIC:
        return status != 401
    if want == SIGN_IN_PAGE:
        return status == 303 and response.headers.get("location") == "/console/sign-in"
    if want != ALLOWED:
        return status == want
    refused_404 = status == 404 and any(text in response.text for text in REFUSALS_404)
    to_sign_in = status == 303 and response.headers.get("location") == "/console/sign-in"
    return status not in (401, 403) and not refused_404 and not to_sign_in


OWNER = "olga@example.org"


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
    document = later(rehearsal())
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
    """Missions A and B, A's four roles, B's coordinator, tokens, an application of A assigned
    to A's reviewer, and every email they cause sent."""
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

    sessions = {email: await session_of(browsers, email) for email in [*people, "bob@example.org"]}
    as_viewer = await token_of(sessions[OWNER], role="viewer")
    as_reviewer = await token_of(sessions[OWNER], role="reviewer")
    elsewhere = await token_of(sessions[OWNER], mission_id=theirs)
    coordinator_token = await token_of(sessions["cora@example.org"])
    forgetful, _ = await session_of(browsers, "cora@example.org")

    def role(*roles: Role) -> frozenset[Action]:
        return allowed_actions(roles)

    def bearer(token: dict[str, str]) -> dict[str, str]:
        return {"Authorization": token["Authorization"]}

    callers = [
        Caller("no credentials", browsers(), signed_in=False),
        Caller("administrator", api, role(), admin=True),
        *(
            Caller(
                f"{r.value} (session)",
                sessions[email][0],
                role(r),
                person=email,
                csrf=sessions[email][1],
                assigned=r == Role.REVIEWER,
            )
            for email, r in people.items()
        ),
        Caller(
            "B's coordinator",
            sessions["bob@example.org"][0],
            None,
            person="bob@example.org",
            csrf=sessions["bob@example.org"][1],
        ),
        Caller(
            "session without CSRF",
            forgetful,
            role(Role.COORDINATOR),
            person="cora@example.org",
            forgets_csrf=True,
        ),
        Caller(
            "coordinator's token",
            browsers(),
            role(Role.COORDINATOR),
            person="cora@example.org",
            headers=bearer(coordinator_token),
        ),
        Caller(
            "owner's token as viewer",
            browsers(),
            role(Role.OWNER, Role.VIEWER),
            person=OWNER,
            headers=bearer(as_viewer),
        ),
        Caller(
            "owner's token as reviewer",
            browsers(),
            role(Role.OWNER, Role.REVIEWER),
            person=OWNER,
            headers=bearer(as_reviewer),
        ),
        Caller("owner's token for B", browsers(), None, person=OWNER, headers=bearer(elsewhere)),
    ]
    values = {
        "mission_id": ours,
        "application_id": application,
        "participant_id": application,
        "person_id": ids["rita@example.org"],
        "token_id": as_viewer["id"],
        "visit_id": "berlin",
        "meeting_id": str(uuid.uuid4()),
        "action": "accept",
        "email_id": str(uuid.uuid4()),
    }

    async def settled() -> None:
        for mission_id in (ours, theirs):
            page = (await api.get(f"/missions/{mission_id}/emails")).json()
            assert page["total"] >= 2, "the invitations are queued"
            assert {e["status"] for e in page["emails"]} <= {"sent", "failed"}, page

    await eventually(settled, within=30)
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


async def snapshot(engine: AsyncEngine, client: Any, missions: list[str]) -> dict[str, Any]:
    """Every row of every table, sorted, and each mission's workflow status."""
    metadata = MetaData()
    async with engine.connect() as connection:
        await connection.run_sync(metadata.reflect)
        tables: dict[str, Any] = {}
        for table in metadata.sorted_tables:
            skip = UNSTABLE_COLUMNS.get(table.name, set())
            columns = [c for c in table.columns if c.name not in skip]
            rows = (await connection.execute(select(*columns))).all()
            tables[table.name] = sorted(repr(tuple(row)) for row in rows)
    live = {m: (await mission_status(client, m)).model_dump(mode="json") for m in missions}
    return {"tables": tables, "workflows": live}


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    found = []
    for name, rows in before["tables"].items():
        if after["tables"].get(name) != rows:
            gone = set(rows) - set(after["tables"].get(name, []))
            new = set(after["tables"].get(name, [])) - set(rows)
            found.append(f"table {name}: gone {sorted(gone)[:3]}, new {sorted(new)[:3]}")
    found += [
        f"workflow of {m} changed"
        for m in before["workflows"]
        if before["workflows"][m] != after["workflows"][m]
    ]
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
    routes = sorted(
        route
        for route in app_routes(settings)
        if route not in FRAMEWORK and not route[1].startswith(DEVELOPMENT_ONLY_PREFIX)
    )
    mismatches: list[str] = []
    allowed: list[tuple[Caller, str, str, Rule]] = []
    before = await snapshot(engine, dev_env.client, [w.ours, w.theirs])
    sent_before = len(mailbox.messages)
    refused = 0
    for method, template in routes:
        rule = rule_of(method, template)
        assert rule is not None, f"{method} {template} has no rule"
        for caller in w.callers:
            want = expected(rule, method, template, caller)
            if want in (ALLOWED, PUBLIC):
                allowed.append((caller, method, template, rule))
                continue
            refused += 1
            answer = await call(caller, method, template, rule.refused, w.values)
            if not answered(answer.status_code, answer, want):
                mismatches.append(
                    f"{method} {template} by {caller.name}: {answer.status_code} "
                    f"(expected {want}) {answer.text[:160]!r}"
                )
    after = await snapshot(engine, dev_env.client, [w.ours, w.theirs])
    changed = differences(before, after)
    assert len(mailbox.messages) == sent_before, "a refused request sent an email"

    skipped: set[str] = set()
    for caller, method, template, rule in allowed:
        send: Send | None = rule.refused if method in SAFE_METHODS else rule.invalid
        if rule.kind == Kind.PUBLIC and caller.signed_in:
            continue  # the public is asked once, without credentials
        if send is None:
            skipped.add(f"{method} {template}: {rule.skip_allowed or 'no invalid body'}")
            continue
        answer = await call(caller, method, template, send, w.values)
        want = PUBLIC if rule.kind == Kind.PUBLIC else ALLOWED
        if not answered(answer.status_code, answer, want):
            mismatches.append(
                f"{method} {template} by {caller.name}: {answer.status_code} "
                f"(expected to be let through) {answer.text[:160]!r}"
            )
    assert refused > 300, "the matrix refused too little to mean much"
    assert not mismatches and not changed, "\n".join(
        [f"{len(mismatches)} answers not by their rule:", *mismatches, *changed]
    )
