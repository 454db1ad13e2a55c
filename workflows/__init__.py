"""The mission workflow: `mission.MissionWorkflow`, assembled from one module per phase.

Deterministic orchestration only: every effect is an activity (`activities/`), every rule a plain
function (`missionflow.domain`).
"""
