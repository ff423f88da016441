"""Figures as CX teams define them, with the intervals that keep small samples honest."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class NpsFigure:
    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float  # -100..100
    low: float  # 95% adjusted Wald interval
    high: float


def nps(promoters: int, passives: int, detractors: int) -> NpsFigure:
    """NPS = %promoters - %detractors, with a 95% adjusted Wald interval (n+3; +3/4 to P and D, +3/2 to passives)."""
    n = promoters + passives + detractors
    if n == 0:
        return NpsFigure(0, 0, 0, 0, math.nan, math.nan, math.nan)
    score = 100.0 * (promoters - detractors) / n
    n_adj = n + 3
    p = (promoters + 0.75) / n_adj
    d = (detractors + 0.75) / n_adj
    centre = p - d
    variance = (p + d - centre**2) / n_adj
    half = Z95 * math.sqrt(variance)
    return NpsFigure(
        n, promoters, passives, detractors, score, 100.0 * max(-1.0, centre - half), 100.0 * min(1.0, centre + half)
    )


@dataclass(frozen=True)
class ShareFigure:
    """A share of responses (CSAT top-2-box, CES % 5-7) with its mean score and 95% Wilson interval."""

    n: int
    share: float  # percent
    low: float
    high: float
    mean: float


def share(hits: int, n: int, score_sum: float) -> ShareFigure:
    if n == 0:
        return ShareFigure(0, math.nan, math.nan, math.nan, math.nan)
    p = hits / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return ShareFigure(n, 100.0 * p, 100.0 * (centre - half), 100.0 * (centre + half), score_sum / n)


def csat(satisfied: int, n: int, score_sum: float) -> ShareFigure:
    """CSAT: % of 4-5 answers (top-2-box), and the mean on 1-5."""
    return share(satisfied, n, score_sum)


def ces(easy: int, n: int, score_sum: float) -> ShareFigure:
    """CES 2.0: % of 5-7 answers ("made it easy"), and the mean on 1-7."""
    return share(easy, n, score_sum)
