"""Survey metrics, their scales and how a score is classified (ARCHITECTURE "Metrics")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Metric = Literal["nps", "csat", "ces"]
Category = Literal["promoter", "passive", "detractor"]
METRICS: tuple[Metric, ...] = ("nps", "csat", "ces")
CATEGORIES: tuple[Category, ...] = ("detractor", "passive", "promoter")


@dataclass(frozen=True)
class Scale:
    low: int
    high: int
    detractor_max: int  # scores at or below are detractors
    passive_max: int  # scores above detractor_max and at or below are passives; above are promoters
    high_priority_max: int  # detractors at or below get a high-priority alert

    def points(self) -> range:
        return range(self.low, self.high + 1)


SCALES: dict[Metric, Scale] = {
    # NPS 0-10: detractors 0-6, passives 7-8, promoters 9-10.
    "nps": Scale(0, 10, detractor_max=6, passive_max=8, high_priority_max=3),
    # CSAT 1-5: satisfied is top-2-box (4-5); 1-2 are the unhappy customers to call back.
    "csat": Scale(1, 5, detractor_max=2, passive_max=3, high_priority_max=1),
    # CES 2.0, 1-7 agreement with "made it easy": 5-7 is easy, 1-3 is high effort.
    "ces": Scale(1, 7, detractor_max=3, passive_max=4, high_priority_max=1),
}


class ScoreOutOfRange(ValueError):
    pass


def check_score(metric: str, score: object) -> int:
    scale = SCALES.get(metric)  # type: ignore[call-overload]
    if scale is None:
        raise ScoreOutOfRange(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    if isinstance(score, bool) or not isinstance(score, int) or not scale.low <= score <= scale.high:
        raise ScoreOutOfRange(f"{metric} score must be an integer {scale.low}-{scale.high}, got {score!r}")
    return int(score)


def classify(metric: Metric, score: int) -> Category:
    scale = SCALES[metric]
    check_score(metric, score)
    if score <= scale.detractor_max:
        return "detractor"
    if score <= scale.passive_max:
        return "passive"
    return "promoter"


def alert_priority(metric: Metric, score: int) -> Literal["high", "normal"]:
    return "high" if score <= SCALES[metric].high_priority_max else "normal"
