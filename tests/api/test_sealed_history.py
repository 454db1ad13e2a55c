"""No applicant's personal data in plain text in Temporal: a mission's raw history, read by a
client that holds no key, shows neither the applicant's name, nor email, nor answers; opened with
the key, the same history holds every one of them (so the search could have found them)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from support import eventually, payloads_in, rehearsal, sealed_converter
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from missionflow.runtime.codec import ENCODING, KEY_ID

NAME = "Zofia Quellbrunn-Okonkwo"
EMAIL = "zofia.quellbrunn@sealed-history.example"
ORGANISATION = "Quellbrunn Graphene Membranes Cluster"
OBJECTIVES = "Meet Ohio membrane makers about graphene desalination pilots"
AMENDED = "Also scout Boston for a quellbrunn test site"
PERSONAL = (NAME, EMAIL, ORGANISATION, OBJECTIVES, AMENDED)


def application() -> dict[str, Any]:
    return {
        "organisation": ORGANISATION,
        "organisation_type": "cluster_organisation",
        "country": "PL",
        "city": "Gdańsk",
        "contact_name": NAME,
        "contact_email": EMAIL,
        "sectors": ["Advanced materials"],
        "answers": {"member_organisations": 42, "mission_objectives": OBJECTIVES},
        "consent": True,
    }


async def raw_history(env: WorkflowEnvironment, workflow_id: str) -> History:
    """The history as the server stores it, through a client with the SDK's default converter:
    no codec, no key."""
    keyless = Client(env.client.service_client, namespace=env.client.namespace)
    history = await keyless.get_workflow_handle(workflow_id).fetch_history()
    return History(events=history.events)


async def test_history_holds_no_applicant_data_in_plain_text(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, mailbox
) -> None:
    mission = rehearsal()
    assert (await api.post("/missions", json=mission)).status_code == 201
    path = f"/missions/{mission['id']}/applications"
    applied = await api.post(path, json=application(), headers={"Authorization": ""})
    assert applied.status_code == 201, applied.text
    aid = applied.json()["application_id"]
    amended = await api.patch(
        f"{path}/{aid}", json={"answers": {"mission_objectives": AMENDED}}
    )  # the coordinator's amendment: an Update, and an activity's input
    assert amended.status_code == 200, amended.text

    async def told() -> None:  # the confirmation composed and sent: every activity has run
        assert mailbox.sent("application_received", EMAIL)

    await eventually(told)
    shown = await api.get(f"{path}/{aid}")  # the workflow's query answers in the clear
    assert shown.status_code == 200 and shown.json()["contact_email"] == EMAIL

    workflow_id = f"mission-{mission['id']}"
    history = await raw_history(dev_env, workflow_id)
    stored = history.SerializeToString()
    as_json = await dev_env.client.get_workflow_handle(workflow_id).fetch_history()
    for text in PERSONAL:
        assert text.encode() not in stored, f"{text!r} lies in the history in plain text"
        assert text not in as_json.to_json(), f"{text!r} shows in the history's JSON"

    payloads = list(payloads_in(history))
    assert len(payloads) > 10, "the walk found the history's payloads"
    sealed = [p for p in payloads if p.metadata["encoding"] == ENCODING]
    assert {p.metadata[KEY_ID] for p in sealed} == {b"tests-1"}
    for unsealed in (p for p in payloads if p not in sealed):
        # The SDK core's own bookkeeping of a local activity (its type, sequence and times)
        # goes into the marker beside the sealed result, never through a codec.
        assert set(json.loads(unsealed.data)) >= {"seq", "activity_type"}, unsealed

    # The counter-check: the same bytes, opened with the key, hold every one of them.
    codec = sealed_converter().payload_codec
    assert codec is not None
    opened = b"".join(p.SerializeToString() for p in await codec.decode(payloads))
    for text in PERSONAL:
        assert text.encode() in opened, f"{text!r} never reached Temporal: the check proves nothing"
    await dev_env.client.get_workflow_handle(workflow_id).terminate("test over")
