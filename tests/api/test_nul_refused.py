"""A NUL character in a path or a query, on both databases: PostgreSQL cannot compare text with
one, so before the fix every mission route answered 500 for `/missions/a%00b` there."""

from __future__ import annotations

import httpx
from sqlmodel import select

from missionflow.runtime.models import Mission


async def test_a_nul_in_a_path_names_nothing(api: httpx.AsyncClient, session_factory) -> None:
    for path in ("/missions/a%00b", "/missions/a%00b/applications", "/missions/a%00b/apply"):
        for method in ("GET", "POST"):
            answer = await api.request(method, path)
            assert answer.status_code == 404, (method, path, answer.text)
    async with session_factory() as session:
        assert (await session.exec(select(Mission))).all() == []


async def test_a_nul_in_a_query_is_refused_at_its_field(api: httpx.AsyncClient) -> None:
    answer = await api.get("/missions?phase=call%00open&limit=5")
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"loc": ["query", "phase"], "msg": "A NUL character is not allowed.", "type": "nul"}
    ]
