"""Theme coding quality on labelled comments written for the tests by eleven writers (tests/data/, 3,545 comments):
the coder must find the problems people raise, in English and Spanish. The sets are checked first, so a floor is never
met by shrinking or mislabelling them.

The floors hold on the 383 held-out comments: half of themed_comments_b.yaml and all of themed_comments_c.yaml, whose
writer wrote nothing else. They were never read while the cues were improved, and the model never trains on them
(tests/unit/test_theme_model.py checks that). Measured with the shipped model: micro-F1 0.81 (English 0.80, Spanish
0.83; 0.81 on the unseen writer's comments), praised themes 0.78; the taxonomy's rules alone, which a custom taxonomy
without a model of its own gets: 0.67 (praise 0.61). A second annotator labelling 165 of these comments blind agreed
with the writer at micro-F1 0.99. The metrics are bench/themes.py's (`python -m bench.themes` prints them per theme)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bench.themes import LANGS, Coded, Item, code_all, load_items, praise_scores, problem_scores, split
from cxloop.scoring import CATEGORIES
from cxloop.theme_model import DEFAULT_MODEL, ThemeModel
from cxloop.themes import ThemeCoder, load_themes

FLOORS = {  # (slice, floor): held out, with the shipped model
    "all": 0.80,  # measured 0.812
    "en": 0.78,  # measured 0.805
    "es": 0.80,  # measured 0.826
    "themed_comments_c.yaml": 0.78,  # the writer nothing was trained or tuned on; measured 0.807
}
RULES_FLOOR = 0.64  # held out, the taxonomy's rules alone; measured 0.667
PRAISE_FLOOR = 0.75  # praised themes, held out, with the shipped model; measured 0.785 (rules alone 0.607)


@pytest.fixture(scope="module")
def theme_ids() -> list[str]:
    return [t.id for t in load_themes().themes]


@pytest.fixture(scope="module")
def items() -> list[Item]:
    return load_items()


@pytest.fixture(scope="module")
def coded(items: list[Item]) -> list[Coded]:
    """The held-out comments, coded by the rules and the shipped model."""
    return code_all(split(items)[1], ThemeCoder(load_themes(), ThemeModel.load(DEFAULT_MODEL)).code)


def test_the_labelled_sets_are_sound(items: list[Item], theme_ids: list[str]) -> None:
    assert len(items) >= 3500
    langs = Counter(i.lang for i in items)
    assert set(langs) <= set(LANGS)
    assert langs["es"] >= 1000
    assert {i.category for i in items} <= set(CATEGORIES)
    unknown = {t for i in items for t in i.themes | i.praised} - set(theme_ids)
    assert not unknown, f"theme ids not in the taxonomy: {sorted(unknown)}"
    problems = Counter(t for i in items for t in i.themes)
    thin = {t: problems[t] for t in theme_ids if problems[t] < 200}
    assert not thin, f"themes with fewer than 200 problem labels: {thin}"
    held = split(items)[1]
    assert len(held) >= 380 and Counter(i.lang for i in held)["es"] >= 130
    held_problems = Counter(t for i in held for t in i.themes)
    thin = {t: held_problems[t] for t in theme_ids if held_problems[t] < 30}
    assert not thin, f"themes with fewer than 30 held-out problem labels: {thin}"
    texts = Counter(" ".join(i.text.casefold().split()) for i in items)
    assert not [t for t, n in texts.items() if n > 1], "duplicate comments"
    assert all(i.text.strip() for i in items)
    assert sum(not i.themes for i in held) >= 50, "held-out comments that raise no problem"


def _explain(result: dict[str, Any]) -> str:
    worst = sorted(result["per_theme"].items(), key=lambda kv: kv[1]["f1"])[:5]
    return f"micro {result['micro']}; weakest themes (F1): " + ", ".join(f"{t} {m['f1']}" for t, m in worst)


@pytest.mark.parametrize("slice_name, floor", list(FLOORS.items()))
def test_problem_themes_micro_f1_on_held_out_comments(coded: list[Coded], theme_ids: list[str], slice_name: str,
                                                      floor: float) -> None:
    if slice_name in LANGS or slice_name == "all":
        result = problem_scores(coded, theme_ids, None if slice_name == "all" else slice_name)
    else:
        result = problem_scores([c for c in coded if c.item.source == slice_name], theme_ids)
    assert result["comments"] >= 130
    assert result["micro"]["f1"] >= floor, _explain(result)


def test_the_rules_alone_on_held_out_comments(items: list[Item], theme_ids: list[str]) -> None:
    result = problem_scores(code_all(split(items)[1], ThemeCoder(load_themes()).code), theme_ids)
    assert result["micro"]["f1"] >= RULES_FLOOR, _explain(result)


def test_praised_themes_micro_f1_on_held_out_comments(coded: list[Coded], theme_ids: list[str]) -> None:
    result = praise_scores(coded, theme_ids)
    assert result["labels"] >= 90
    assert result["micro"]["f1"] >= PRAISE_FLOOR, _explain(result)
