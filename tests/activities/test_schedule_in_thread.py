"""The schedule is placed off the activity worker's event loop: the loop keeps turning while the
scheduler works (its exact phase takes up to the instance's time limit), and the scheduler's
progress still heartbeats the activity, from the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from activities import meeting_schedule
from missionflow.domain.matchmaking import scheduling
from missionflow.domain.matchmaking.instance import Instance

EXAMPLE = Path(__file__).parents[2] / "examples" / "matchmaking.json"


def example() -> Instance:
    return Instance.model_validate_json(EXAMPLE.read_text())


async def test_the_loop_keeps_turning_while_the_scheduler_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop_thread = threading.get_ident()
    beat_threads: list[int] = []
    real = scheduling.schedule

    def slow(
        instance: Instance, *, progress: Callable[[int, int], None] | None = None, **_: Any
    ) -> scheduling.Schedule:
        assert threading.get_ident() != loop_thread, "the scheduler runs in a thread"
        for done in range(1, 6):
            time.sleep(0.05)  # CPU-bound work, as far as the loop can tell
            if progress is not None:
                progress(done, 5)
        return real(instance.model_copy(update={"time_limit": 0}))

    monkeypatch.setattr(scheduling, "schedule", slow)
    environment = ActivityEnvironment()
    beats: list[Any] = []

    def heartbeat(*details: Any) -> None:
        beat_threads.append(threading.get_ident())
        beats.append(details)

    environment.on_heartbeat = heartbeat
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    @activity.defn(name="place")
    async def place(instance: Instance) -> scheduling.Schedule:
        return await meeting_schedule.place_in_thread(instance)

    task = asyncio.create_task(ticker())
    try:
        result = await environment.run(place, example())
    finally:
        task.cancel()
    assert result.stats.scheduled > 0
    assert ticks >= 10, f"the loop turned only {ticks} times in 0.25 s"
    assert beats == [(done, 5) for done in range(1, 6)]
    assert set(beat_threads) == {loop_thread}, "heartbeats are sent from the loop"


async def test_a_real_schedule_in_a_thread_heartbeats() -> None:
    environment = ActivityEnvironment()
    beats: list[Any] = []
    environment.on_heartbeat = lambda *details: beats.append(details)

    @activity.defn(name="place")
    async def place(instance: Instance) -> scheduling.Schedule:
        return await meeting_schedule.place_in_thread(instance)

    result = await environment.run(place, example().model_copy(update={"time_limit": 2.0}))
    await asyncio.sleep(0)  # heartbeats handed to the loop at the very end run now
    assert result.stats.method == "exact"
    assert beats and all(len(b) == 2 for b in beats)


async def test_outside_an_activity_it_places_without_heartbeats() -> None:
    result = await meeting_schedule.place_in_thread(example().model_copy(update={"time_limit": 0}))
    assert result.stats.method == "fast"
