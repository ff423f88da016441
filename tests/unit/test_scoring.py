"""How a score is classified on each metric's scale, which scores are refused, and which detractors are urgent."""

from __future__ import annotations

import pytest

from cxloop.scoring import METRICS, SCALES, ScoreOutOfRange, alert_priority, check_score, classify

# The categories as CX teams define them, written out point by point rather than derived from SCALES.
NPS = {0: "detractor", 1: "detractor", 2: "detractor", 3: "detractor", 4: "detractor", 5: "detractor",
       6: "detractor", 7: "passive", 8: "passive", 9: "promoter", 10: "promoter"}
CSAT = {1: "detractor", 2: "detractor", 3: "passive", 4: "promoter", 5: "promoter"}
CES = {1: "detractor", 2: "detractor", 3: "detractor", 4: "passive", 5: "promoter", 6: "promoter", 7: "promoter"}
EXPECTED = {"nps": NPS, "csat": CSAT, "ces": CES}


@pytest.mark.parametrize("score, category", sorted(NPS.items()))
def test_nps_score_is_classified_as_cx_teams_define_it(score: int, category: str) -> None:
    assert classify("nps", score) == category


@pytest.mark.parametrize("score, category", sorted(CSAT.items()))
def test_csat_score_is_classified_top_two_box(score: int, category: str) -> None:
    assert classify("csat", score) == category


@pytest.mark.parametrize("score, category", sorted(CES.items()))
def test_ces_score_is_classified_on_the_seven_point_agreement_scale(score: int, category: str) -> None:
    assert classify("ces", score) == category


def test_nps_score_of_6_is_a_detractor() -> None:
    assert classify("nps", 6) == "detractor"


@pytest.mark.parametrize("metric", METRICS)
def test_every_scale_point_is_classified_and_nothing_else(metric: str) -> None:
    assert list(SCALES[metric].points()) == sorted(EXPECTED[metric])  # type: ignore[index]


@pytest.mark.parametrize(
    "metric, score",
    [("nps", -1), ("nps", 11), ("csat", 0), ("csat", 6), ("ces", 0), ("ces", 8), ("nps", 100), ("csat", -3)],
)
def test_score_outside_the_scale_is_refused(metric: str, score: int) -> None:
    with pytest.raises(ScoreOutOfRange, match=metric):
        check_score(metric, score)
    with pytest.raises(ScoreOutOfRange):
        classify(metric, score)  # type: ignore[arg-type]


@pytest.mark.parametrize("score", [7.0, 7.5, "7", None, b"7", [7]])
@pytest.mark.parametrize("metric", METRICS)
def test_score_that_is_not_an_integer_is_refused(metric: str, score: object) -> None:
    with pytest.raises(ScoreOutOfRange):
        check_score(metric, score)  # type: ignore[arg-type]


@pytest.mark.parametrize("score", [True, False])
@pytest.mark.parametrize("metric", METRICS)
def test_boolean_is_not_a_score_even_though_python_counts_it_as_int(metric: str, score: bool) -> None:
    with pytest.raises(ScoreOutOfRange):
        check_score(metric, score)


@pytest.mark.parametrize("metric", ["NPS", "csat5", "", "effort", None])
def test_unknown_metric_is_refused_and_the_message_lists_the_known_ones(metric: object) -> None:
    with pytest.raises(ScoreOutOfRange, match="nps, csat, ces"):
        check_score(metric, 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "metric, score", [(m, s) for m in METRICS for s in SCALES[m].points()]
)
def test_every_score_on_the_scale_passes_the_check_unchanged(metric: str, score: int) -> None:
    assert check_score(metric, score) == score


@pytest.mark.parametrize(
    "metric, score, priority",
    [
        ("nps", 0, "high"), ("nps", 3, "high"), ("nps", 4, "normal"), ("nps", 6, "normal"),
        ("csat", 1, "high"), ("csat", 2, "normal"),
        ("ces", 1, "high"), ("ces", 2, "normal"), ("ces", 3, "normal"),
    ],
)
def test_bottom_of_the_scale_raises_a_high_priority_alert(metric: str, score: int, priority: str) -> None:
    assert alert_priority(metric, score) == priority  # type: ignore[arg-type]


@pytest.mark.parametrize("metric", METRICS)
def test_every_high_priority_score_is_a_detractor(metric: str) -> None:
    for score in SCALES[metric].points():  # type: ignore[index]
        if alert_priority(metric, score) == "high":  # type: ignore[arg-type]
            assert classify(metric, score) == "detractor"  # type: ignore[arg-type]
