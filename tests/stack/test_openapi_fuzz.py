"""Schemathesis over the running API's `/openapi.json`: every operation, with and without
credentials, a bounded number of generated requests each.

The API runs as `missionflow dev` runs it (its own process, the real Temporal dev server, the
database, the SMTP sink). Path ids are those of real missions and applications, so the requests
reach the routes' own checks instead of stopping at a 404; operations that end something
(cancel, withdraw, decline, delete) get a mission of their own, so they do not end the one the
other operations are fuzzed on. With credentials: no server error, and every response whose
status the schema declares matches its declared schema. Without them: every operation that
needs a bearer token or a private link refuses, and nothing answers 2xx.
"""

from __future__ import annotations

import tempfile
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from dev_stack import DevStack, free_ports
from hypothesis import HealthCheck, settings
from pg_cluster import create_database
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from api.main import create_app
from missionflow.runtime.settings import Settings

REHEARSAL = Path(__file__).parents[2] / "examples" / "rehearsal.yaml"
EXAMPLES_PER_OPERATION = 12
ENDINGS = ("/cancel", "/withdraw", "/decline")
REFUSALS = {400, 401, 403, 404, 405, 422}
"""Without credentials: a body that cannot be parsed (400, refused before any route runs),
unknown (401), not allowed (403), not shown to this caller (404), a method the route does not
have (405, schemathesis tries those too), or the private-link header missing (422). Never a 2xx,
and never a 409, which would mean the route weighed the request before asking who sent it."""


@dataclass(frozen=True)
class Mission:
    id: str
    application_id: str
    access_token: str


@dataclass(frozen=True)
class Target:
    stack: DevStack
    steady: Mission
    ending: Mission

    def mission_for(self, case: schemathesis.Case) -> Mission:
        ends = case.method.upper() == "DELETE" or case.path.endswith(ENDINGS)
        return self.ending if ends else self.steady


def _apply(api: httpx.Client, mission_id: str) -> Mission:
    answer = api.post(
        f"/missions/{mission_id}/applications",
        json={
            "organisation": "Fuzz Cluster",
            "organisation_type": "cluster_organisation",
            "country": "DE",
            "city": "Munich",
            "website": "https://fuzz.example.org",
            "contact_name": "Fuzz Applicant",
            "contact_email": f"{mission_id}@example.org",
            "sectors": ["Advanced materials"],
            "answers": {"member_organisations": 12, "management_label": "Gold"},
            "consent": True,
        },
        headers={"Authorization": ""},
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    return Mission(mission_id, created["application_id"], created["access_token"])


def _start(api: httpx.Client) -> Mission:
    mission_id = f"fuzz-{uuid.uuid4().hex[:10]}"
    text = REHEARSAL.read_text().replace("\nid: rehearsal\n", f"\nid: {mission_id}\n", 1)
    started = api.post("/missions", content=text, headers={"Content-Type": "application/yaml"})
    assert started.status_code == 201, started.text
    return _apply(api, mission_id)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """The stack on SQLite, as `make run` starts it, and on PostgreSQL, as deployed (which
    refuses some strings SQLite stores, such as a NUL character)."""
    database = None
    if request.param == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        database = create_database(cluster, f"fuzz_{uuid.uuid4().hex[:12]}")
    api_port, temporal, ui, smtp = free_ports(4)
    home = tmp_path_factory.mktemp("fuzz-stack") / "home"
    dev = DevStack(
        home=home,
        api_port=api_port,
        temporal_port=temporal,
        ui_port=ui,
        smtp_port=smtp,
        database_url=database,
    )
    try:
        dev.start()
        with dev.client() as api:
            yield Target(dev, steady=_start(api), ending=_start(api))
    finally:
        dev.kill()


def _document() -> dict[str, Any]:
    """The OpenAPI document of this code, read at collection, when no server runs yet; the
    first test checks the running API (`missionflow dev`, with its mailbox) serves the same one."""
    with tempfile.TemporaryDirectory() as home:
        return create_app(Settings(home=Path(home)), mailbox=True).openapi()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_running_api_serves_the_document_fuzzed(target: Target) -> None:
    served = httpx.get(f"{target.stack.api}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


def _aimed(case: schemathesis.Case, mission: Mission) -> None:
    """Real ids in the path for three requests in four, so most get past "no such mission";
    the fourth keeps the generated ones (which of them is fixed by the generated value)."""
    ids = {"mission_id": mission.id, "application_id": mission.application_id}
    for name, value in ids.items():
        if case.path_parameters and name in case.path_parameters:
            generated = str(case.path_parameters[name])
            if zlib.crc32(generated.encode()) % 4:
                case.path_parameters[name] = value


def _needs_credentials(case: schemathesis.Case) -> bool:
    definition = case.operation.definition.raw
    headers = {p["name"].lower() for p in definition.get("parameters", []) if p["in"] == "header"}
    return bool(definition.get("security")) or "x-access-token" in headers


FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ
def test_with_credentials_no_server_error_and_the_declared_schema(
    case: schemathesis.Case, target: Target
) -> None:
    mission = target.mission_for(case)
    _aimed(case, mission)
    case.headers = {
        **(case.headers or {}),
        "Authorization": f"Bearer {target.stack.token()}",
        "X-Access-Token": mission.access_token,
    }
    case.call_and_validate(
        base_url=target.stack.api,
        timeout=60,
        checks=[
            not_a_server_error,
            response_schema_conformance,
            content_type_conformance,
        ],
    )


WRONG = {"Authorization": "Bearer not-the-token", "X-Access-Token": "not-the-link"}


@schema.parametrize()
@FUZZ
def test_without_credentials_nothing_is_served(case: schemathesis.Case, target: Target) -> None:
    """Sent twice: with no credentials at all, and with a wrong bearer token and private link."""
    mission = target.mission_for(case)
    _aimed(case, mission)
    bare = {
        name: value
        for name, value in (case.headers or {}).items()
        if name.lower() not in {"authorization", "x-access-token", "cookie"}
    }
    if case.query:
        case.query = {name: value for name, value in case.query.items() if name != "token"}
    for headers in (bare, bare | WRONG):
        case.headers = headers
        response = case.call(base_url=target.stack.api, timeout=60)
        assert response.status_code < 500, response.text
        if _needs_credentials(case):
            assert response.status_code in REFUSALS, (
                f"{case.method} {case.formatted_path} with {sorted(headers)} answered "
                f"{response.status_code}: {response.text[:300]}"
            )
