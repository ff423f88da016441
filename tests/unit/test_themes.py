"""The theme coder's rules: negation, praise against problems, topics by sentiment or category, typos, clauses."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxloop.programs import ProgramError
from cxloop.themes import ThemeCoder, load_themes, normalize

CODER = ThemeCoder(load_themes())


@pytest.mark.parametrize("text, lang, category, problems, praised", [
    ("not rude at all", "en", "promoter", (), ("courtesy",)),
    ("the agent was not helpful", "en", "detractor", ("courtesy",), ()),
    ("Transfered 3 times and had to repeat myself", "en", "detractor", ("transfers_repeat",), ()),
    ("knowlegable agent, very patient", "en", "promoter", (), ("agent_knowledge", "courtesy")),
    ("couldnt have been quicker", "en", "promoter", (), ("wait_time",)),
    ("friendly agent but I waited 40 minutes", "en", "passive", ("wait_time",), ("courtesy",)),
    ("the invoice was wrong", "en", "detractor", ("billing_refunds",), ()),  # a topic cue, negative sentence
    ("about my invoice", "en", "detractor", ("billing_refunds",), ()),  # no sentiment: the detractor's category
    ("about my invoice", "en", "promoter", (), ("billing_refunds",)),
    ("about my invoice", "en", None, (), ()),
    ("me cobraron dos veces y nadie me llamó", "es", "detractor", ("billing_refunds", "communication"), ()),
    ("La agente fue muy amable pero tardaron mucho", "es", "passive", ("wait_time",), ("courtesy",)),
    ("no me colgaron, fueron muy atentos", "es", "promoter", (), ("courtesy",)),
    ("ok", "en", "passive", (), ()),
    # a word that is a cue of its own is not a typo of another cue ("waited" is one letter from "waived")
    ("I waited 40 minutes", "en", "passive", ("wait_time",), ()),
    # a detractor's bare topics are the complaint, all of them, whatever order they are found in
    ("about my invoice and the website", "en", "detractor", ("billing_refunds", "website_app"), ()),
    # ... but not next to what the comment says outright went wrong
    ("rang about my bill. the agent was rude", "en", "detractor", ("courtesy",), ()),
    # commas end a clause, and with it a negation's reach
    ("No complaints, helpful and polite", "en", "promoter", (), ("courtesy",)),
    ("parcel arrived on time, the agent was rude", "en", "detractor", ("courtesy",), ("delivery",)),
    # waiting for money is about the refund, not the queue (wait_time yields to billing_refunds)
    ("waited six weeks for my refund", "en", "detractor", ("billing_refunds",), ()),
    ("still waiting on hold", "en", "detractor", ("wait_time",), ()),
])
def test_comments_are_coded_by_the_rules(text: str, lang: str, category: str | None, problems: tuple,
                                         praised: tuple) -> None:
    coding = CODER.code(text, lang, category)
    assert (coding.themes, coding.praised) == (problems, praised)


def test_sentiment_is_vaders_for_english_and_the_cue_balance_elsewhere() -> None:
    assert CODER.code("Terrible, rude and useless", "en").sentiment < -0.5
    assert CODER.code("Lovely, quick and friendly", "en").sentiment > 0.5
    assert CODER.code("muy amable y rápido", "es").sentiment == 1.0
    assert CODER.code("grosero y lento", "es").sentiment == -1.0


def test_contractions_accents_and_curly_apostrophes_are_spelt_out() -> None:
    text = "Didn\u2019t FIX it, wasnt solved \u2014 \u00f1and\u00fa"
    assert normalize(text) == ["did", "not", "fix", "it", ",", "was", "not", "solved", "nandu"]


def test_a_taxonomy_with_a_repeated_theme_or_a_bad_class_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "themes.yaml"
    path.write_text("version: 1\nthemes:\n  - {id: wait, name: Wait, class: process}\n"
                    "  - {id: wait, name: Again, class: process}\n")
    with pytest.raises(ProgramError, match="used twice: wait"):
        load_themes(path)
    path.write_text("version: 1\nthemes:\n  - {id: wait, name: Wait, class: impatience}\n")
    with pytest.raises(ProgramError, match=r"line 3: themes\[0\].class"):
        load_themes(path)
    path.write_text("version: 1\nthemes:\n  - {id: wait, name: Wait, class: process, yields_to: [refunds]}\n")
    with pytest.raises(ProgramError, match=r"yields_to names theme id\(s\) not in the taxonomy: refunds"):
        load_themes(path)
