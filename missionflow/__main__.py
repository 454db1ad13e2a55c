"""`python -m missionflow` is the `missionflow` command."""

from missionflow.cli import app

app()
