"""Driver analysis: planted drivers are found and ranked, noise is not significant, theme impacts match a hand count."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import numpy as np
import pytest

from cxloop.drivers import (
    MIN_ROWS,
    DriverModel,
    NotEnoughData,
    driver_model,
    drivers_report,
    key_drivers,
    relative_weights,
    t_quantile_975,
    theme_impacts,
)
from cxloop.scoring import classify

Z = 1.959963984540054
PLANTED = {"resolved", "theme:wait_time"}


def answer(score: int, themes: list[str] | None = None, metric: str = "nps", **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "metric": metric, "score": score, "category": category(metric, score),
        "themes": themes or [], "resolved": True, "handle_time_seconds": 300, "wait_time_seconds": 60,
        "transfers": 0, "interaction_channel": "voice", "handled_by": "human",
    }
    row.update(extra)
    return row


def category(metric: str, score: int) -> str:
    """As scored, or "detractor" for the out-of-range scores the validation tests feed in."""
    try:
        return classify(metric, score)  # type: ignore[arg-type]
    except ValueError:
        return "detractor"


def survey(seed: int, n: int = 1500, planted: bool = True) -> list[dict[str, Any]]:
    """NPS answers where (when `planted`) first-contact resolution lifts the score by 2.5 points and the wait_time
    theme lowers it by 2.5; transfers, handle and wait time, bot, channel and the billing theme do nothing."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        resolved, waited, billing = rng.random() < 0.7, rng.random() < 0.3, rng.random() < 0.2
        latent = 6.5 + rng.gauss(0, 1.5) + (2.5 * resolved - 2.5 * waited if planted else 0.0)
        score = max(0, min(10, round(latent)))
        themes = [t for t, on in (("wait_time", waited), ("billing", billing)) if on]
        rows.append(answer(score, themes, survey_id=f"sv{i}", resolved=resolved,
                           handle_time_seconds=rng.randint(60, 900), wait_time_seconds=rng.randint(0, 600),
                           transfers=rng.choice([0, 0, 0, 1, 1, 2, 3]),
                           interaction_channel=rng.choice(["voice", "chat", "email"]),
                           handled_by="bot" if rng.random() < 0.25 else "human"))
    return rows


def ols_r2(x: np.ndarray, y: np.ndarray) -> float:
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    return float(1 - residual @ residual / ((y - y.mean()) @ (y - y.mean())))


@pytest.fixture(scope="module")
def planted() -> DriverModel:
    return driver_model(survey(1), "nps", bootstrap=500, seed=0)


# --- key drivers ------------------------------------------------------------------------------------------------


def test_the_two_planted_drivers_rank_first_and_are_significant(planted: DriverModel) -> None:
    names = [d.name for d in planted.drivers]
    assert set(names[:2]) == PLANTED
    assert all(d.significant and d.low > 0.15 for d in planted.drivers[:2])
    by_name = {d.name: d for d in planted.drivers}
    assert by_name["resolved"].r > 0.3 and by_name["theme:wait_time"].r < -0.3, "direction comes with r"
    assert by_name["resolved"].rescaled + by_name["theme:wait_time"].rescaled > 95


def test_everything_not_planted_is_in_the_model_but_not_significant(planted: DriverModel) -> None:
    others = [d for d in planted.drivers if d.name not in PLANTED]
    assert {d.name for d in others} == {"theme:billing", "handle_time_seconds", "wait_time_seconds", "transfers",
                                        "bot", "channel:chat", "channel:voice"}
    assert planted.reference_channel == "email" and planted.dropped == []
    assert [d.name for d in others if d.significant] == []
    assert all(d.noise_margin_low < 0 and d.weight < 0.01 for d in others)


def test_relative_weights_sum_to_the_models_r2(planted: DriverModel) -> None:
    rows = survey(1)
    x = np.array([[float(r["resolved"]), float("wait_time" in r["themes"]), r["transfers"]] for r in rows])
    y = np.array([r["score"] for r in rows], dtype=float)
    assert sum(d.weight for d in planted.drivers) == pytest.approx(planted.r2, abs=1e-12)
    assert sum(d.rescaled for d in planted.drivers) == pytest.approx(100.0)
    assert planted.r2 > ols_r2(x, y) > 0.5, "the full model explains at least what the planted factors do"
    assert all(d.low <= d.weight <= d.high for d in planted.drivers[:2])
    weights, r2 = relative_weights(x, y)
    assert weights.sum() == pytest.approx(r2) and r2 == pytest.approx(ols_r2(x, y))


def test_relative_weights_of_correlated_predictors_sum_to_the_ols_r2() -> None:
    rng = np.random.default_rng(3)
    base = rng.standard_normal((400, 1))
    x = np.column_stack([base + 0.5 * rng.standard_normal((400, 1)), base, rng.standard_normal(400)])
    y = x @ np.array([1.0, 0.5, -0.3]) + rng.standard_normal(400)
    weights, r2 = relative_weights(x, y)
    assert r2 == pytest.approx(ols_r2(x, y)) and weights.sum() == pytest.approx(r2)
    assert (weights > 0).all()


def test_uncorrelated_predictors_weigh_their_squared_correlation() -> None:
    """A fully crossed balanced design has exactly uncorrelated predictors: Johnson's weights are then r^2."""
    x = np.array([[a, b] for a in (0.0, 1.0) for b in (0.0, 1.0)] * 25)
    y = 2 * x[:, 0] - x[:, 1] + np.random.default_rng(2).standard_normal(100)
    weights, r2 = relative_weights(x, y)
    r = [np.corrcoef(x[:, j], y)[0, 1] for j in range(2)]
    assert weights == pytest.approx(np.square(r))
    assert r2 == pytest.approx(ols_r2(x, y))


def test_an_exact_duplicate_predictor_shares_the_weight_and_keeps_the_sum() -> None:
    rng = np.random.default_rng(4)
    x1 = rng.standard_normal(200)
    y = x1 + rng.standard_normal(200)
    weights, r2 = relative_weights(np.column_stack([x1, x1]), y)
    assert weights[0] == pytest.approx(weights[1]) and r2 == pytest.approx(np.corrcoef(x1, y)[0, 1] ** 2)


def test_with_no_relationship_nothing_is_significant() -> None:
    model = driver_model(survey(7, planted=False), "nps", bootstrap=300, seed=1)
    assert len(model.drivers) == 9
    assert [d.name for d in model.drivers if d.significant] == []
    assert model.r2 < 0.02


def test_the_same_seed_gives_the_same_model_and_another_seed_only_other_intervals() -> None:
    rows = survey(2, n=300)
    first = driver_model(rows, "nps", bootstrap=150, seed=5)
    assert driver_model(rows, "nps", bootstrap=150, seed=5) == first
    other = driver_model(rows, "nps", bootstrap=150, seed=6)
    assert [(d.name, d.weight) for d in other.drivers] == [(d.name, d.weight) for d in first.drivers]
    assert [d.low for d in other.drivers] != [d.low for d in first.drivers]
    assert key_drivers(rows, "nps", bootstrap=150, seed=5) == first.drivers


def test_answers_of_other_metrics_are_ignored() -> None:
    rows = survey(2, n=300)
    noise = [answer(random.Random(i).randint(1, 5), ["wait_time"], metric="csat", resolved=False) for i in range(200)]
    assert driver_model(rows + noise, "nps", bootstrap=100, seed=0) == driver_model(rows, "nps", bootstrap=100,
                                                                                    seed=0)


# --- edge cases -------------------------------------------------------------------------------------------------


def test_constant_predictors_are_dropped_and_a_single_channel_has_no_dummies() -> None:
    rows = [dict(r, transfers=0, handled_by="human", interaction_channel="voice") for r in survey(3, n=200)]
    model = driver_model(rows, "nps", bootstrap=100)
    assert model.dropped == ["transfers", "bot"]
    assert model.reference_channel == "voice"
    assert {d.name for d in model.drivers} == {"theme:wait_time", "theme:billing", "resolved",
                                               "handle_time_seconds", "wait_time_seconds"}


def test_a_theme_mentioned_fewer_than_10_times_is_not_a_predictor() -> None:
    rows = survey(3, n=200)
    for i, row in enumerate(rows):
        row["themes"] = [*row["themes"], "rude"] if i < 9 else row["themes"]
    names = {d.name for d in key_drivers(rows, "nps", bootstrap=100)}
    assert "theme:rude" not in names and "theme:wait_time" in names
    assert "rude" in {t.theme for t in theme_impacts(rows, "nps")}, "theme impacts still list it"


def test_too_few_answers_raise_with_the_count() -> None:
    message = rf"too few nps answers for a driver model: 29 \(need at least {MIN_ROWS}\)"
    with pytest.raises(NotEnoughData, match=message):
        key_drivers(survey(4, n=MIN_ROWS - 1), "nps")


def test_a_metric_without_answers_has_no_impacts_and_no_drivers() -> None:
    rows = survey(4, n=100)
    assert theme_impacts(rows, "csat") == []
    with pytest.raises(NotEnoughData, match="too few csat answers for a driver model: 0"):
        key_drivers(rows, "csat")
    report = drivers_report(rows, "csat", bootstrap=100)
    assert (report["n"], report["impacts"], report["drivers"], report["r2"]) == (0, [], [], None)
    assert "too few csat answers" in report["drivers_unavailable"]


def test_all_equal_scores_or_no_varying_predictor_raise() -> None:
    with pytest.raises(NotEnoughData, match="all 40 nps answers score 7: there is no variation"):
        key_drivers([answer(7) for _ in range(40)], "nps")
    with pytest.raises(NotEnoughData, match="no predictor varies over the 40 nps answers"):
        key_drivers([answer(i % 11) for i in range(40)], "nps")


@pytest.mark.parametrize(
    "rows, metric, message",
    [
        ([answer(5)], "nope", "unknown metric 'nope'"),
        ([answer(11)], "nps", "nps score must be an integer 0-10, got 11"),
        ([answer(6, metric="csat")], "csat", "csat score must be an integer 1-5, got 6"),
    ],
)
def test_bad_input_raises_value_error(rows: list[dict[str, Any]], metric: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        theme_impacts(rows, metric)


def test_a_missing_field_or_too_few_replicates_raise() -> None:
    rows = survey(5, n=60)
    del rows[3]["wait_time_seconds"]
    with pytest.raises(ValueError, match=r"answer 3 \(sv3\) has no wait_time_seconds"):
        key_drivers(rows, "nps", bootstrap=100)
    with pytest.raises(ValueError, match="bootstrap must be at least 100 replicates, got 10"):
        key_drivers(survey(5, n=60), "nps", bootstrap=10)
    for bad in (lambda: drivers_report(rows, "nps", bootstrap=100), lambda: drivers_report(rows, "nps", bootstrap=10)):
        with pytest.raises(ValueError) as raised:
            bad()
        assert not isinstance(raised.value, NotEnoughData), "a caller's mistake is raised, not reported"


# --- theme impacts ----------------------------------------------------------------------------------------------


def wilson(hits: int, n: int) -> tuple[float, float]:
    p = hits / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return 100 * (centre - half), 100 * (centre + half)


def test_nps_theme_impacts_match_a_hand_count() -> None:
    rows = [answer(0, ["wait_time", "rude"]), answer(3, ["wait_time"]), answer(6, ["wait_time"]),
            answer(8, ["wait_time"]), answer(10), answer(9, ["rude"]), answer(7), answer(5), answer(10, ["billing"]),
            answer(9), answer(1, ["wait_time"], metric="csat")]  # the CSAT answer does not count
    wait, rude, billing = theme_impacts(rows, "nps")
    # 10 NPS answers; wait_time: 4 answers (0, 3, 6, 8), 3 detractors -> NPS +30 if they were passives.
    assert (wait.theme, wait.n, wait.share, wait.unfavourable, wait.impact) == ("wait_time", 4, 40.0, 3, 30.0)
    assert (wait.impact_low, wait.impact_high) == (pytest.approx(wilson(3, 10)[0]), pytest.approx(wilson(3, 10)[1]))
    assert (wait.impact_low, wait.impact_high) == (pytest.approx(10.78, abs=0.01), pytest.approx(60.32, abs=0.01))
    # mean 4.25, s = sqrt(36.75 / 3) = 3.5; t(0.975, 3) = 3.182446
    assert wait.mean_with == 4.25
    assert wait.mean_with_low == pytest.approx(4.25 - 3.182446305284263 * 3.5 / 2)
    assert wait.mean_with_high == pytest.approx(4.25 + 3.182446305284263 * 3.5 / 2)
    # without: 10, 9, 7, 5, 10, 9 -> mean 50/6, s^2 = 19.3333 / 5; t(0.975, 5) = 2.570582
    assert (wait.n_without, wait.mean_without) == (6, pytest.approx(50 / 6))
    half = 2.570581835636314 * math.sqrt(116 / 30) / math.sqrt(6)
    assert (wait.mean_without_low, wait.mean_without_high) == (pytest.approx(50 / 6 - half),
                                                               pytest.approx(50 / 6 + half))
    # rude: 0 and 9 -> one detractor, +10; billing: one promoter, nothing to gain, no interval from one answer.
    assert (rude.theme, rude.n, rude.unfavourable, rude.impact, rude.mean_with) == ("rude", 2, 1, 10.0, 4.5)
    assert (billing.theme, billing.n, billing.unfavourable, billing.impact) == ("billing", 1, 0, 0.0)
    assert billing.mean_with == 10.0 and math.isnan(billing.mean_with_low) and math.isnan(billing.mean_with_high)
    assert billing.impact_low == 0.0 and billing.impact_high == pytest.approx(wilson(0, 10)[1])


@pytest.mark.parametrize(
    "metric, scores, unfavourable",
    [("nps", [6, 7, 9], 1), ("csat", [3, 4, 5], 1), ("csat", [1, 2, 3], 3), ("ces", [4, 5, 7], 1),
     ("ces", [1, 3, 4], 3)],
)
def test_unfavourable_is_detractors_for_nps_and_outside_the_top_box_for_csat_and_ces(
        metric: str, scores: list[int], unfavourable: int) -> None:
    rows = [answer(s, ["x"], metric=metric) for s in scores] + [answer(5, metric=metric)]
    (impact,) = theme_impacts(rows, metric)
    assert impact.unfavourable == unfavourable and impact.impact == pytest.approx(100 * unfavourable / 4)


def test_theme_impacts_rank_by_impact_then_n_then_name() -> None:
    rows = [answer(2, ["b", "a"]), answer(9, ["a"]), answer(9, ["c"]), answer(3, ["c"]), answer(9, ["c"])]
    assert [t.theme for t in theme_impacts(rows, "nps")] == ["c", "a", "b"]


@pytest.mark.parametrize("df, t", [(1, 12.706204736174698), (2, 4.302652729749464), (3, 3.182446305284263),
                                   (10, 2.228138851986274), (100, 1.983971518523552), (1000, 1.962339080826407)])
def test_t_quantile_matches_the_table(df: int, t: float) -> None:
    assert t_quantile_975(df) == pytest.approx(t, abs=1e-9)


# --- report -----------------------------------------------------------------------------------------------------


def test_the_report_is_json_ready_and_agrees_with_the_parts() -> None:
    rows = survey(6, n=400)
    rows[0]["themes"] = ["one_off"]  # a theme with one answer: its mean interval is NaN -> null
    report = drivers_report(rows, "nps", bootstrap=100, seed=2)
    json.dumps(report, allow_nan=False)
    model = driver_model(rows, "nps", bootstrap=100, seed=2)
    assert report["n"] == model.n == 400 and report["r2"] == pytest.approx(model.r2)
    assert [d["name"] for d in report["drivers"]] == [d.name for d in model.drivers]
    assert [d["significant"] for d in report["drivers"]] == [d.significant for d in model.drivers]
    assert [i["theme"] for i in report["impacts"]] == [t.theme for t in theme_impacts(rows, "nps")]
    one_off = next(i for i in report["impacts"] if i["theme"] == "one_off")
    assert one_off["mean_with_low"] is None and report["drivers_unavailable"] is None
    assert report["reference_channel"] == model.reference_channel and "computed_at" not in report
    assert report["significance"].startswith("significant when")
