"""SignInLinkWorkflow: sends one sign-in link's email, with retries, as every effect is sent.

One short run per link (workflow id `sign-in-link-<link id>`): the API stores the link and starts
this run, and the activity sends the email. Retrying past the link's lifetime would deliver a
link that no longer works, so the activity is given up on then.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.sign_in_link import SignInLinkActivities
    from missionflow.domain.sign_in_links import LINK_LIFETIME, SignInLinkEmail

from workflows.base import RETRY


@workflow.defn(name="SignInLink")
class SignInLinkWorkflow:
    @workflow.run
    async def run(self, email: SignInLinkEmail) -> bool:
        """Whether the email went (False: the link was used or expired first)."""
        return await workflow.execute_activity_method(
            SignInLinkActivities.send_sign_in_link,
            email,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=LINK_LIFETIME,
            retry_policy=RETRY,
        )
