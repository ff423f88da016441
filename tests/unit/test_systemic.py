"""The systemic detector: a planted spike in one team's detractor share is raised once; noise and thin data are not."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from cxloop.directory import Systemic
from cxloop.systemic import DimensionWindow, dimensions_of, observe

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
RULES = Systemic(window=timedelta(hours=1), baseline=timedelta(days=7), min_responses=10, min_rise=0.15, z=3.0)


def feed(state: DimensionWindow, answers: list[tuple[datetime, bool]]) -> list:
    return [s for at, detractor in answers if (s := observe(state, "team", "team-north", at, detractor, RULES))]


def baseline(rng: random.Random, share: float, n: int = 300) -> list[tuple[datetime, bool]]:
    """`n` answers spread over the week before T0, `share` of them detractors."""
    return sorted((T0 - timedelta(days=7) + timedelta(seconds=rng.uniform(0, 7 * 86400 - 3600)), rng.random() < share)
                  for _ in range(n))


def test_a_planted_spike_is_raised_once_with_its_figures() -> None:
    rng = random.Random(4)
    state = DimensionWindow()
    assert feed(state, baseline(rng, 0.10)) == []
    burst = [(T0 + timedelta(minutes=2 * i), i % 3 != 0) for i in range(20)]  # 2 in 3 detractors
    spikes = feed(state, burst)
    assert len(spikes) == 1, "once per window"
    spike = spikes[0]
    detractors, answers = spike.current
    assert answers >= RULES.min_responses and detractors / answers >= 0.5
    assert spike.baseline[1] > 250 and spike.baseline[0] / spike.baseline[1] < 0.2 and spike.z >= 3
    assert "team team-north" in spike.describe(RULES) and "z=" in spike.describe(RULES)


def test_the_same_share_as_the_baseline_is_not_a_spike() -> None:
    rng = random.Random(5)
    state = DimensionWindow()
    feed(state, baseline(rng, 0.3))
    assert feed(state, [(T0 + timedelta(minutes=i), rng.random() < 0.3) for i in range(40)]) == []


def test_too_few_answers_in_the_window_are_not_a_spike() -> None:
    state = DimensionWindow()
    feed(state, baseline(random.Random(6), 0.05))
    assert feed(state, [(T0 + timedelta(minutes=i), True) for i in range(RULES.min_responses - 1)]) == []


def test_without_a_baseline_nothing_is_raised() -> None:
    state = DimensionWindow()
    assert feed(state, [(T0 + timedelta(seconds=i), True) for i in range(50)]) == []


def test_old_buckets_are_dropped_and_the_state_round_trips_json() -> None:
    state = DimensionWindow()
    feed(state, [(T0 - timedelta(days=30), True), (T0, False)])
    assert len(state.buckets) == 1
    assert DimensionWindow.from_json(state.to_json()) == state


@pytest.mark.parametrize("record, expected", [
    ({"team_id": "team-north", "queue": "voice-general", "contact_reason": "billing", "themes": ["wait time"]},
     [("team", "team-north"), ("queue", "voice-general"), ("contact_reason", "billing"), ("theme", "wait time")]),
    ({"team_id": None, "queue": None, "contact_reason": None, "themes": []}, []),
])
def test_an_answer_counts_under_each_of_its_dimensions(record: dict, expected: list) -> None:
    assert dimensions_of(record, RULES) == expected
