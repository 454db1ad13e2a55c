"""The production stack's metrics as written: each worker's Temporal SDK metrics exposed inside
the stack, the API's /metrics, and the commented-out Prometheus service that scrapes them."""

from __future__ import annotations

import re

from test_compose import (
    WORKERS,
    as_text,
    commented_service,
    environment,
    image_parts,
    prometheus,
    published_ports,
    service,
)


def scrape_targets(job: str) -> tuple[str, list[str], int]:
    """A scrape job's metrics path, the compose services it finds by DNS, and their port."""
    jobs = {entry["job_name"]: entry for entry in prometheus()["scrape_configs"]}
    assert job in jobs, f"deploy/prometheus.yml has no job {job!r}"
    (discovery,) = jobs[job]["dns_sd_configs"]
    return jobs[job].get("metrics_path", "/metrics"), discovery["names"], discovery["port"]


def test_workers_expose_their_sdk_metrics_to_the_stack() -> None:
    env = environment("workflow-worker")
    port = env["MISSIONFLOW_METRICS_PORT"]
    assert env["MISSIONFLOW_METRICS_HOST"] == "0.0.0.0", "a worker's metrics would be loopback only"
    for name in WORKERS:
        exposed = [str(entry).split("/")[0] for entry in service(name).get("expose", [])]
        assert port in exposed, f"{name} does not expose its metrics port {port}: {exposed}"
        # A published host port would make `docker compose up --scale` fail on the second copy.
        assert not service(name).get("ports"), f"{name} publishes ports: it could not be scaled"


def test_prometheus_scrapes_the_api_and_each_worker() -> None:
    path, names, port = scrape_targets("missionflow-api")
    assert (path, names, port) == ("/metrics", ["api"], 8000)
    assert published_ports()[8000] == ("api", port)
    metrics_port = int(environment("workflow-worker")["MISSIONFLOW_METRICS_PORT"])
    for name in WORKERS:
        path, names, port = scrape_targets(f"missionflow-{name}")
        assert (path, names, port) == ("/metrics", [name], metrics_port)


def test_the_commented_prometheus_service_is_ready_to_uncomment() -> None:
    spec = commented_service("prometheus")
    repo, tag = image_parts(spec["image"])
    assert repo == "prom/prometheus", f"prometheus runs {repo!r}"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), f"prom/prometheus:{tag} is not pinned"
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in spec["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in spec["command"]
    assert spec["ports"] == ["127.0.0.1:9090:9090"], "Prometheus has no login: loopback only"
    assert "curl" not in as_text(spec["healthcheck"])
