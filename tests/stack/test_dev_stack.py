"""`missionflow dev` (what `make run` runs), end to end: a real process, real ports, no mocks.

One stack is started for the module: the Temporal dev server (SQLite file under a temporary
MISSIONFLOW_HOME), the worker, the API and the SMTP sink, all on free loopback ports. The tests
talk to it the way a coordinator and ops staff would: HTTP, the `missionflow` CLI, the `temporal`
CLI and SMTP. The last test stops it with Ctrl-C (SIGINT), checks nothing is left running, starts
it again on the same home and ports, and stops it with SIGTERM.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from dev_stack import (
    MISSIONFLOW,
    TEMPORAL,
    DevStack,
    accepts_connections,
    free_ports,
    still_running,
)

REHEARSAL = Path(__file__).parents[2] / "examples" / "rehearsal.yaml"
CALL_OPEN = "Call open: waiting for the deadline"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    api, temporal, ui, smtp = free_ports(4)
    home = tmp_path_factory.mktemp("dev-stack") / "home"
    dev = DevStack(home=home, api_port=api, temporal_port=temporal, ui_port=ui, smtp_port=smtp)
    try:
        dev.start()
        yield dev
    finally:
        dev.kill()


# --- helpers ------------------------------------------------------------------------------------


def unique_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def rehearsal_yaml(mission_id: str) -> str:
    text = REHEARSAL.read_text()
    assert "\nid: rehearsal\n" in text, "examples/rehearsal.yaml no longer has `id: rehearsal`"
    return text.replace("\nid: rehearsal\n", f"\nid: {mission_id}\n", 1)


def start_mission(dev: DevStack, mission_id: str) -> None:
    with dev.client() as api:
        response = api.post(
            "/missions",
            content=rehearsal_yaml(mission_id),
            headers={"Content-Type": "application/yaml"},
        )
    assert response.status_code == 201, response.text
    assert response.json()["id"] == mission_id
    dev.missions.append(mission_id)


def read_mission(dev: DevStack, mission_id: str) -> dict:
    with dev.client() as api:
        response = api.get(f"/missions/{mission_id}")
    assert response.status_code == 200, response.text
    return response.json()


def assert_call_open(mission: dict) -> None:
    assert mission["phase"] == "call_open", mission
    assert mission["live"] is True, f"Temporal was not asked: {mission}"
    assert (mission["waiting_for"] or "").startswith(CALL_OPEN), mission["waiting_for"]


def run(
    command: list[str | Path], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def temporal_cli(dev: DevStack, *args: str) -> object:
    """`temporal workflow ...` against the stack's server, parsed from its JSON output."""
    address = ["--address", dev.temporal_address, "--namespace", "default"]
    done = run([TEMPORAL, "workflow", *args, *address, "-o", "json"])
    assert done.returncode == 0, f"temporal workflow {args} failed:\n{done.stdout}{done.stderr}"
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:  # some commands print one JSON document per line
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def find_by_mission_id(dev: DevStack, mission_id: str) -> list[str]:
    """Workflow ids from `temporal workflow list --query "MissionId='...'"`.

    Visibility may trail a start by a moment, so an empty answer is asked again for a few seconds.
    """
    give_up = time.monotonic() + 10
    while True:
        listed = temporal_cli(dev, "list", "--query", f"MissionId='{mission_id}'")
        assert isinstance(listed, list), listed
        if listed or time.monotonic() > give_up:
            return [row["execution"]["workflowId"] for row in listed]
        time.sleep(0.3)


def decode_payload(payload: dict) -> object:
    """A search attribute as `temporal ... -o json` prints it: a JSON payload, base64-encoded."""
    encoding = base64.b64decode(payload["metadata"]["encoding"]).decode()
    assert encoding == "json/plain", payload
    return json.loads(base64.b64decode(payload["data"]))


# --- the tests ----------------------------------------------------------------------------------


def test_banner_shows_the_urls_and_the_token(stack: DevStack) -> None:
    banner = stack.output()
    token = stack.token()
    assert len(token) >= 16, "the generated coordinator token is too short"
    expected = {
        "API URL": f"API            {stack.api}",
        "Temporal UI URL": f"Temporal UI    http://127.0.0.1:{stack.ui_port}",
        "mailbox URL": f"{stack.api}/dev/mailbox",
        "coordinator token": f"Coordinator token: {token}",
    }
    for what, text in expected.items():
        assert text in banner, f"the banner lacks the {what} ({text!r}):\n{banner}"


def test_the_parts_run_as_processes_of_their_own(stack: DevStack) -> None:
    """The API stays in `missionflow dev`; the server, the two halves of the worker and the
    mailbox are its children (see `missionflow.stack.dev`)."""
    commands = []
    for pid in stack.children:
        with suppress(FileNotFoundError, ProcessLookupError):
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
    for part in (
        "server start-dev",
        "missionflow.stack.dev worker workflows",
        "missionflow.stack.dev worker activities",
        "missionflow.stack.dev sink",
    ):
        assert sum(part in command for command in commands) == 1, (part, commands)


def test_temporal_ui_answers(stack: DevStack) -> None:
    response = httpx.get(f"http://127.0.0.1:{stack.ui_port}/", timeout=10, follow_redirects=True)
    assert response.status_code == 200, response.text[:500]


def test_api_starts_a_mission_ops_can_find_in_temporal(stack: DevStack) -> None:
    mission_id = unique_id("dev-api")
    start_mission(stack, mission_id)
    assert_call_open(read_mission(stack, mission_id))

    described = temporal_cli(stack, "describe", "-w", f"mission-{mission_id}")
    assert isinstance(described, dict)
    info = described["workflowExecutionInfo"]
    assert info["status"] == "WORKFLOW_EXECUTION_STATUS_RUNNING", info["status"]
    assert info["type"]["name"] == "MissionWorkflow", info["type"]
    fields = info["searchAttributes"]["indexedFields"]
    assert decode_payload(fields["MissionId"]) == mission_id, fields
    assert decode_payload(fields["MissionPhase"]) == "call_open", fields

    assert find_by_mission_id(stack, mission_id) == [f"mission-{mission_id}"]


def test_cli_starts_a_mission_and_shows_its_status(stack: DevStack, tmp_path: Path) -> None:
    mission_id = unique_id("dev-cli")
    mission_file = tmp_path / f"{mission_id}.yaml"
    mission_file.write_text(rehearsal_yaml(mission_id))
    env = stack.env()

    started = run([MISSIONFLOW, "start", mission_file], env)
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"started mission {mission_id} (workflow mission-{mission_id})" in started.stdout
    stack.missions.append(mission_id)

    status = run([MISSIONFLOW, "status", mission_id], env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "phase: call_open" in status.stdout, status.stdout
    assert CALL_OPEN in status.stdout, status.stdout

    again = run([MISSIONFLOW, "start", mission_file], env)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "409" in again.stderr and "already exists" in again.stderr, again.stderr


async def test_smtp_sink_shows_a_message_in_the_mailbox(stack: DevStack) -> None:
    mission_id = unique_id("dev-mail")
    subject = f"Sink check {uuid.uuid4().hex[:8]}"
    message = EmailMessage()
    message["From"] = "missionflow <missions@example.org>"
    message["To"] = "delegate@example.org"
    message["Subject"] = subject
    message["X-Missionflow-Template"] = "test"
    message["X-Missionflow-Mission"] = mission_id
    message.set_content("Caught by the dev sink.\n")
    await aiosmtplib.send(message, hostname="127.0.0.1", port=stack.smtp_port, timeout=10)

    async with httpx.AsyncClient(base_url=stack.api, timeout=10) as api:
        listed = await api.get("/dev/mailbox/messages.json", params={"mission": mission_id})
        page = await api.get("/dev/mailbox")
    assert listed.status_code == 200, listed.text
    caught = listed.json()
    assert [(m["subject"], m["template"], m["mission_id"]) for m in caught] == [
        (subject, "test", mission_id)
    ], caught
    assert caught[0]["recipients"] == ["delegate@example.org"], caught
    assert page.status_code == 200 and subject in page.text, page.text[:500]


def test_ctrl_c_stops_everything_and_a_restart_resumes(stack: DevStack) -> None:
    """Must run last: it stops the module's stack (and leaves it stopped)."""
    mission_id = unique_id("dev-restart")
    start_mission(stack, mission_id)
    token = stack.token()
    assert stack.children, "missionflow dev started no child process (the Temporal dev server?)"

    # Ctrl-C
    began = time.monotonic()
    code = stack.stop(signal.SIGINT)
    stopped_in = time.monotonic() - began
    assert code == 0, f"exit code {code} after SIGINT:\n{stack.output()}"
    assert "missionflow stopped." in stack.output(), stack.output()
    assert not still_running(stack.children), f"children left running: {stack.children}"
    listening = [name for name, port in stack.ports.items() if accepts_connections(port)]
    assert not listening, f"still accepting connections after Ctrl-C: {listening}"

    # The same home and ports again: every mission resumes, the token is kept.
    restarted_in = stack.start()
    assert stack.token() == token, "the coordinator token changed across restarts"
    assert f"Coordinator token: {token}" in stack.output()
    for mission in stack.missions:
        assert_call_open(read_mission(stack, mission))

    code = stack.stop(signal.SIGTERM)
    assert code == 0, f"exit code {code} after SIGTERM:\n{stack.output()}"
    assert "missionflow stopped." in stack.output(), stack.output()
    assert not still_running(stack.children), f"children left running: {stack.children}"
    print(f"stopped in {stopped_in:.1f} s, restarted in {restarted_in:.1f} s")
