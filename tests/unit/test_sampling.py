"""Sampling: a reproducible draw per program and interaction, fixed rates, and adaptive rates that give every agent
enough answers without surveying everyone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cxloop.contact_policy import CustomerState, adaptive_rate, sample_point
from cxloop.programs import Sampling
from tests.unit.sample_records import interaction_at, rules_of

T0 = datetime(2025, 3, 4, 9, 0, tzinfo=timezone.utc)
IDS = [f"genesys-call-{i:06d}" for i in range(10_000)]


def test_sample_point_is_the_same_for_the_same_program_and_interaction() -> None:
    assert sample_point("call-csat", "genesys-call-000123") == sample_point("call-csat", "genesys-call-000123")


def test_sample_point_differs_between_programs_for_the_same_interaction() -> None:
    share_equal = sum(sample_point("call-csat", i) == sample_point("chat-csat", i) for i in IDS[:1000])
    assert share_equal == 0


def test_sample_point_cannot_be_shifted_between_program_and_interaction() -> None:
    assert sample_point("call-csat", "x-1") != sample_point("call-csat-x", "1")


def test_sample_points_lie_in_the_unit_interval_and_are_roughly_uniform() -> None:
    points = [sample_point("call-csat", i) for i in IDS]
    assert all(0.0 <= p < 1.0 for p in points)
    assert 0.27 <= sum(p < 0.3 for p in points) / len(points) <= 0.33
    for decile in range(10):
        share = sum(decile / 10 <= p < (decile + 1) / 10 for p in points) / len(points)
        assert 0.085 <= share <= 0.115, decile


def sampling(**fields: Any) -> Sampling:
    return Sampling.model_validate(fields)


@pytest.mark.parametrize("rate", [0.0, 0.25, 1.0])
def test_fixed_rate_is_used_whatever_the_volume(rate: float) -> None:
    assert adaptive_rate(sampling(rate=rate), 0.0) == adaptive_rate(sampling(rate=rate), 10_000.0) == rate


ADAPTIVE = sampling(mode="adaptive", target_responses_per_agent_week=10, expected_response_rate=0.2, min_rate=0.05)


@pytest.mark.parametrize(
    "weekly_volume, rate",
    [
        (0.0, 1.0),
        (20.0, 1.0),
        (50.0, 1.0),  # exactly the 10 / 0.2 = 50 invitations needed
        (100.0, 0.5),
        (400.0, 0.125),
        (1000.0, 0.05),
        (100_000.0, 0.05),  # never below min_rate
    ],
)
def test_adaptive_rate_aims_at_the_target_number_of_answers(weekly_volume: float, rate: float) -> None:
    assert adaptive_rate(ADAPTIVE, weekly_volume) == pytest.approx(rate)


@pytest.mark.parametrize("weekly_volume", [60.0, 137.0, 450.0, 999.0])
def test_adaptive_rate_yields_the_target_in_expectation(weekly_volume: float) -> None:
    expected_answers = weekly_volume * adaptive_rate(ADAPTIVE, weekly_volume) * 0.2
    assert expected_answers == pytest.approx(10)


def test_adaptive_sampling_needs_a_target() -> None:
    with pytest.raises(ValueError, match="target_responses_per_agent_week"):
        sampling(mode="adaptive")


def decide_many(rate: float, count: int = 400, **program: Any) -> list[str]:
    rules = rules_of({"id": "call-csat", "metric": "csat", "sampling": {"rate": rate, **program}})
    outcomes = []
    for i in range(count):
        source = interaction_at(T0, interaction_id=f"call-{i}", customer_id=f"cust-{i}")
        outcomes.append(rules.decide(source, CustomerState(), T0).decision.outcome)
    return outcomes


def test_rate_zero_samples_every_interaction_out() -> None:
    assert set(decide_many(0.0)) == {"sampled_out"}


def test_rate_one_samples_no_interaction_out() -> None:
    assert set(decide_many(1.0)) == {"invited"}


def test_half_rate_invites_about_half_and_says_why_the_rest_were_left_out() -> None:
    outcomes = decide_many(0.5, count=2000)
    assert 0.45 <= outcomes.count("invited") / len(outcomes) <= 0.55
    assert set(outcomes) == {"invited", "sampled_out"}
    rules = rules_of({"id": "call-csat", "metric": "csat", "sampling": {"rate": 0.5}})
    left_out = next(f"call-{i}" for i, o in enumerate(outcomes) if o == "sampled_out")
    verdict = rules.decide(interaction_at(T0, interaction_id=left_out), CustomerState(), T0)
    assert verdict.invitation is None and "50.0% sample of call-csat" in verdict.decision.detail


def test_sampling_decision_is_reproducible_for_the_same_interaction() -> None:
    assert decide_many(0.3) == decide_many(0.3)


def test_adaptive_program_invites_everyone_of_a_quiet_agent_and_samples_a_busy_one() -> None:
    rules = rules_of({"id": "call-csat", "metric": "csat", "sampling": {
        "mode": "adaptive", "target_responses_per_agent_week": 10, "expected_response_rate": 0.2}})

    def outcomes(volume: float) -> list[str]:
        return [rules.decide(interaction_at(T0 + timedelta(minutes=i), interaction_id=f"call-{i}"), CustomerState(),
                             T0 + timedelta(minutes=i), weekly_volume=volume).decision.outcome for i in range(1000)]

    assert set(outcomes(30.0)) == {"invited"}
    assert 0.035 <= outcomes(1000.0).count("invited") / 1000 <= 0.065  # 50 invitations needed of 1,000: 5%
