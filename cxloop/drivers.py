"""Driver analysis: which themes and operational factors move a survey metric, and by how much.

Pure functions over answer rows as read from ClickHouse `survey_scored` (one dict per answer, see `Row`); no I/O.
Rows of other metrics are ignored, so a caller may pass every answer of a period.

- `theme_impacts`: per comment theme, how many answers mention it, the mean score with and without it, and the
  headline points the metric would gain if that theme's unfavourable answers were fixed (see `theme_impacts`).
- `key_drivers` / `driver_model`: Johnson's relative weights of the score on themes, first-contact resolution,
  handle time, wait time, transfers, bot vs human and channel, with bootstrap intervals and a significance test
  against a random noise predictor (see `driver_model`).
- `drivers_report`: both, as a JSON-ready dict to cache (the caller adds `computed_at`).

Scores are used on the metric's own scale (NPS 0-10, CSAT 1-5, CES 1-7, `cxloop.scoring.SCALES`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from cxloop import metrics
from cxloop.scoring import SCALES, Metric, check_score

Row = Mapping[str, Any]
FloatArray = npt.NDArray[np.float64]

MIN_ROWS = 30  # as `cxloop.figures.LOW_N`: fewer answers than this are too few to fit a driver model
MIN_THEME_ANSWERS = 10  # a theme becomes a predictor when at least this many answers mention it
MIN_BOOTSTRAP = 100
OPERATIONAL = ("resolved", "handle_time_seconds", "wait_time_seconds", "transfers", "bot")
SIGNIFICANCE = ("significant when the 2.5% bootstrap quantile of (raw weight - raw weight of a standard-normal "
                "noise predictor added to the model, redrawn in every replicate) is above 0 "
                "(Tonidandel, LeBreton & Johnson 2009)")


class NotEnoughData(ValueError):
    """The answers cannot support a driver model (too few, no variation); `drivers_report` reports it instead."""


# --- theme impacts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeImpact:
    """One theme's footprint on one metric. Percentages are 0-100; intervals are 95%; NaN when undefined."""

    theme: str
    n: int  # answers mentioning the theme
    share: float  # % of the metric's answers mentioning it
    unfavourable: int  # of those, answers counting against the headline (NPS 0-6, CSAT 1-3, CES 1-4)
    impact: float  # headline points gained if those became neutral/favourable: 100 * unfavourable / all answers
    impact_low: float  # Wilson interval of unfavourable / all answers, times 100
    impact_high: float
    mean_with: float  # mean score of answers mentioning the theme, with a Student-t interval
    mean_with_low: float
    mean_with_high: float
    n_without: int
    mean_without: float  # mean score of the other answers of the metric
    mean_without_low: float
    mean_without_high: float


def theme_impacts(rows: Iterable[Row], metric: str) -> list[ThemeImpact]:
    """Per theme mentioned in `metric`'s answers, its impact in the metric's headline points, largest first.

    Impact is what the overall headline would gain if the theme's unfavourable answers stopped counting against it,
    everything else unchanged, over all N answers of the metric:

    - NPS: the theme's detractors (0-6) becoming passives. NPS = %promoters - %detractors, so it rises by
      100 * detractors_with_theme / N.
    - CSAT: the theme's answers outside the top-2-box (1-3) becoming satisfied (4-5): top-2-box % rises by
      100 * answers_1_to_3_with_theme / N.
    - CES: the theme's answers outside "made it easy" (1-4) becoming 5-7: % easy rises by
      100 * answers_1_to_4_with_theme / N.

    The impact's 95% interval is the Wilson interval of that proportion (`cxloop.metrics.share`) times 100. An answer
    mentioning several themes counts for each, so impacts overlap and do not add up. Mean scores come with a
    Student-t 95% interval (NaN for fewer than 2 answers). Ties are ordered by n, then theme name.
    No answers for the metric gives []; an unknown metric or an out-of-range score raises ValueError.
    """
    answers = _answers(rows, metric)
    total = len(answers)
    if total == 0:
        return []
    scale = SCALES[metric]  # type: ignore[index]
    cutoff = scale.detractor_max if metric == "nps" else scale.passive_max  # at or below: counts against
    scores = np.array([score for score, _ in answers], dtype=float)
    themes = sorted({theme for _, mentioned in answers for theme in mentioned})
    out = []
    for theme in themes:
        mask = np.array([theme in mentioned for _, mentioned in answers])
        with_theme, without = scores[mask], scores[~mask]
        unfavourable = int(np.count_nonzero(with_theme <= cutoff))
        proportion = metrics.share(unfavourable, total, 0.0)
        w_low, w_high = mean_interval(with_theme)
        o_low, o_high = mean_interval(without)
        out.append(ThemeImpact(
            theme=theme, n=int(mask.sum()), share=100.0 * float(mask.sum()) / total, unfavourable=unfavourable,
            impact=proportion.share, impact_low=proportion.low, impact_high=proportion.high,
            mean_with=_mean(with_theme), mean_with_low=w_low, mean_with_high=w_high,
            n_without=int(without.size), mean_without=_mean(without), mean_without_low=o_low,
            mean_without_high=o_high))
    return sorted(out, key=lambda t: (-t.impact, -t.n, t.theme))


def mean_interval(values: Sequence[float] | FloatArray) -> tuple[float, float]:
    """95% Student-t interval of a mean: mean +/- t(0.975, n-1) * s / sqrt(n); NaN for fewer than 2 values."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return math.nan, math.nan
    mean = float(x.mean())
    half = t_quantile_975(x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return mean - half, mean + half


@lru_cache(maxsize=256)
def t_quantile_975(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom (two-sided 95%).

    Exact (to 1e-12) up to 300 degrees of freedom: bisection on the closed-form t distribution for integer df
    (Abramowitz & Stegun 26.7.3-4). Above that, the Cornish-Fisher expansion A&S 26.7.5, accurate to ~1e-10 there.
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    if df > 300:
        z = metrics.Z95
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
        g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
        return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4
    low, high = 0.0, 1000.0
    for _ in range(200):
        mid = (low + high) / 2
        if _t_central(mid, df) < 0.95:
            low = mid
        else:
            high = mid
        if high - low < 1e-13:
            break
    return (low + high) / 2


def _t_central(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with integer `df` (A&S 26.7.3 for odd df, 26.7.4 for even)."""
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2:
        term, total = math.cos(theta), 0.0
        if df > 1:
            total = term
            for k in range(3, df - 1, 2):  # cos^k theta terms with coefficients 2/3, 2*4/(3*5), ...
                term *= c2 * (k - 1) / k
                total += term
        return 2 / math.pi * (theta + math.sin(theta) * total)
    term, total = 1.0, 1.0
    for k in range(2, df - 1, 2):  # 1/2 cos^2, 1*3/(2*4) cos^4, ...
        term *= c2 * (k - 1) / k
        total += term
    return math.sin(theta) * total


# --- key drivers ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Driver:
    """One predictor's share of the explained variance of the score (Johnson's relative weight)."""

    name: str  # theme:<id>, resolved, handle_time_seconds, wait_time_seconds, transfers, bot, channel:<name>
    weight: float  # raw relative weight: its part of R^2 (the weights sum to R^2)
    rescaled: float  # weight as % of R^2 (sums to 100)
    low: float  # 95% percentile bootstrap interval of the raw weight
    high: float
    noise_margin_low: float  # 2.5% bootstrap quantile of (weight - weight of a noise predictor)
    significant: bool  # noise_margin_low > 0
    r: float  # Pearson correlation with the score: the direction (relative weights have no sign)


@dataclass(frozen=True)
class DriverModel:
    metric: str
    n: int
    r2: float  # R^2 of the linear model of the score on all predictors = sum of raw weights
    drivers: list[Driver]  # largest weight first
    dropped: list[str] = field(default_factory=list)  # constant in the data, left out
    reference_channel: str | None = None  # the channel the channel:<name> dummies are compared with
    bootstrap: int = 0
    seed: int = 0


def key_drivers(rows: Iterable[Row], metric: str, bootstrap: int = 500, seed: int = 0) -> list[Driver]:
    """The drivers of `driver_model`, largest raw weight first (the model's R^2 is the sum of their weights)."""
    return driver_model(rows, metric, bootstrap=bootstrap, seed=seed).drivers


def driver_model(rows: Iterable[Row], metric: str, bootstrap: int = 500, seed: int = 0) -> DriverModel:
    """Johnson's (2000) relative weights of `metric`'s score on its candidate drivers, with bootstrap inference.

    Predictors, one column per answer:
    - `theme:<id>`: 1 when the answer mentions the theme, for themes mentioned by at least `MIN_THEME_ANSWERS`;
    - `resolved` (first-contact resolution, 0/1), `handle_time_seconds`, `wait_time_seconds`, `transfers`
      (as numbers, linear), `bot` (1 when `handled_by == "bot"`);
    - `channel:<name>`: one 0/1 column per interaction channel except the reference, the most frequent channel
      (ties: first by name).
    Columns that are constant over the answers are dropped (listed in `dropped`).

    Relative weights: with R the predictors' correlation matrix = P diag(d) P', the orthogonal approximation of the
    standardised predictors is Z = X R^(-1/2), Lambda = R^(1/2) holds the correlations of the predictors with Z, and
    beta = Lambda^(-1) r_xy the (standardised) regression of the score on Z. The raw weight of predictor j is
    sum_k Lambda_jk^2 beta_k^2; the raw weights sum to R^2 of the ordinary least-squares model. A singular R (exactly
    collinear predictors) is handled with the pseudo-inverse, which keeps that sum.

    Inference: `bootstrap` resamples of the answers (with replacement, numpy generator seeded with `seed`). Each
    replicate refits the model, giving the percentile 95% interval of each raw weight, and fits it once more with an
    extra standard-normal noise predictor, drawn afresh for every replicate. A driver is significant when the 2.5%
    quantile of (its weight - the noise predictor's weight) over the replicates is above 0: it explains more than a
    predictor known to be irrelevant in at least 97.5% of resamples (Tonidandel, LeBreton & Johnson 2009, Psychol.
    Methods 14(4); redrawing the noise keeps the verdict from hinging on one lucky or unlucky draw). The test is per
    driver, not corrected for the number of drivers.

    Raises NotEnoughData (a ValueError, with the reason) for fewer than `MIN_ROWS` answers or not more answers than
    predictors + 1, all scores equal, or no predictor that varies; ValueError for an unknown metric, an out-of-range
    score, a missing or non-numeric field, or `bootstrap` below `MIN_BOOTSTRAP`.
    """
    if bootstrap < MIN_BOOTSTRAP:
        raise ValueError(f"bootstrap must be at least {MIN_BOOTSTRAP} replicates, got {bootstrap}")
    selected = [row for row in rows if row.get("metric") == metric]
    answers = _answers(selected, metric)
    n = len(answers)
    if n < MIN_ROWS:
        raise NotEnoughData(f"too few {metric} answers for a driver model: {n} (need at least {MIN_ROWS})")
    y = np.array([score for score, _ in answers], dtype=float)
    if np.all(y == y[0]):
        raise NotEnoughData(f"all {n} {metric} answers score {y[0]:g}: there is no variation to explain")
    names, x, dropped, reference = _design(selected, [mentioned for _, mentioned in answers])
    if not names:
        raise NotEnoughData(f"no predictor varies over the {n} {metric} answers (constant: {', '.join(dropped)})")
    if n <= len(names) + 1:
        raise NotEnoughData(f"too few {metric} answers for {len(names)} predictors: {n} (need more than "
                            f"{len(names) + 1})")

    weights, r2 = relative_weights(x, y)
    rng = np.random.default_rng(seed)
    boot = np.empty((bootstrap, len(names)))
    margin = np.empty((bootstrap, len(names)))
    for b in range(bootstrap):
        idx = rng.integers(0, n, size=n)
        xb, yb = x[idx], y[idx]
        boot[b], _ = relative_weights(xb, yb)
        with_noise, _ = relative_weights(np.column_stack([xb, rng.standard_normal(n)]), yb)
        margin[b] = with_noise[:-1] - with_noise[-1]
    lows, highs = np.quantile(boot, [0.025, 0.975], axis=0)
    margin_lows = np.quantile(margin, 0.025, axis=0)
    rs = _correlations(x, y)
    drivers = [
        Driver(name=name, weight=float(weights[j]), rescaled=100.0 * float(weights[j]) / r2 if r2 > 0 else math.nan,
               low=float(lows[j]), high=float(highs[j]), noise_margin_low=float(margin_lows[j]),
               significant=bool(margin_lows[j] > 0), r=float(rs[j]))
        for j, name in enumerate(names)
    ]
    drivers.sort(key=lambda d: (-d.weight, d.name))
    return DriverModel(metric=metric, n=n, r2=float(r2), drivers=drivers, dropped=dropped,
                       reference_channel=reference, bootstrap=bootstrap, seed=seed)


def relative_weights(x: FloatArray, y: FloatArray) -> tuple[FloatArray, float]:
    """Johnson's raw relative weights of the columns of `x` for `y`, and the model's R^2 (their sum).

    A constant column (possible in a bootstrap resample) gets weight 0; a constant `y` gives all zeros and R^2 0.
    """
    xs = _standardise(x)
    ys = _standardise(y.reshape(-1, 1))[:, 0]
    n = y.size
    if not ys.any():
        return np.zeros(x.shape[1]), 0.0
    corr = xs.T @ xs / n
    r_xy = xs.T @ ys / n
    eigenvalues, vectors = np.linalg.eigh(corr)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    keep = eigenvalues > max(float(eigenvalues.max()), 1.0) * 1e-10
    root = np.sqrt(eigenvalues)
    inverse_root = np.where(keep, 1.0 / np.where(keep, root, 1.0), 0.0)
    lam = (vectors * root) @ vectors.T  # R^(1/2)
    beta = (vectors * inverse_root) @ vectors.T @ r_xy  # R^(-1/2) r_xy: regression of y on Z
    weights = (lam**2) @ (beta**2)
    return weights, float(np.sum(beta**2))


# --- report -----------------------------------------------------------------------------------------------------


def drivers_report(rows: Iterable[Row], metric: str, bootstrap: int = 500, seed: int = 0) -> dict[str, Any]:
    """Theme impacts and key drivers of `metric` as a JSON-ready dict (NaN becomes null); `computed_at` is the
    caller's. When the answers cannot support a driver model (`NotEnoughData`: too few, no variation), `drivers` is
    [], `r2` null and `drivers_unavailable` says why; the theme impacts are still there. Other ValueErrors (unknown
    metric, bad score or field, too few replicates) are raised."""
    if bootstrap < MIN_BOOTSTRAP:
        raise ValueError(f"bootstrap must be at least {MIN_BOOTSTRAP} replicates, got {bootstrap}")
    rows = list(rows)
    impacts = theme_impacts(rows, metric)
    n = sum(1 for row in rows if row.get("metric") == metric)
    report: dict[str, Any] = {
        "metric": metric, "n": n, "impacts": [_json(asdict(i)) for i in impacts], "drivers": [], "r2": None,
        "dropped": [], "reference_channel": None, "bootstrap": bootstrap, "seed": seed,
        "significance": SIGNIFICANCE, "drivers_unavailable": None,
    }
    try:
        model = driver_model(rows, metric, bootstrap=bootstrap, seed=seed)
    except NotEnoughData as e:
        report["drivers_unavailable"] = str(e)
        return report
    report.update(drivers=[_json(asdict(d)) for d in model.drivers], r2=_finite(model.r2),
                  dropped=list(model.dropped), reference_channel=model.reference_channel)
    return report


# --- helpers ----------------------------------------------------------------------------------------------------


def _answers(rows: Iterable[Row], metric: str) -> list[tuple[int, frozenset[str]]]:
    """(score, themes) of each answer of `metric`, scores checked against the scale."""
    if metric not in SCALES:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(SCALES)}")
    m: Metric = metric
    out = []
    for row in rows:
        if row.get("metric") != m:
            continue
        out.append((check_score(m, row.get("score")), frozenset(row.get("themes") or ())))
    return out


def _design(rows: Sequence[Row], themes: Sequence[frozenset[str]]) -> tuple[list[str], FloatArray, list[str],
                                                                            str | None]:
    """Predictor names, the n x p matrix, the constant (dropped) candidates and the reference channel."""
    counts = Counter(theme for mentioned in themes for theme in mentioned)
    columns: dict[str, list[float]] = {}
    for theme in sorted(t for t, c in counts.items() if c >= MIN_THEME_ANSWERS):
        columns[f"theme:{theme}"] = [1.0 if theme in mentioned else 0.0 for mentioned in themes]
    columns["resolved"] = [float(bool(_field(row, "resolved", i))) for i, row in enumerate(rows)]
    for key in ("handle_time_seconds", "wait_time_seconds", "transfers"):
        columns[key] = [_number(row, key, i) for i, row in enumerate(rows)]
    columns["bot"] = [1.0 if _field(row, "handled_by", i) == "bot" else 0.0 for i, row in enumerate(rows)]
    channels = [str(_field(row, "interaction_channel", i)) for i, row in enumerate(rows)]
    by_count = Counter(channels)
    reference = min(by_count, key=lambda c: (-by_count[c], c)) if by_count else None
    for channel in sorted(c for c in by_count if c != reference):
        columns[f"channel:{channel}"] = [1.0 if c == channel else 0.0 for c in channels]
    names, dropped, kept = [], [], []
    for name, values in columns.items():
        if len(set(values)) > 1:
            names.append(name)
            kept.append(values)
        else:
            dropped.append(name)
    x = np.array(kept, dtype=float).T if kept else np.empty((len(rows), 0))
    return names, x, dropped, reference


def _field(row: Row, key: str, index: int) -> Any:
    value = row.get(key)
    if value is None:
        raise ValueError(f"answer {index} ({row.get('survey_id', 'no survey_id')}) has no {key}")
    return value


def _number(row: Row, key: str, index: int) -> float:
    value = _field(row, key, index)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"answer {index}: {key} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"answer {index}: {key} is not finite: {value!r}")
    return number


def _standardise(x: FloatArray) -> FloatArray:
    """Columns centred and scaled to unit (population) variance; constant columns become 0."""
    centred = x - x.mean(axis=0)
    sd = np.sqrt((centred**2).mean(axis=0))
    return np.where(sd > 0, centred / np.where(sd > 0, sd, 1.0), 0.0)


def _correlations(x: FloatArray, y: FloatArray) -> FloatArray:
    return _standardise(x).T @ _standardise(y.reshape(-1, 1))[:, 0] / y.size


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if values.size else math.nan


def _finite(value: float) -> float | None:
    return None if isinstance(value, float) and math.isnan(value) else value


def _json(record: dict[str, Any]) -> dict[str, Any]:
    return {key: _finite(value) if isinstance(value, float) else value for key, value in record.items()}
