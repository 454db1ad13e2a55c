"""The throwaway PostgreSQL cluster starts, serves databases, and goes away afterwards."""

import socket

import sqlalchemy
from pg_cluster import create_database, throwaway_cluster
from sqlalchemy.engine import make_url


def _scalar(url: str, query: str) -> object:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.text(query)).scalar_one()
    finally:
        engine.dispose()


def test_throwaway_cluster_lifecycle() -> None:
    with throwaway_cluster() as url:
        parsed = make_url(url)
        assert parsed.drivername == "postgresql+psycopg"
        assert parsed.host == "127.0.0.1"
        assert parsed.database == "missionflow"
        assert "PostgreSQL" in str(_scalar(url, "select version()"))

        other = create_database(url, "missionflow_other")
        assert make_url(other).database == "missionflow_other"
        assert _scalar(other, "select current_database()") == "missionflow_other"

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", parsed.port)) != 0, "cluster still accepting connections"
