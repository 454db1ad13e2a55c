"""The production stack as written: docker-compose.yml, Dockerfile and .dockerignore.

No Docker engine runs where the tests run, so these read the files and check the promises in
DESIGN.md ("Production"): Temporal's own images set up on PostgreSQL (never
`temporalio/auto-setup`), pinned tags, health checks and `depends_on` conditions, and the app's
settings pointing at the services of the stack.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

COMMANDS = {
    "migrate": ["missionflow", "migrate"],
    "api": ["missionflow", "api"],
    "workflow-worker": ["missionflow", "worker", "--role", "workflows"],
    "activity-worker": ["missionflow", "worker", "--role", "activities"],
}
"""The services built from the project, and what each runs: the two workers share the task
queue, one with the workflows and one with the activities."""
APP_SERVICES = tuple(COMMANDS)
SETUP_JOBS = ("temporal-admin-tools", "temporal-create-namespace", "migrate")
REQUIRED_APP_ENV = (
    "MISSIONFLOW_ENVIRONMENT",
    "MISSIONFLOW_TEMPORAL_ADDRESS",
    "MISSIONFLOW_TEMPORAL_NAMESPACE",
    "MISSIONFLOW_TASK_QUEUE",
    "MISSIONFLOW_DATABASE_URL",
    "MISSIONFLOW_SMTP_HOST",
    "MISSIONFLOW_SMTP_PORT",
    "MISSIONFLOW_MAIL_FROM",
    "MISSIONFLOW_API_TOKEN",
    "MISSIONFLOW_SECRET_KEY",
    "MISSIONFLOW_PUBLIC_URL",
    "MISSIONFLOW_ENCRYPTION_KEYS",
    "MISSIONFLOW_METRICS_HOST",
    "MISSIONFLOW_METRICS_PORT",
)
WORKERS = ("workflow-worker", "activity-worker")


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@cache
def prometheus() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())


def commented_service(name: str) -> dict[str, Any]:
    """A service written in docker-compose.yml as comments (`  # name:` and the lines below it),
    parsed as it would be once uncommented."""
    lines = (ROOT / "docker-compose.yml").read_text().splitlines()
    start = lines.index(f"  # {name}:")
    block = []
    for line in lines[start:]:
        if not line.startswith("  #"):
            break
        block.append(line.replace("  # ", "  ", 1) if line != "  #" else "")
    return yaml.safe_load("\n".join(block))[name]


def service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    return services[name]


def environment(name: str) -> dict[str, str]:
    """A service's environment as a mapping, whether written as a mapping or a list."""
    env = service(name).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def depends_on(name: str) -> dict[str, str]:
    """Dependency -> condition; the short list form means `service_started`."""
    deps = service(name).get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {dep: spec.get("condition", "service_started") for dep, spec in deps.items()}


def as_text(value: Any) -> str:
    """A command, entrypoint or healthcheck test as one string, whatever form it is written in."""
    if value is None:
        return ""
    if isinstance(value, dict):  # healthcheck
        value = value.get("test")
    if isinstance(value, list):
        return " ".join(str(part) for part in value)
    return str(value)


def script(name: str) -> str:
    return as_text(service(name).get("command"))


def image_parts(image: str) -> tuple[str, str]:
    """`repo[:tag]` -> (repo, tag); a registry's `host:port/` is not a tag."""
    repo, _, tag = image.rpartition(":")
    if not repo or "/" in tag:
        return image, ""
    return repo, tag


def published_ports() -> dict[int, tuple[str, int]]:
    """Host port -> (service, container port), from the short `[ip:]host:container` syntax."""
    ports = {}
    for name, spec in compose()["services"].items():
        for mapping in spec.get("ports", []):
            if isinstance(mapping, dict):
                ports[int(mapping["published"])] = (name, int(mapping["target"]))
                continue
            *_, host, container = str(mapping).split(":")
            ports[int(host)] = (name, int(container.split("/")[0]))
    return ports


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def test_the_stack_has_every_service() -> None:
    expected = {
        "postgresql",
        "temporal-admin-tools",
        "temporal",
        "temporal-create-namespace",
        "temporal-ui",
        "mailpit",
        "migrate",
        "api",
        "workflow-worker",
        "activity-worker",
    }
    missing = expected - set(compose()["services"])
    assert not missing, f"docker-compose.yml lacks services {sorted(missing)}"


def test_every_image_is_pinned_and_none_is_auto_setup() -> None:
    for name, spec in compose()["services"].items():
        if "image" not in spec:
            assert "build" in spec, f"{name} has neither an image nor a build"
            continue
        repo, tag = image_parts(spec["image"])
        assert tag, f"{name}: image {spec['image']!r} has no tag"
        assert tag != "latest", f"{name}: image {spec['image']!r} is not pinned"
        assert "$" not in tag, f"{name}: tag {tag!r} comes from the environment, not pinned here"
        assert re.search(r"\d+\.\d+", tag), f"{name}: tag {tag!r} names no version"
        assert repo != "temporalio/auto-setup", f"{name}: temporalio/auto-setup is deprecated"


def test_temporal_images_are_the_official_ones_on_one_version() -> None:
    server_repo, server_tag = image_parts(service("temporal")["image"])
    assert server_repo == "temporalio/server", f"temporal runs {server_repo!r}"
    for job in ("temporal-admin-tools", "temporal-create-namespace"):
        repo, tag = image_parts(service(job)["image"])
        assert repo == "temporalio/admin-tools", f"{job} runs {repo!r}, not temporalio/admin-tools"
        assert tag == server_tag, f"{job} is on admin-tools {tag}, the server on {server_tag}"
    ui_repo, _ = image_parts(service("temporal-ui")["image"])
    assert ui_repo == "temporalio/ui", f"temporal-ui runs {ui_repo!r}"


def test_postgresql_keeps_its_data_in_a_named_volume() -> None:
    spec = service("postgresql")
    repo, tag = image_parts(spec["image"])
    assert repo == "postgres", f"postgresql runs {repo!r}"
    assert tag.startswith("16."), f"postgres tag {tag!r} is not a pinned 16.x"
    volume_names = set(compose().get("volumes") or {})
    sources = {str(volume).split(":")[0] for volume in spec.get("volumes", [])}
    assert sources & volume_names, f"postgresql mounts {sources}, none a named volume"


def test_schema_job_sets_up_both_temporal_databases() -> None:
    commands = script("temporal-admin-tools")
    for database, schema in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        for step in ("create-database", "setup-schema", "update-schema"):
            assert re.search(rf"--db {database} {step}\b", commands), (
                f"the schema job does not run {step} on {database}"
            )
        versioned = f"/etc/temporal/schema/postgresql/v12/{schema}/versioned"
        assert versioned in commands, f"{database} is not updated from {versioned}"
    assert depends_on("temporal-admin-tools") == {"postgresql": "service_healthy"}


def test_temporal_waits_for_its_schemas_and_uses_postgresql() -> None:
    assert depends_on("temporal").get("temporal-admin-tools") == "service_completed_successfully"
    env = environment("temporal")
    assert env.get("DB") == "postgres12", f"temporal's DB is {env.get('DB')!r}"
    assert env.get("POSTGRES_SEEDS") == "postgresql", "temporal does not point at postgresql"
    assert env.get("POSTGRES_USER") and env.get("POSTGRES_PWD"), "temporal has no DB credentials"


def test_namespace_job_waits_for_temporal_and_registers_search_attributes() -> None:
    assert depends_on("temporal-create-namespace") == {"temporal": "service_healthy"}
    commands = script("temporal-create-namespace")
    assert re.search(r"namespace create --namespace default\b", commands), (
        "the namespace job never creates namespace `default`"
    )
    for attribute in ("MissionId", "MissionPhase"):
        pattern = rf"search-attribute create --namespace default --name {attribute} --type Keyword"
        assert re.search(pattern, commands), f"{attribute} is not registered as a Keyword"


def test_app_services_wait_for_the_setup_jobs() -> None:
    assert depends_on("migrate") == {"postgresql": "service_healthy"}
    for name in ("api", "workflow-worker", "activity-worker"):
        deps = depends_on(name)
        for job in ("migrate", "temporal-create-namespace"):
            assert deps.get(job) == "service_completed_successfully", (
                f"{name} does not wait for {job} to complete: {deps}"
            )
        assert deps.get("postgresql") == "service_healthy", f"{name} does not wait for postgresql"


def test_setup_jobs_run_once() -> None:
    for job in SETUP_JOBS:
        restart = str(service(job).get("restart", "no"))
        assert restart in {"no", "on-failure"} or restart.startswith("on-failure:"), (
            f"one-shot {job} would be restarted after it completes (restart: {restart})"
        )


@pytest.mark.parametrize(
    ("name", "probe"),
    [
        ("postgresql", "pg_isready"),
        ("temporal", "7233"),
        ("api", "/healthz"),
    ],
)
def test_long_running_services_have_health_checks(name: str, probe: str) -> None:
    check = service(name).get("healthcheck")
    assert check and not check.get("disable"), f"{name} has no health check"
    assert probe in as_text(check), f"{name}'s health check does not use {probe}: {check}"


def test_api_health_check_uses_python_not_curl() -> None:
    check = as_text(service("api")["healthcheck"])
    assert "python" in check and "urllib.request" in check, f"api health check: {check}"
    assert "localhost:8000/healthz" in check, f"api health check misses the port: {check}"


def test_nothing_relies_on_curl() -> None:
    for name, spec in compose()["services"].items():
        for key in ("command", "entrypoint", "healthcheck"):
            text = as_text(spec.get(key))
            assert not re.search(r"\bcurl\b", text), f"{name}'s {key} uses curl: {text}"
    for name, config in (compose().get("configs") or {}).items():
        assert "curl" not in config.get("content", ""), f"config {name} uses curl"


def test_app_services_share_one_environment() -> None:
    envs = {name: environment(name) for name in APP_SERVICES}
    for name, env in envs.items():
        missing = [key for key in REQUIRED_APP_ENV if key not in env]
        assert not missing, f"{name} lacks {missing}"
    for name, env in envs.items():
        assert env == envs["api"], f"{name} and api disagree"


def test_app_environment_points_at_the_stack() -> None:
    env = environment("api")
    assert env["MISSIONFLOW_ENVIRONMENT"] == "production"
    assert env["MISSIONFLOW_TEMPORAL_ADDRESS"] == "temporal:7233", "API not pointed at temporal"
    assert env["MISSIONFLOW_TEMPORAL_NAMESPACE"] == "default"
    assert env["MISSIONFLOW_SMTP_HOST"] == "mailpit", "mail does not go to mailpit"
    assert env["MISSIONFLOW_SMTP_PORT"] == "1025"
    assert env.get("MISSIONFLOW_API_HOST") == "0.0.0.0", "the API would listen on loopback only"
    url = urlsplit(env["MISSIONFLOW_DATABASE_URL"])
    assert url.scheme == "postgresql+psycopg", f"database URL scheme is {url.scheme!r}"
    assert (url.hostname, url.port, url.path) == ("postgresql", 5432, "/missionflow"), (
        f"database URL points at {url.hostname}:{url.port}{url.path}"
    )
    assert url.username == "missionflow", f"the app connects as {url.username!r}"


def test_app_database_is_created_for_the_app_user() -> None:
    spec = service("postgresql")
    init_scripts = [
        compose()["configs"][entry["source"]]["content"]
        for entry in spec.get("configs", [])
        if str(entry.get("target", "")).startswith("/docker-entrypoint-initdb.d/")
    ]
    sql = "\n".join(init_scripts)
    created_by_init = "CREATE DATABASE missionflow OWNER missionflow" in sql
    created_by_env = environment("postgresql").get("POSTGRES_DB") == "missionflow"
    assert created_by_init or created_by_env, "nothing creates the `missionflow` database"


def test_payload_keys_must_come_from_the_environment() -> None:
    keys = environment("api")["MISSIONFLOW_ENCRYPTION_KEYS"]
    assert re.fullmatch(r"\$\{MISSIONFLOW_ENCRYPTION_KEYS:\?[^}]+\}", keys), (
        f"MISSIONFLOW_ENCRYPTION_KEYS is {keys!r}: it must be required, with no default"
    )


def test_the_temporal_ui_reads_sealed_payloads_through_the_api() -> None:
    ui = environment("temporal-ui")
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith(":-http://localhost:8000}/codec")
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true", "the ops session cookie"
    assert environment("api")["MISSIONFLOW_TEMPORAL_UI_URL"].endswith("http://localhost:8233}")


def test_api_token_must_come_from_the_environment() -> None:
    secret = environment("api")["MISSIONFLOW_SECRET_KEY"]
    assert re.fullmatch(r"\$\{MISSIONFLOW_SECRET_KEY:\?[^}]+\}", secret), (
        f"MISSIONFLOW_SECRET_KEY is {secret!r}: it must be required, with no default"
    )
    token = environment("api")["MISSIONFLOW_API_TOKEN"]
    assert re.fullmatch(r"\$\{MISSIONFLOW_API_TOKEN:\?[^}]+\}", token), (
        f"MISSIONFLOW_API_TOKEN is {token!r}: it must be required, with no default"
    )


@pytest.mark.parametrize(
    ("host_port", "expected"),
    [
        (8000, ("api", 8000)),
        (8233, ("temporal-ui", 8080)),
        (8025, ("mailpit", 8025)),
    ],
)
def test_ports_are_published(host_port: int, expected: tuple[str, int]) -> None:
    ports = published_ports()
    assert ports.get(host_port) == expected, f"host port {host_port} maps to {ports.get(host_port)}"


def test_app_services_are_built_from_the_project() -> None:
    for name in APP_SERVICES:
        build = service(name).get("build")
        context = build.get("context") if isinstance(build, dict) else build
        assert context in {".", "./"}, f"{name} is not built from the project: build={build!r}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_commands(name: str) -> None:
    command = service(name).get("command")
    assert command == COMMANDS[name], f"{name} runs {command!r}"


def test_dockerfile_base_image_is_a_pinned_python_3_11_or_later() -> None:
    bases = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert bases, "the Dockerfile has no FROM"
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim(-\w+)?", bases[-1].split()[0])
    assert match, f"base image {bases[-1]!r} is not a pinned python:X.Y.Z-slim tag"
    assert (int(match[1]), int(match[2])) >= (3, 11), f"base image {bases[-1]!r} is older than 3.11"


def test_dockerfile_installs_the_project_and_runs_as_a_user() -> None:
    instructions = dockerfile_instructions()
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert re.search(r"pip install --no-cache-dir \.(\s|$)", runs), f"no `pip install .`: {runs}"
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, f"runs as {users or 'root'}"
    copied = " ".join(arguments for keyword, arguments in instructions if keyword == "COPY")
    packages = ("missionflow/", "workflows/", "activities/", "api/", "email_templates/")
    for path in ("pyproject.toml", *packages):
        assert path in copied, f"the Dockerfile does not copy {path}"
    for library in ("libpango-1.0-0", "libpangoft2-1.0-0"):  # WeasyPrint's, for the report
        assert library in runs, f"the Dockerfile does not install {library}"
    assert ("EXPOSE", "8000") in instructions, "the Dockerfile does not expose 8000"
    assert ("CMD", '["missionflow", "api"]') in instructions, "the default command is not the API"


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    missing = {".venv", ".missionflow", ".git", "tests", "benchmarks"} - ignored
    assert not missing, f".dockerignore does not exclude {sorted(missing)}"
