"""NPS with its adjusted Wald interval, and shares (CSAT top-2-box, CES % 5-7) with their Wilson interval."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from cxloop.metrics import ShareFigure, ces, csat, nps, share

Z = 1.959963984540054  # two-sided 95%


def adjusted_wald(promoters: int, passives: int, detractors: int) -> tuple[float, float]:
    """By hand from the definition: n+3 answers, with 3/4 of an answer added to promoters and to detractors."""
    n_adj = promoters + passives + detractors + 3
    p = (promoters + 3 / 4) / n_adj
    d = (detractors + 3 / 4) / n_adj
    # NPS is the mean of +1/0/-1 scores; its variance is E[x^2] - E[x]^2 = (p + d) - (p - d)^2.
    margin = Z * math.sqrt(((p + d) - (p - d) ** 2) / n_adj)
    return 100 * max(-1.0, p - d - margin), 100 * min(1.0, p - d + margin)


def test_nps_of_50_promoters_30_passives_20_detractors_is_30_with_adjusted_wald_interval() -> None:
    figure = nps(50, 30, 20)
    # n_adj = 103, p = 50.75/103, d = 20.75/103: centre 29.13, margin 15.08 points.
    assert (figure.n, figure.promoters, figure.passives, figure.detractors) == (100, 50, 30, 20)
    assert figure.nps == pytest.approx(30.0)
    assert figure.low == pytest.approx(14.0511, abs=1e-3)
    assert figure.high == pytest.approx(44.2013, abs=1e-3)


@pytest.mark.parametrize(
    "promoters, passives, detractors",
    [(50, 30, 20), (1, 0, 1), (3, 1, 0), (0, 5, 5), (2, 2, 2), (12, 40, 3), (410, 350, 240), (7, 0, 0), (0, 0, 9)],
)
def test_nps_interval_matches_the_adjusted_wald_definition(promoters: int, passives: int, detractors: int) -> None:
    figure = nps(promoters, passives, detractors)
    low, high = adjusted_wald(promoters, passives, detractors)
    n = promoters + passives + detractors
    assert figure.nps == pytest.approx(100 * (promoters - detractors) / n)
    assert (figure.low, figure.high) == (pytest.approx(low), pytest.approx(high))


@pytest.mark.parametrize(
    "promoters, passives, detractors",
    [(50, 30, 20), (1, 0, 1), (0, 1, 1), (3, 1, 0), (0, 5, 5), (10, 0, 1), (1, 0, 10), (1, 1, 1), (0, 7, 0)],
)
def test_nps_interval_contains_the_point_estimate(promoters: int, passives: int, detractors: int) -> None:
    figure = nps(promoters, passives, detractors)
    assert figure.low <= figure.nps <= figure.high


@pytest.mark.parametrize("promoters, passives, detractors", [(1000, 0, 0), (0, 0, 1000), (3, 0, 0), (0, 0, 1)])
def test_nps_interval_stays_within_minus_100_and_100(promoters: int, passives: int, detractors: int) -> None:
    figure = nps(promoters, passives, detractors)
    assert -100.0 <= figure.low <= figure.high <= 100.0


def test_nps_from_4000_answers_is_narrower_than_the_same_nps_from_40() -> None:
    widths = [nps(5 * k, 3 * k, 2 * k) for k in (4, 10, 40, 400)]
    assert [f.nps for f in widths] == [pytest.approx(30.0)] * 4
    spans = [f.high - f.low for f in widths]
    assert spans == sorted(spans, reverse=True) and len(set(spans)) == 4
    assert spans[0] > 8 * spans[-1]  # 100 times the answers: about a tenth of the width


def test_nps_of_no_answers_is_not_a_number() -> None:
    figure = nps(0, 0, 0)
    assert figure.n == 0
    assert math.isnan(figure.nps) and math.isnan(figure.low) and math.isnan(figure.high)


def test_nps_of_all_passives_is_zero() -> None:
    assert nps(0, 25, 0).nps == 0.0


def test_share_of_8_in_10_has_the_textbook_wilson_interval() -> None:
    figure = share(8, 10, 41.0)
    assert figure.n == 10
    assert figure.share == pytest.approx(80.0)
    assert figure.low == pytest.approx(49.02, abs=0.01)
    assert figure.high == pytest.approx(94.33, abs=0.01)
    assert figure.mean == pytest.approx(4.1)


@pytest.mark.parametrize("hits, n", [(1, 10), (5, 10), (9, 10), (50, 100), (1, 3), (123, 456), (999, 1000)])
def test_share_interval_contains_the_share_and_stays_within_0_and_100(hits: int, n: int) -> None:
    figure = share(hits, n, float(hits))
    assert 0.0 <= figure.low < figure.share < figure.high <= 100.0
    assert figure.share == pytest.approx(100.0 * hits / n)


@pytest.mark.parametrize("n", [1, 3, 10, 1000])
def test_share_of_none_and_of_all_touch_the_ends_of_the_scale(n: int) -> None:
    none, every = share(0, n, 0.0), share(n, n, float(n))
    assert none.low == pytest.approx(0.0, abs=1e-9) and none.share == 0.0 and none.high > 0.0
    assert every.high == pytest.approx(100.0) and every.share == 100.0 and every.low < 100.0


def test_share_interval_narrows_as_answers_grow() -> None:
    spans = [share(4 * k, 5 * k, 0.0) for k in (2, 20, 200)]
    widths = [f.high - f.low for f in spans]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == 3


def test_share_of_no_answers_is_not_a_number() -> None:
    figure = share(0, 0, 0.0)
    assert figure.n == 0
    assert all(math.isnan(v) for v in (figure.share, figure.low, figure.high, figure.mean))


@pytest.mark.parametrize(
    "figure_of, hits, n, score_sum, share_pct, mean",
    [(csat, 7, 10, 38.0, 70.0, 3.8), (ces, 3, 4, 22.0, 75.0, 5.5)],
)
def test_csat_and_ces_report_the_share_and_the_mean_score(
    figure_of: Callable[[int, int, float], ShareFigure], hits: int, n: int, score_sum: float, share_pct: float,
    mean: float,
) -> None:
    figure = figure_of(hits, n, score_sum)
    assert (figure.share, figure.mean) == (pytest.approx(share_pct), pytest.approx(mean))
