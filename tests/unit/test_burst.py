"""Burst arbitration: of one customer's interactions ending close together, at most one is surveyed, the first in
time or the most significant (escalated, then unresolved, then transferred, then longest handled)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cxloop.contact_policy import CustomerState
from cxloop.decisions import burst_order, significance
from cxloop.model import Interaction
from tests.unit.sample_records import interaction_at, rules_of

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=timezone.utc)
RULES = rules_of({"id": "call-csat", "metric": "csat"})


def contact(seconds: int, name: str, **changes: Any) -> Interaction:
    changes = {"resolved": True, "transfers": 0, "handle_time_seconds": 300} | changes
    return interaction_at(T0 + timedelta(seconds=seconds), interaction_id=name, **changes)


BURST = [
    contact(0, "resolved-call"),
    contact(20, "transferred-twice", transfers=2),
    contact(40, "unresolved-chat", trigger="chat_end", channel="chat", resolved=False),
    contact(60, "escalation", trigger="escalation", resolved=True),
    contact(80, "transferred-once", transfers=1),
]


def names(interactions: list[Interaction]) -> list[str]:
    return [i.interaction_id for i in interactions]


def test_first_mode_orders_the_burst_by_end_time() -> None:
    assert names(burst_order(list(reversed(BURST)), "first")) == [
        "resolved-call", "transferred-twice", "unresolved-chat", "escalation", "transferred-once",
    ]


def test_first_mode_breaks_a_tie_in_time_by_interaction_id() -> None:
    same_time = [contact(0, "b"), contact(0, "a"), contact(0, "c")]
    assert names(burst_order(same_time, "first")) == ["a", "b", "c"]


def test_most_significant_mode_puts_escalation_then_unresolved_then_transfers_first() -> None:
    assert names(burst_order(BURST, "most_significant")) == [
        "escalation", "unresolved-chat", "transferred-twice", "transferred-once", "resolved-call",
    ]


@pytest.mark.parametrize(
    "more, less",
    [
        ({"trigger": "escalation", "resolved": True}, {"resolved": False, "transfers": 3}),
        ({"resolved": False}, {"resolved": True, "transfers": 3, "handle_time_seconds": 3000}),
        ({"transfers": 1}, {"transfers": 0, "handle_time_seconds": 3000}),
        ({"handle_time_seconds": 301}, {"handle_time_seconds": 300}),
    ],
    ids=["escalation beats unresolved", "unresolved beats transfers", "a transfer beats handle time",
         "longer handling breaks the last tie"],
)
def test_significance_ranks_each_criterion_above_the_next(more: dict[str, Any], less: dict[str, Any]) -> None:
    assert significance(contact(0, "more", **more)) > significance(contact(0, "less", **less))


def test_equally_significant_interactions_keep_their_order_in_time() -> None:
    alike = [contact(30, "later"), contact(10, "earlier"), contact(20, "middle")]
    assert names(burst_order(alike, "most_significant")) == ["earlier", "middle", "later"]


def test_interaction_losing_the_burst_is_frequency_capped_naming_the_winner() -> None:
    state = CustomerState()
    verdict = RULES.decide(contact(20, "loser"), state, T0 + timedelta(minutes=2), arbitration_winner="winner-1")
    assert verdict.decision.outcome == "frequency_capped" and verdict.invitation is None
    assert "burst arbitration chose winner-1" in verdict.decision.detail
    assert verdict.decision.survey_id is None and not state.surveys


@pytest.mark.parametrize("mode, winner", [("first", "resolved-call"), ("most_significant", "escalation")])
def test_deciding_a_burst_in_order_invites_exactly_one(mode: str, winner: str) -> None:
    state = CustomerState()
    now = T0 + timedelta(minutes=2)
    chosen: str | None = None
    outcomes = {}
    for interaction in burst_order(BURST, mode):
        verdict = RULES.decide(interaction, state, now, arbitration_winner=chosen)
        if verdict.invitation is not None and chosen is None:
            chosen = interaction.interaction_id
        outcomes[interaction.interaction_id] = verdict.decision.outcome
    assert chosen == winner
    assert outcomes == {i.interaction_id: "invited" if i.interaction_id == winner else "frequency_capped"
                        for i in BURST}
    assert len(state.surveys) == 1


def test_arbitration_does_not_hide_a_stronger_reason_not_to_survey() -> None:
    state = CustomerState(opted_out_at=T0 - timedelta(days=1), opt_out_reason="spam_report")
    verdict = RULES.decide(contact(20, "loser"), state, T0, arbitration_winner="winner-1")
    assert verdict.decision.outcome == "opted_out"
