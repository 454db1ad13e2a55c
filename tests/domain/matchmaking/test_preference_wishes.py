"""Preference lists as pure rules: what each pair's marks make (mutual → accepted at the higher
priority, one-sided → a request, no_thanks never a wish and its request quiet, pairs with a
meeting other than a pending one left alone), in a deterministic order; when marks are taken;
and `preferences_deadline` refused at its field unless it falls inside the request window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from missionflow.domain.matchmaking.preferences import MarkRow, Wish, wishes

T0 = datetime(2017, 4, 20, 12, tzinfo=UTC)
D1, D2, H1, H2 = (uuid.UUID(int=n) for n in (1, 2, 3, 4))


def mark(by: uuid.UUID, on: uuid.UUID, what: str, minutes: int = 0) -> MarkRow:
    return MarkRow(by=by, on=on, mark=what, at=T0 + timedelta(minutes=minutes))


def test_mutual_wishes_are_accepted_at_the_higher_priority() -> None:
    made = wishes([mark(D1, H1, "would_like", 5), mark(H1, D1, "must_meet", 1)], settled=set())
    assert made == [Wish(requester=H1, invitee=D1, priority=3, accept=True)]
    both_would = wishes([mark(D1, H1, "would_like"), mark(H1, D1, "would_like", 1)], set())
    assert both_would == [Wish(requester=D1, invitee=H1, priority=2, accept=True)]


def test_a_one_sided_wish_is_a_request_from_whoever_wished() -> None:
    assert wishes([mark(D1, H1, "must_meet")], set()) == [
        Wish(requester=D1, invitee=H1, priority=3, accept=False)
    ]
    assert wishes([mark(H2, D2, "would_like")], set()) == [
        Wish(requester=H2, invitee=D2, priority=2, accept=False)
    ]


def test_no_thanks_is_never_a_wish_and_its_request_is_quiet() -> None:
    assert wishes([mark(D1, H1, "no_thanks")], set()) == []
    assert wishes([mark(D1, H1, "no_thanks"), mark(H1, D1, "no_thanks", 1)], set()) == []
    made = wishes([mark(H1, D1, "no_thanks"), mark(D1, H1, "must_meet", 1)], set())
    assert made == [Wish(requester=D1, invitee=H1, priority=3, accept=False, quiet=True)]


def test_pairs_with_a_meeting_are_left_alone_and_the_order_is_the_first_marks() -> None:
    marks = [
        mark(D2, H2, "would_like", 9),
        mark(D1, H1, "must_meet", 3),
        mark(H1, D1, "must_meet", 4),
        mark(D1, H2, "would_like", 1),
    ]
    made = wishes(marks, settled={frozenset((D1, H2))})
    assert [(w.requester, w.invitee, w.accept) for w in made] == [
        (D1, H1, True),
        (D2, H2, False),
    ]
    assert wishes(list(reversed(marks)), settled={frozenset((D1, H2))}) == made
