"""The page after the click and the one-response-per-survey merge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cxloop.programs import Program
from cxloop.survey_page import follow_up_page, probe_for, thanks_page
from cxloop.surveys import merge_comment, score
from tests.unit.sample_records import DECIDED_AT, invitation_for, response_to

NOW = DECIDED_AT + timedelta(hours=3)


@pytest.mark.parametrize(
    ("metric", "score_", "probe"),
    [
        ("nps", 0, "What disappointed you most?"), ("nps", 6, "What disappointed you most?"),
        ("nps", 7, "What would have made it better?"), ("nps", 10, "What did we do well?"),
        ("csat", 2, "What disappointed you most?"), ("csat", 3, "What would have made it better?"),
        ("ces", 5, "What did we do well?"),
    ],
)
def test_the_follow_up_probe_is_tailored_to_the_score(metric: str, score_: int, probe: str) -> None:
    assert probe_for(metric, score_, "en-GB") == probe  # type: ignore[arg-type]


def test_a_program_s_own_probe_wins_in_the_customer_s_language() -> None:
    program = Program.model_validate({
        "id": "p", "metric": "nps",
        "texts": {"en": {"question": "Q?", "follow_up": {"detractor": "What went wrong?"}},
                  "de": {"question": "F?", "follow_up": {"detractor": "Was lief schief?"}}},
    })
    assert probe_for("nps", 2, "de-AT", program) == "What went wrong?", "no German page words: English page"
    assert probe_for("nps", 2, "en", program) == "What went wrong?"
    assert probe_for("nps", 9, "en", program) == "What did we do well?", "falls back for categories not set"


def test_pages_escape_every_text_and_label_the_comment_box() -> None:
    page = follow_up_page("/r/tok", 3, "<script>alert(1)</script>", "en")
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert '<label for="comment">' in page and 'id="comment"' in page and 'maxlength="2000"' in page
    assert 'name="viewport"' in page, "mobile-first"
    assert "Thank you" in thanks_page("en")


def test_a_later_comment_merges_once_into_the_first_score() -> None:
    invitation = invitation_for("nps")
    first = score(response_to(invitation, 3, comment=None), invitation, NOW)
    merged = merge_comment(first, response_to(invitation, 3, comment="  too slow  "), NOW + timedelta(minutes=1))
    assert merged is not None
    assert (merged.score, merged.comment, merged.category) == (3, "too slow", "detractor")
    assert merged.scored_at == NOW + timedelta(minutes=1)
    assert merge_comment(merged, response_to(invitation, 3, comment="again"), NOW) is None, "one comment"
    second_score = response_to(invitation, 9, comment=None)
    assert merge_comment(first, second_score, NOW) is None, "a second score alone is a duplicate"
    changed = merge_comment(first, response_to(invitation, 9, comment="actually fine"), NOW)
    assert changed is not None and changed.score == 3, "the first score stands"


def test_the_page_speaks_the_customer_s_language() -> None:
    assert probe_for("csat", 1, "es-AR") == "¿Qué fue lo que más le decepcionó?"
    page = follow_up_page("/r/tok", 1, probe_for("csat", 1, "es-AR"), "es-AR")
    assert '<html lang="es">' in page and "Enviar" in page and "Gracias" in page
    assert "Gracias, hemos recibido su comentario." in thanks_page("es")
