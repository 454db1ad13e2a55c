"""The authorisation matrix's table: every route of the app with the rule that guards it, what
to send so that a refusal is seen before anything else and an allowed request changes nothing,
and the answer each kind of caller must get by that rule.

tests/api/test_authorisation_matrix.py checks that this table names exactly the app's routes, so
a route added without a rule fails the suite until it gets one here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from api.identity import SAFE_METHODS
from missionflow.domain.people import Action


class Kind(StrEnum):
    PUBLIC = "public"
    """Anyone, no credentials: `why` says why."""
    SIGNED_IN = "signed in"
    """Any credentials (a person or the administrator); no mission involved."""
    PERSON = "a person"
    """A person's own account: the bootstrap token belongs to no person (403)."""
    OWN_TOKEN = "the token's person"
    """One of the owner's tokens: anyone else is told it does not exist (404)."""
    ADMIN = "administrator only"
    MISSION = "an action on the mission"
    """One of `actions` on the mission in the path: no role there is a 404, a role without
    them a 403."""
    LINK = "applicant's private link (token)"
    """The private link's token, or credentials with one of `actions` on the mission (only
    for an application assigned to oneself, for REVIEW_ASSIGNED); anyone else gets the 404 a
    wrong link gets, so the route tells nothing of what exists."""


Send = Mapping[str, Any]
"""Keyword arguments of httpx's `request` (json=, data=, content=, headers=)."""
NOTHING: Send = {}


@dataclass(frozen=True)
class Rule:
    kind: Kind
    actions: frozenset[Action] = frozenset()
    refused: Send = field(default_factory=dict)
    """What a refused request sends: a body of the right shape where the route checks the
    link only after FastAPI has read the body; else nothing."""
    invalid: Send | None = None
    """What an allowed unsafe request sends: a body refused as invalid, so nothing changes."""
    skip_allowed: str | None = None
    """Why the allowed case of an unsafe route is not sent at all."""
    unreached: str | None = None
    """The 404 every caller gets before the rule is checked, when mission A has nothing the
    route could act on: the refusal is then only that 404, which the route's own tests cover."""
    why: str = ""


def public(why: str, invalid: Send | None = NOTHING, skip: str | None = None) -> Rule:
    return Rule(Kind.PUBLIC, why=why, invalid=invalid, skip_allowed=skip)


def mission(*actions: Action, invalid: Send | None = None, skip: str | None = None) -> Rule:
    return Rule(Kind.MISSION, frozenset(actions), invalid=invalid, skip_allowed=skip)


def link(
    *actions: Action,
    refused: Send = NOTHING,
    invalid: Send | None = None,
    skip: str | None = None,
    unreached: str | None = None,
) -> Rule:
    return Rule(
        Kind.LINK,
        frozenset(actions),
        refused=refused,
        invalid=invalid,
        skip_allowed=skip,
        unreached=unreached,
    )


READ, STEER = Action.READ, Action.STEER
APPLICATIONS = (Action.READ_APPLICATIONS, Action.REVIEW_ASSIGNED)
EMPTY: Send = {"json": {}}
"""Refused as invalid by every route whose body has a required field."""
CHANGES_WITH_ANY_BODY = "no body makes it invalid: it would change the mission"
RESEND = "no body: even a sent email's resend is an Update the workflow takes (refused, 409)"
FORM: Send = {"data": {}}
"""An empty form: each form that is sent one refuses it, at its first field or as a form that
is not from the browser's sign-in page (no pre-session CSRF field)."""
RESPONDENTS_ONLY = "only a delegate's or host's own link opens it: no credentials do"

FRAMEWORK = {
    ("GET", "/openapi.json"): "the OpenAPI document: public by design, it describes the API",
    ("GET", "/docs"): "FastAPI's Swagger page over the public OpenAPI document",
    ("GET", "/docs/oauth2-redirect"): "FastAPI's page for Swagger's OAuth2 flow",
    ("GET", "/redoc"): "FastAPI's ReDoc page over the public OpenAPI document",
}
"""Framework routes the matrix does not send requests to, with why."""
DEVELOPMENT_ONLY_PREFIX = "/dev/mailbox"
"""The development mail sink: served only when no SMTP relay is configured (api.main), never in
a deployment, and not in the app the tests run (mailbox=False)."""

ROUTES: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): public("the orchestrator's probe; says only what is up"),
    ("GET", "/metrics"): public("Prometheus scrapes it; its own optional token (metrics_token)"),
    ("POST", "/auth/sign-in"): public("signing in", invalid=EMPTY),
    ("POST", "/auth/sign-in-link"): public("asking for a one-time sign-in link", invalid=EMPTY),
    ("POST", "/auth/sign-in-link/redeem"): public("signing in with that link", invalid=EMPTY),
    ("POST", "/auth/sign-out"): Rule(Kind.SIGNED_IN, skip_allowed="it would end the session"),
    ("GET", "/auth/me"): Rule(Kind.SIGNED_IN),
    ("POST", "/auth/tokens"): Rule(Kind.PERSON, refused={"json": {"name": "x"}}, invalid=EMPTY),
    ("GET", "/auth/tokens"): Rule(Kind.PERSON),
    ("DELETE", "/auth/tokens/{token_id}"): Rule(
        Kind.OWN_TOKEN, skip_allowed="it would revoke the token"
    ),
    ("POST", "/people"): Rule(Kind.ADMIN, invalid=EMPTY),
    ("GET", "/people"): Rule(Kind.ADMIN),
    ("POST", "/missions"): Rule(Kind.ADMIN, invalid=EMPTY),
    ("GET", "/missions"): Rule(Kind.SIGNED_IN, why="lists only the person's missions"),
    ("GET", "/missions/{mission_id}/members"): mission(READ),
    ("POST", "/missions/{mission_id}/members"): mission(Action.MANAGE_PEOPLE, invalid=EMPTY),
    ("DELETE", "/missions/{mission_id}/members/{person_id}"): mission(
        Action.MANAGE_PEOPLE, skip="it would take the reviewer's role away"
    ),
    ("POST", "/missions/{mission_id}/review-assignments"): mission(STEER, invalid=EMPTY),
    ("GET", "/missions/{mission_id}"): mission(READ),
    ("POST", "/missions/{mission_id}/cancel"): mission(STEER, invalid=EMPTY),
    ("POST", "/missions/{mission_id}/deadline"): mission(STEER, invalid=EMPTY),
    ("POST", "/missions/{mission_id}/applications"): public("applying", invalid=EMPTY),
    ("GET", "/missions/{mission_id}/applications"): mission(*APPLICATIONS),
    ("GET", "/missions/{mission_id}/applications/{application_id}"): link(
        READ, Action.REVIEW_ASSIGNED
    ),
    ("PATCH", "/missions/{mission_id}/applications/{application_id}"): link(
        STEER, invalid={"json": {"sectors": 5}}
    ),
    ("POST", "/missions/{mission_id}/applications/{application_id}/withdraw"): link(
        STEER, invalid={"json": {"delete_my_data": "maybe"}}
    ),
    ("POST", "/missions/{mission_id}/applications/{application_id}/confirm"): link(
        STEER, skip=CHANGES_WITH_ANY_BODY
    ),
    ("POST", "/missions/{mission_id}/applications/{application_id}/decline"): link(
        STEER, skip=CHANGES_WITH_ANY_BODY
    ),
    ("PUT", "/missions/{mission_id}/applications/{application_id}/review"): mission(
        Action.REVIEW_ASSIGNED, invalid=EMPTY
    ),
    ("GET", "/missions/{mission_id}/applications/{application_id}/reviews"): mission(
        Action.READ_APPLICATIONS
    ),
    ("GET", "/missions/{mission_id}/applications/{application_id}/slide"): link(
        READ, Action.REVIEW_ASSIGNED
    ),
    ("GET", "/missions/{mission_id}/applications/{application_id}/data"): link(
        Action.READ_PERSONAL_DATA
    ),
    ("GET", "/missions/{mission_id}/personal-data/{application_id}"): mission(
        Action.READ_PERSONAL_DATA
    ),
    ("DELETE", "/missions/{mission_id}/personal-data/{application_id}"): mission(
        STEER, skip="it would erase the applicant"
    ),
    ("GET", "/missions/{mission_id}/audit"): mission(READ),
    ("POST", "/missions/{mission_id}/invitees"): mission(STEER, invalid=EMPTY),
    ("GET", "/missions/{mission_id}/invitees"): mission(READ),
    ("GET", "/missions/{mission_id}/selection"): mission(READ),
    ("POST", "/missions/{mission_id}/selection/overrides"): mission(STEER, invalid=EMPTY),
    ("POST", "/missions/{mission_id}/selection/approve"): mission(
        STEER, invalid={"json": {"overrides": 5}}
    ),
    ("POST", "/missions/{mission_id}/hosts"): mission(STEER, invalid={"json": {"hosts": 5}}),
    ("GET", "/missions/{mission_id}/hosts"): mission(READ),
    ("GET", "/missions/{mission_id}/participants/{participant_id}"): link(READ),
    ("GET", "/missions/{mission_id}/directory"): link(READ),
    ("PUT", "/missions/{mission_id}/participants/{participant_id}/remote"): mission(
        STEER, invalid=EMPTY
    ),
    ("POST", "/missions/{mission_id}/meeting-requests"): link(
        STEER,
        refused={"json": {"from": "{application_id}", "to": "{application_id}"}},
        invalid=EMPTY,
    ),
    ("POST", "/missions/{mission_id}/meeting-requests/{meeting_id}/{action}"): link(
        STEER,
        invalid=NOTHING,
        # No meeting can be asked for during the call (requests open ten hours later).
        unreached="No such meeting request.",
    ),
    ("POST", "/missions/{mission_id}/check-ins"): mission(STEER, invalid=EMPTY),
    ("GET", "/missions/{mission_id}/check-ins"): mission(READ),
    ("GET", "/missions/{mission_id}/participants/{participant_id}/agenda"): link(READ),
    ("GET", "/missions/{mission_id}/participants/{participant_id}/preferences"): link(READ),
    ("GET", "/missions/{mission_id}/participants/{participant_id}/colleagues"): link(READ),
    ("PUT", "/missions/{mission_id}/participants/{participant_id}/colleagues"): link(
        STEER, refused={"json": {"colleagues": []}}, invalid={"json": {"colleagues": [{}]}}
    ),
    (
        "GET",
        "/missions/{mission_id}/participants/{participant_id}/colleagues/{colleague_id}/agenda",
    ): link(READ),
    (
        "GET",
        "/missions/{mission_id}/participants/{participant_id}/colleagues/{colleague_id}/agenda.ics",
    ): link(READ),
    ("PUT", "/missions/{mission_id}/participants/{participant_id}/preferences/{other_id}"): link(
        STEER, refused={"json": {"mark": "must_meet"}}, invalid={"json": {"mark": "maybe"}}
    ),
    ("DELETE", "/missions/{mission_id}/participants/{participant_id}/preferences/{other_id}"): (
        link(STEER, skip=CHANGES_WITH_ANY_BODY)
    ),
    ("GET", "/missions/{mission_id}/participants/{participant_id}/preference-list"): link(READ),
    ("POST", "/missions/{mission_id}/participants/{participant_id}/preference-list"): link(
        STEER, refused=FORM, invalid={"data": {"mark": "maybe"}}
    ),
    ("GET", "/missions/{mission_id}/agenda"): mission(READ),
    ("GET", "/missions/{mission_id}/participants/{participant_id}/agenda.ics"): link(READ),
    ("POST", "/missions/{mission_id}/meetings/{meeting_id}/attendance"): mission(
        STEER, invalid=EMPTY
    ),
    ("GET", "/missions/{mission_id}/visits"): link(READ),
    ("POST", "/missions/{mission_id}/visits/{visit_id}/registrations"): link(
        STEER, refused={"json": {"application_id": "{application_id}"}}, invalid=EMPTY
    ),
    ("DELETE", "/missions/{mission_id}/visits/{visit_id}/registrations/{application_id}"): link(
        STEER, skip=CHANGES_WITH_ANY_BODY
    ),
    ("GET", "/missions/{mission_id}/visits/{visit_id}/registrations"): mission(READ),
    ("PATCH", "/missions/{mission_id}/visits/{visit_id}"): mission(
        STEER, invalid={"json": {"cancelled": "maybe"}}
    ),
    ("POST", "/missions/{mission_id}/visits/{visit_id}/attendance"): mission(STEER, invalid=EMPTY),
    ("GET", "/missions/{mission_id}/feedback"): link(),
    ("POST", "/missions/{mission_id}/feedback"): link(refused=EMPTY, skip=RESPONDENTS_ONLY),
    ("GET", "/missions/{mission_id}/follow-up"): link(),
    ("POST", "/missions/{mission_id}/follow-up"): link(refused=EMPTY, skip=RESPONDENTS_ONLY),
    ("GET", "/missions/{mission_id}/feedback/responses"): mission(READ),
    ("GET", "/missions/{mission_id}/follow-up/responses"): mission(READ),
    ("GET", "/missions/{mission_id}/meeting-ratings"): mission(READ),
    ("GET", "/missions/{mission_id}/emails"): mission(READ),
    ("POST", "/missions/{mission_id}/emails/{email_id}/resend"): mission(
        STEER,
        skip=RESEND,
    ),
    ("GET", "/missions/{mission_id}/report.html"): mission(READ),
    ("GET", "/missions/{mission_id}/report.pdf"): mission(READ),
    ("GET", "/missions/{mission_id}/report.csv"): mission(READ),
    ("GET", "/missions/{mission_id}/report.json"): mission(READ),
    ("GET", "/missions/{mission_id}/report/article.md"): mission(READ),
    ("GET", "/missions/{mission_id}/apply"): public("the call's application form"),
    ("POST", "/missions/{mission_id}/apply"): public(
        "the call's application form",
        invalid=None,
        skip="the HTML form answers any form with a page; one it takes is an application",
    ),
    ("POST", "/codec/encode"): Rule(Kind.ADMIN, invalid={"json": {"payloads": 5}}),
    ("POST", "/codec/decode"): Rule(Kind.ADMIN, invalid={"json": {"payloads": 5}}),
    ("GET", "/codec/session"): public("ops staff sign a browser in here with the bootstrap token"),
    ("POST", "/codec/session"): public("the same, its form", invalid=FORM),
    ("GET", "/console/sign-in"): public("the console's sign-in form"),
    ("POST", "/console/sign-in"): public("the same, its form", invalid=FORM),
    ("POST", "/console/sign-in/email"): public("asking for a sign-in link", invalid=FORM),
    ("GET", "/console/sign-in/link"): public("the emailed sign-in link's page"),
    ("POST", "/console/sign-in/link"): public("the same, its form", invalid=FORM),
    ("POST", "/console/sign-out"): Rule(Kind.SIGNED_IN, skip_allowed="it would end the session"),
    ("GET", "/console"): Rule(Kind.SIGNED_IN, why="lists only the missions the person may read"),
    ("POST", "/console/missions"): Rule(Kind.ADMIN, invalid=FORM),
    ("POST", "/console/missions/{mission_id}/applications/{application_id}/review"): mission(
        Action.REVIEW_ASSIGNED, invalid=FORM
    ),
    ("POST", "/console/missions/{mission_id}/matchmaking/hosts"): mission(STEER, invalid=FORM),
    ("POST", "/console/missions/{mission_id}/matchmaking/meetings/{meeting_id}/attendance"): (
        mission(STEER, invalid=FORM)
    ),
    ("POST", "/console/missions/{mission_id}/outbox/{email_id}/resend"): mission(
        STEER, skip=RESEND
    ),
    ("POST", "/console/missions/{mission_id}/visits/{visit_id}/attendance"): mission(
        STEER, invalid=FORM
    ),
    ("POST", "/console/missions/{mission_id}/visits/{visit_id}/change"): mission(
        STEER, invalid=FORM
    ),
    ("POST", "/console/missions/{mission_id}/visits/{visit_id}/cancel"): mission(
        STEER, invalid=FORM
    ),
    ("POST", "/console/missions/{mission_id}/check-in"): mission(STEER, invalid=FORM),
    ("POST", "/console/missions/{mission_id}/deadline"): mission(
        STEER, invalid={"data": {"deadline": "soon"}}
    ),
    ("POST", "/console/missions/{mission_id}/cancel"): mission(STEER, invalid=FORM),
}
"""Every route's rule, but the console's mission pages that `console_rule` derives."""

CONSOLE_MISSION = "/console/missions/{mission_id}"
CONSOLE_FORM = "a console form with no entry in ROUTES: none is known to be refused as invalid"


def console_rule(method: str, path: str) -> Rule | None:
    """A console page of one mission, where its rule follows from the path: reading it needs
    READ (its applications: reading them all or one's own assigned), a form needs STEER."""
    if not path.startswith(CONSOLE_MISSION):
        return None
    if method == "GET":
        return mission(*APPLICATIONS) if "/applications" in path else mission(READ)
    if method == "POST":
        return mission(STEER, skip=CONSOLE_FORM)
    return None


def rule_of(method: str, path: str) -> Rule | None:
    return ROUTES.get((method, path)) or console_rule(method, path)


@dataclass
class Caller:
    name: str
    client: httpx.AsyncClient
    actions: frozenset[Action] | None = None
    """On mission A; None: it has no role there."""
    person: str | None = None
    """The person's email; None for the bootstrap token and for no credentials."""
    credentials: bool = True
    refused_with: int | None = None
    """Without credentials: what every route needing them answers (none sent: 401, or the
    console's sign-in page; a revoked personal token: 401; a bearer token that is neither the
    bootstrap one nor a personal one: 403)."""
    admin: bool = False
    csrf: str | None = None
    """Sent with every unsafe request; None for tokens, and for the forgetful session."""
    forgets_csrf: bool = False
    assigned: bool = False
    """Whether A's application is assigned to it for review."""
    headers: dict[str, str] = field(default_factory=dict)


ALLOWED = 0
"""The answer to a request its rule allows: anything but a refusal."""
PUBLIC = 1
"""The answer of a public route: never a 401; a form of its own may still refuse (the console's
sign-in forms check their pre-session CSRF token)."""
SIGN_IN_PAGE = 303
REFUSALS_404 = ("No mission with id", "for this link", "You have no such token")
"""How a 404 that refuses the caller reads, unlike one for a thing that does not exist."""


def expected(rule: Rule, method: str, path: str, caller: Caller, *, owner: str) -> int:
    """The answer `caller` must get by `rule`: a status code, ALLOWED or PUBLIC."""
    if rule.kind == Kind.PUBLIC:
        return PUBLIC
    if not caller.credentials:
        if rule.kind == Kind.LINK:
            return 404
        if caller.refused_with is not None:
            return caller.refused_with
        return SIGN_IN_PAGE if path.startswith("/console") else 401
    if method not in SAFE_METHODS and caller.forgets_csrf:
        return 404 if rule.kind == Kind.LINK else 403
    if rule.kind == Kind.SIGNED_IN:
        return ALLOWED
    if rule.kind == Kind.PERSON:
        return 403 if caller.person is None else ALLOWED
    if rule.kind == Kind.OWN_TOKEN:
        return 403 if caller.person is None else ALLOWED if caller.person == owner else 404
    if rule.kind == Kind.ADMIN:
        return ALLOWED if caller.admin else 403
    if caller.actions is None:
        return 404
    has = caller.actions
    if rule.kind == Kind.LINK and not caller.assigned:
        has -= {Action.REVIEW_ASSIGNED}
    if has & rule.actions:
        return ALLOWED
    return 404 if rule.kind == Kind.LINK else 403


def answered(response: httpx.Response, want: int, rule: Rule) -> bool:
    """Whether `response` is the answer `want` stands for by `rule`; never a server error. A
    404 that refuses must say so: not one for a thing that does not exist."""
    status = response.status_code
    to_sign_in = status == 303 and response.headers.get("location") == "/console/sign-in"
    if status >= 500:
        return False
    if want == PUBLIC:
        return status != 401 and not to_sign_in
    if want == SIGN_IN_PAGE:
        return to_sign_in
    refused_404 = status == 404 and any(text in response.text for text in REFUSALS_404)
    if want == 404:
        return refused_404 or bool(rule.unreached and rule.unreached in response.text)
    if want != ALLOWED:
        return status == want
    return status not in (401, 403) and not refused_404 and not to_sign_in
