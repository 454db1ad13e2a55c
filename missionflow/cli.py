"""The `missionflow` command: run the stack or its parts, and start and inspect missions.

`start` and `status` talk to the API (at MISSIONFLOW_PUBLIC_URL, with the coordinator token), so
they work the same against the embedded stack and a remote deployment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
import uvicorn

from missionflow.runtime import event_loop
from missionflow.runtime.logs import configure_logging, uvicorn_log_config
from missionflow.runtime.settings import Settings
from missionflow.stack.worker_role import WorkerRole

app = typer.Typer(
    help="Run international trade missions end to end on Temporal.", no_args_is_help=True
)


@app.command()
def dev() -> None:
    """The whole embedded stack: Temporal dev server, worker, API and SMTP sink (`make run`)."""
    from missionflow.stack.dev import run_dev_stack

    settings = load_settings()
    configure_logging(settings)
    try:
        event_loop.run(run_dev_stack(settings))
    except RuntimeError as error:
        typer.echo(f"missionflow: {error}", err=True)
        raise typer.Exit(1) from None


@app.command()
def worker(
    role: Annotated[
        WorkerRole,
        typer.Option(
            help="Run the workflows and the activities, or one of them: two processes, one "
            "with each, keep every Update's workflow task clear of the activities' work."
        ),
    ] = WorkerRole.ALL,
) -> None:
    """A Temporal worker for missions, against MISSIONFLOW_TEMPORAL_ADDRESS; with
    MISSIONFLOW_METRICS_PORT, Temporal's SDK metrics for Prometheus on that port."""
    settings = load_settings()
    configure_logging(settings)
    event_loop.run(_run_worker(settings, role))


async def _run_worker(settings: Settings, role: WorkerRole) -> None:
    from missionflow.runtime.db import create_engine
    from missionflow.runtime.temporal import connect, worker_runtime
    from missionflow.stack.worker import build_worker

    runtime = worker_runtime(settings, metrics_port=settings.metrics_port)
    client = await connect(settings, runtime=runtime)
    engine = create_engine(settings.database)
    try:
        typer.echo(
            f"worker ({role}) polling task queue {settings.task_queue!r} on "
            f"{settings.temporal_target}"
        )
        if settings.metrics_port is not None:
            typer.echo(
                f"Temporal SDK metrics on http://{settings.metrics_host}:{settings.metrics_port}"
                "/metrics"
            )
        await build_worker(
            client, task_queue=settings.task_queue, engine=engine, settings=settings, role=role
        ).run()
    finally:
        await engine.dispose()


@app.command()
def api() -> None:
    """The HTTP API alone, against MISSIONFLOW_TEMPORAL_ADDRESS and MISSIONFLOW_DATABASE_URL."""
    from api.main import create_app

    settings = load_settings()
    configure_logging(settings)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=uvicorn_log_config(settings),
    )


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest migration."""
    from missionflow.runtime.db import migrate as run_migrations

    settings = load_settings()
    run_migrations(settings.database)
    typer.echo("database schema is up to date")


@app.command()
def start(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Start the mission described in FILE (YAML or JSON)."""
    content_type = "application/json" if file.suffix.lower() == ".json" else "application/yaml"
    response = _request(
        "POST", "/missions", content=file.read_bytes(), headers={"Content-Type": content_type}
    )
    created = response.json()
    typer.echo(f"started mission {created['id']} (workflow {created['workflow_id']})")


@app.command()
def status(mission_id: str) -> None:
    """Show a mission's phase, what it waits for and its key instants."""
    mission = _request("GET", f"/missions/{mission_id}").json()
    typer.echo(f"{mission['title']} [{mission['id']}]")
    typer.echo(f"phase: {mission['phase']}")
    if mission["waiting_for"]:
        typer.echo(mission["waiting_for"])
    for instant in mission["instants"]:
        typer.echo(f"  {instant['label']:<45} {instant['text']}")


@app.command()
def schedule(
    instance: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, metavar="INSTANCE.json"),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, metavar="SCHEDULE.json"),
    ] = None,
) -> None:
    """Place the meetings of INSTANCE.json into slots and tables (docs/matchmaking-scheduler.md);
    the schedule goes to stdout or -o, a summary to stderr; exit 2 if refused."""
    from pydantic import ValidationError

    from missionflow.domain.matchmaking import checks, result, scheduling
    from missionflow.domain.matchmaking.instance import Instance

    try:
        parsed = Instance.model_validate_json(instance.read_bytes())
    except ValidationError as error:
        _refuse(
            [
                f"{'.'.join(str(p) for p in item['loc']) or instance.name}: {item['msg']}"
                for item in error.errors(include_url=False)
            ]
        )
    if found := checks.problems(parsed):
        _refuse(found)
    produced = scheduling.schedule(parsed)
    document = produced.model_dump_json(indent=2) + "\n"
    if output is None:
        typer.echo(document, nl=False)
    else:
        output.write_text(document, encoding="utf-8")
    typer.echo(result.summary(produced), err=True)


@app.command()
def simulate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    applicants: Annotated[int, typer.Option(min=1, max=5000, help="Synthetic applicants.")] = 100,
    seed: Annotated[int, typer.Option(help="The same seed plays the same mission.")] = 2017,
    out: Annotated[
        Path | None,
        typer.Option(file_okay=False, help="Output folder; default ./simulation-<mission id>."),
    ] = None,
    as_written: Annotated[
        bool,
        typer.Option(
            "--as-written",
            help="Leave out the preference lists, request expiry and nudges that a matchmaking "
            "event setting none of them is simulated with.",
        ),
    ] = False,
) -> None:
    """Run the mission in FILE end to end on Temporal's time-skipping test server with synthetic
    people; progress on stderr, the summary on stdout, the report and every email in --out."""
    from missionflow.simulation.output import describe
    from missionflow.simulation.simulate import run
    from missionflow.simulation.stack import SimulationError

    try:
        summary = event_loop.run(
            run(file, applicants=applicants, seed=seed, out=out, as_written=as_written)
        )
    except SimulationError as error:
        typer.echo(f"missionflow: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(describe(summary))


people = typer.Typer(
    help="Coordinators' accounts (docs/people-and-roles.md).", no_args_is_help=True
)
app.add_typer(people, name="people")


@people.command("add")
def add_person(
    email: Annotated[str, typer.Option(help="Their sign-in email.")],
    name: Annotated[str, typer.Option(help="Their name, as the audit log shows it.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="MISSIONFLOW_NEW_PASSWORD",
            help="At least 12 characters; asked for when not given.",
        ),
    ],
    admin: Annotated[bool, typer.Option("--admin", help="Administers every mission.")] = False,
) -> None:
    """Create a person's account through the API, with the bootstrap token: the first
    administrator is made so."""
    body = {"email": email, "display_name": name, "password": password, "is_admin": admin}
    created = _request("POST", "/people", json=body).json()
    typer.echo(f"created {created['email']} ({created['id']}){' as administrator' * admin}")


def load_settings() -> Settings:
    """The settings from the environment; refused, each setting at fault named (never its
    value: it may be a key or a password) and exit status 2, rather than a traceback."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as error:
        typer.echo("missionflow: the settings are refused:", err=True)
        for item in error.errors(include_url=False, include_input=False):
            message = item["msg"].removeprefix("Value error, ")
            if item["loc"] and not message.startswith("MISSIONFLOW_"):
                message = f"MISSIONFLOW_{str(item['loc'][0]).upper()}: {message}"
            typer.echo(f"  {message}", err=True)
        raise typer.Exit(2) from None


def _refuse(reasons: list[str]) -> NoReturn:
    typer.echo("missionflow: the instance is refused:", err=True)
    for line in reasons:
        typer.echo(f"  {line}", err=True)
    raise typer.Exit(2)


def _request(method: str, path: str, **options: Any) -> httpx.Response:
    settings = load_settings()
    headers = {
        "Authorization": f"Bearer {settings.coordinator_token()}",
        **options.pop("headers", {}),
    }
    try:
        response = httpx.request(
            method, settings.base_url + path, headers=headers, timeout=30, **options
        )
    except httpx.HTTPError as error:
        typer.echo(f"cannot reach the API at {settings.base_url}: {error}", err=True)
        raise typer.Exit(1) from None
    if response.is_error:
        typer.echo(f"{response.status_code}: {_explain(response)}", err=True)
        raise typer.Exit(1)
    return response


def _explain(response: httpx.Response) -> str:
    try:
        detail = response.json()["detail"]
    except (ValueError, KeyError):
        return response.text
    if isinstance(detail, list):
        return "\n".join(
            f"  {'.'.join(str(p) for p in item['loc'][1:])}: {item['msg']}" for item in detail
        ).join(["refused:\n", ""])
    return json.dumps(detail) if not isinstance(detail, str) else detail
