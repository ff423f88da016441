"""Theme coding quality on two labelled sets written for the tests by two writers (tests/data/themed_comments.yaml,
tests/data/themed_comments_b.yaml, 632 comments): the coder must find the problems people raise, in English and
Spanish. The sets are checked first, so a floor is never met by shrinking or mislabelling them.

The floors that matter hold on the held-out half of the second set (165 comments marked `held_out`), which was never
read while the cues were improved: they guard what was measured there (micro-F1 0.68 overall, 0.71 English, 0.65
Spanish), not the 0.80 the product aims for. A second annotator labelling those comments blind agreed with the
writer at micro-F1 0.99, so the gap is the coder's, not the labels'. The development floor (measured 0.85) guards the
cues against regressions; it says nothing about unseen comments. The metrics are bench/themes.py's
(`python -m bench.themes` prints them per theme, with the development misses)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bench.themes import CATEGORIES, LANGS, Coded, Item, code_all, load_items, problem_scores, split
from cxloop.themes import ThemeCoder, load_themes

MICRO_F1_FLOOR = 0.65  # held out; measured 0.68
MICRO_F1_FLOOR_ES = 0.60  # held out, Spanish; measured 0.65
MICRO_F1_FLOOR_DEVELOPMENT = 0.82  # the comments the cues were improved on; measured 0.85


@pytest.fixture(scope="module")
def theme_ids() -> list[str]:
    return [t.id for t in load_themes().themes]


@pytest.fixture(scope="module")
def items() -> list[Item]:
    return load_items()


@pytest.fixture(scope="module")
def coded(items: list[Item]) -> list[Coded]:
    """The held-out comments, coded."""
    return code_all(split(items)[1], ThemeCoder(load_themes()).code)


def test_the_labelled_set_is_sound(items: list[Item], theme_ids: list[str]) -> None:
    assert len(items) >= 600
    langs = Counter(i.lang for i in items)
    assert set(langs) <= set(LANGS)
    assert langs["es"] >= 180
    held = split(items)[1]
    assert len(held) >= 160 and Counter(i.lang for i in held)["es"] >= 55
    assert {i.category for i in items} <= set(CATEGORIES)
    unknown = {t for i in items for t in i.themes | i.praised} - set(theme_ids)
    assert not unknown, f"theme ids not in the taxonomy: {sorted(unknown)}"
    problems = Counter(t for i in items for t in i.themes)
    thin = {t: problems[t] for t in theme_ids if problems[t] < 40}
    assert not thin, f"themes with fewer than 40 problem labels: {thin}"
    held_problems = Counter(t for i in held for t in i.themes)
    thin = {t: held_problems[t] for t in theme_ids if held_problems[t] < 12}
    assert not thin, f"themes with fewer than 12 held-out problem labels: {thin}"
    texts = Counter(" ".join(i.text.casefold().split()) for i in items)
    assert not [t for t, n in texts.items() if n > 1], "duplicate comments"
    assert all(i.text.strip() for i in items)
    assert sum(not i.themes and not i.praised for i in items) >= 40, "comments with no theme at all"


def _explain(result: dict[str, Any]) -> str:
    worst = sorted(result["per_theme"].items(), key=lambda kv: kv[1]["f1"])[:5]
    return f"micro {result['micro']}; weakest themes (F1): " + ", ".join(f"{t} {m['f1']}" for t, m in worst)


def test_problem_themes_micro_f1(coded: list[Coded], theme_ids: list[str]) -> None:
    result = problem_scores(coded, theme_ids)
    assert result["micro"]["f1"] >= MICRO_F1_FLOOR, _explain(result)


def test_problem_themes_micro_f1_in_spanish(coded: list[Coded], theme_ids: list[str]) -> None:
    result = problem_scores(coded, theme_ids, "es")
    assert result["micro"]["f1"] >= MICRO_F1_FLOOR_ES, _explain(result)


def test_problem_themes_micro_f1_on_the_development_set(items: list[Item], theme_ids: list[str]) -> None:
    result = problem_scores(code_all(split(items)[0], ThemeCoder(load_themes()).code), theme_ids)
    assert result["micro"]["f1"] >= MICRO_F1_FLOOR_DEVELOPMENT, _explain(result)
