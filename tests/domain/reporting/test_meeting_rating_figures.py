"""The report's meeting outcome figures from hand-built ratings: each stage's counts add up to
the ratings given, meetings rated by one side or both, the CSV rows, the article's line and the
page's charts; a report from before the ratings (no `meeting_ratings` key) still renders."""

from __future__ import annotations

import random
import uuid
from collections import Counter

from test_report_figures import data

from missionflow.domain.reporting import figures as report
from missionflow.domain.reporting.article import article
from missionflow.domain.reporting.meeting_ratings import (
    EVENT,
    EVENT_OUTCOMES,
    FOLLOW_UP,
    FOLLOW_UP_OUTCOMES,
    RatingFacts,
    rating_figures,
)
from missionflow.domain.reporting.report_csv import csv_document
from missionflow.runtime.report_render import html

FIRST, SECOND, THIRD = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
RATINGS = [
    RatingFacts(FIRST, EVENT, "delegate", "follow_up_planned"),
    RatingFacts(FIRST, EVENT, "host", "cooperation_possible"),
    RatingFacts(SECOND, EVENT, "host", "no_interest"),
    RatingFacts(THIRD, EVENT, "delegate", "follow_up_planned"),
    RatingFacts(THIRD, EVENT, "host", "agreement_reached"),
    RatingFacts(FIRST, FOLLOW_UP, "delegate", "in_negotiation"),
]


def test_each_stage_counts_its_outcomes_and_the_sides_that_rated() -> None:
    event, follow_up = rating_figures(RATINGS)

    assert (event["stage"], event["ratings"], event["meetings_rated"]) == (1, 5, 3)
    assert (event["by_both_sides"], event["by_one_side"]) == (2, 1)
    assert [(o["key"], o["count"]) for o in event["outcomes"]] == [
        ("agreement_reached", 1),
        ("follow_up_planned", 2),
        ("cooperation_possible", 1),
        ("no_interest", 1),
        ("did_not_take_place", 0),
    ]
    assert (follow_up["ratings"], follow_up["by_both_sides"], follow_up["by_one_side"]) == (1, 0, 1)
    assert {o["key"]: o["count"] for o in follow_up["outcomes"]}["in_negotiation"] == 1


def test_the_counts_add_up_to_the_ratings_given_whatever_they_are() -> None:
    rng = random.Random(24)
    meetings = [uuid.uuid4() for _ in range(40)]
    given = {
        (m, stage, side): rng.choice(list((EVENT_OUTCOMES, FOLLOW_UP_OUTCOMES)[stage - 1]))
        for m in meetings
        for stage in (EVENT, FOLLOW_UP)
        for side in ("delegate", "host")
        if rng.random() < 0.6 and (stage == EVENT or side == "delegate")
    }
    facts = [RatingFacts(m, stage, side, outcome) for (m, stage, side), outcome in given.items()]

    for figures in rating_figures(facts):
        mine = {k: o for k, o in given.items() if k[1] == figures["stage"]}
        assert {o["key"]: o["count"] for o in figures["outcomes"]} == {
            o["key"]: Counter(mine.values())[o["key"]] for o in figures["outcomes"]
        }
        assert sum(o["count"] for o in figures["outcomes"]) == figures["ratings"] == len(mine)
        rated = Counter(m for m, _, _ in mine)
        assert figures["meetings_rated"] == len(rated)
        assert figures["by_both_sides"] + figures["by_one_side"] == len(rated)
        assert figures["by_both_sides"] == sum(n == 2 for n in rated.values())


def test_the_csv_and_the_article_carry_them_and_older_reports_still_read() -> None:
    figures = report.figures(data(meeting_ratings=RATINGS))
    rows = csv_document(figures).splitlines()
    older = {k: v for k, v in figures.items() if k != "meeting_ratings"}

    assert "meeting_ratings,1,,ratings,5,," in rows
    assert "meeting_ratings,2,,by_one_side,1,," in rows
    assert "meeting_outcomes_1,follow_up_planned,Follow-up meeting planned,count,2,," in rows
    assert "meeting_outcomes_2,no_result,No result,count,0,," in rows
    assert (
        "- 4 of 5 meeting ratings after the event: an agreement, a follow-up meeting or a "
        "cooperation in view" in article(figures)
    )
    assert "meeting_" not in csv_document(older) and "meeting rating" not in article(older)
    page, before = html(figures), html(older)
    assert page.count("<svg") == before.count("<svg") + 2  # a chart per stage
    assert 'id="meeting-ratings-1"' in page and "meeting-ratings" not in before
