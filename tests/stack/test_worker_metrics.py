"""A worker started with a metrics port serves Temporal's SDK metrics (`temporal_*`) for
Prometheus there, through the SDK's own runtime; the API counts the start on its /metrics."""

from __future__ import annotations

import httpx
import pytest
from support import eventually, rehearsal
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from missionflow.runtime.settings import Settings
from missionflow.runtime.temporal import connect, worker_runtime
from missionflow.stack.dev import worker_metrics_port
from missionflow.stack.worker import build_worker
from missionflow.stack.worker_role import WorkerRole


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_worker_serves_the_sdk_metrics_after_a_workflow_task(
    dev_env: WorkflowEnvironment, engine, settings: Settings, unused_port: int
) -> None:
    settings = settings.model_copy(update={"metrics_port": unused_port})
    runtime = worker_runtime(settings, metrics_port=settings.metrics_port)
    assert runtime is worker_runtime(settings, metrics_port=settings.metrics_port), "one per port"
    client = await connect(
        settings, address=dev_env.client.service_client.config.target_host, runtime=runtime
    )
    app = create_app(settings, client=dev_env.client, engine=engine, mailbox=False)
    headers = {"Authorization": f"Bearer {settings.coordinator_token()}"}
    scrape = f"http://127.0.0.1:{unused_port}/metrics"
    async with (
        build_worker(client, task_queue=settings.task_queue, engine=engine, settings=settings),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
        ) as api,
        httpx.AsyncClient() as prometheus,
    ):
        document = rehearsal()
        started = await api.post("/missions", json=document)
        assert started.status_code == 201, started.text

        async def workflow_task_measured() -> str:
            text = (await prometheus.get(scrape)).text
            assert "temporal_workflow_task_execution_latency" in text
            return text

        text = await eventually(workflow_task_measured)
        assert f'task_queue="{settings.task_queue}"' in text
        assert "temporal_workflow_task_queue_poll_succeed" in text

        cancelled = await api.post(f"/missions/{document['id']}/cancel", json={"reason": "done"})
        assert cancelled.status_code == 200, cancelled.text
        api_metrics = (await api.get("/metrics")).text
        assert (
            'missionflow_http_requests_total{method="POST",route="/missions",status="201"} 1.0'
            in api_metrics
        )


def test_the_dev_stack_gives_each_worker_half_its_own_port() -> None:
    settings = Settings(metrics_port=9464)
    assert worker_metrics_port(settings, WorkerRole.WORKFLOWS) == 9464
    assert worker_metrics_port(settings, WorkerRole.ACTIVITIES) == 9465
    assert worker_metrics_port(Settings(), WorkerRole.WORKFLOWS) is None
    assert worker_runtime(Settings(), metrics_port=None) is None, "text logs, no port: SDK default"
