"""The Temporal worker: the mission workflow and every activity, on one task queue.

One process may run both, or two processes may share the queue: one runs the workflows (and
their local activities), the other the activities. Every Update waits for a workflow task; in a
process of its own, that task does not queue behind the activities' threads and event loop (the
confirmations composed, the outbox delivered, the database written) for Python's one
interpreter lock. Measured with 10,000 applicants on two cores: 201 applications/s against 166,
and a third less worker CPU per application. The dev stack runs the two; so does
docker-compose.yml.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.applications import ApplicationActivities
from activities.call import CallActivities
from activities.check_ins import CheckInActivities
from activities.email import EmailActivities
from activities.feedback import FeedbackActivities
from activities.matchmaking import MatchmakingActivities
from activities.meeting_requests import MeetingRequestActivities
from activities.outbox import OutboxActivities
from activities.participant_places import PlaceActivities
from activities.preferences import PreferenceActivities
from activities.privacy import PrivacyActivities
from activities.records import RecordActivities
from activities.report import ReportActivities
from activities.seats import SeatActivities
from activities.selection import SelectionActivities
from activities.sign_in_link import SignInLinkActivities
from activities.visits import VisitActivities
from missionflow.runtime.settings import Settings
from missionflow.stack.worker_role import WorkerRole
from workflows.mission import MissionWorkflow
from workflows.sign_in_link import SignInLinkWorkflow

WORKFLOWS = [MissionWorkflow, SignInLinkWorkflow]

SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("email_validator", "idna")
)
"""Pydantic's email check imports email_validator on first use, inside the sandbox; it is
deterministic library code, so it is passed through rather than re-imported per workflow."""


def build_worker(
    client: Client,
    *,
    task_queue: str,
    engine: AsyncEngine,
    settings: Settings,
    role: WorkerRole = WorkerRole.ALL,
) -> Worker:
    records = RecordActivities(engine)
    applications = ApplicationActivities(engine, settings)
    call = CallActivities(engine, settings)
    email = EmailActivities(engine, settings)
    outbox = OutboxActivities(engine)
    selection = SelectionActivities(engine, settings)
    seat = SeatActivities(engine, settings)
    matchmaking = MatchmakingActivities(engine, settings)
    meeting_requests = MeetingRequestActivities(engine, settings)
    preferences = PreferenceActivities(engine, settings)
    check_ins = CheckInActivities(engine)
    places = PlaceActivities(engine)
    visits = VisitActivities(engine, settings)
    feedback = FeedbackActivities(engine, settings)
    report = ReportActivities(engine, settings)
    privacy = PrivacyActivities(engine)
    sign_in_link = SignInLinkActivities(engine, settings)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[] if role == WorkerRole.ACTIVITIES else WORKFLOWS,
        activities=[
            records.record_phase,
            applications.admit_applications,
            applications.amend_application,
            applications.withdraw_application,
            call.announce_call,
            call.add_invitees,
            call.send_reminders,
            call.announce_extension,
            call.close_call,
            call.announce_cancellation,
            selection.propose_selection,
            selection.remind_review,
            selection.record_review,
            seat.record_seats,
            matchmaking.load_hosts,
            matchmaking.record_meeting_request,
            matchmaking.record_meeting_answer,
            matchmaking.record_attendance,
            matchmaking.remind_matchmaking,
            matchmaking.schedule_meetings,
            meeting_requests.expire_requests,
            meeting_requests.nudge,
            preferences.record_preference,
            preferences.convert_preferences,
            places.set_remote,
            check_ins.record_check_in,
            visits.record_visit_places,
            visits.send_itinerary,
            visits.remind_visit,
            visits.record_visit_change,
            visits.record_visit_attendance,
            feedback.request_feedback,
            feedback.remind_feedback,
            feedback.send_survey,
            feedback.record_feedback,
            feedback.record_follow_up,
            report.produce_report,
            privacy.erase_personal_data,
            email.deliver_outbox,
            sign_in_link.send_sign_in_link,
            outbox.requeue_failed_email,
        ],
        workflow_runner=SANDBOX,
        # The workflows' worker keeps the activities for their local ones, and polls no others.
        no_remote_activities=role == WorkerRole.WORKFLOWS,
    )
