"""The learned theme model: its features are scikit-learn's, it learns from labelled comments, it survives a save,
the shipped one was trained on the shipped examples (never on a held-out comment), and the app picks a model only
where it fits the taxonomy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from cxloop.app import coder_for
from cxloop.settings import ConfigError, Settings
from cxloop.theme_model import (
    ANALYZERS,
    DEFAULT_MODEL,
    Labelled,
    ThemeModel,
    _Tfidf,
    examples_hash,
    labelled_files,
    load_labelled,
    taxonomy_hash,
    train,
)
from cxloop.themes import DEFAULT_THEMES, ThemeCoder, load_themes, normalize

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["45 mins on hold, absolute joke", "the app keeps crashing and crashing", "me cobraron dos veces",
        "Agent was lovely!! but the bill is still wrong", "ok"]


@pytest.mark.parametrize("name", list(ANALYZERS))
def test_tfidf_rows_are_scikit_learns(name: str) -> None:
    vectorizer = TfidfVectorizer(analyzer=ANALYZERS[name], sublinear_tf=True)
    expected = vectorizer.fit_transform([normalize(d) for d in DOCS]).toarray()
    block = _Tfidf({str(k): int(v) for k, v in vectorizer.vocabulary_.items()}, vectorizer.idf_)
    for doc, want in zip(DOCS, expected, strict=True):
        index, values = block.row(ANALYZERS[name](normalize(doc)))
        got = np.zeros(len(block.vocabulary))
        got[index] = values
        assert np.allclose(got, want), doc


def _planted() -> list[Labelled]:
    """'zorgle' means a policy problem and 'blick' praise of the agent's courtesy; nothing else here means anything."""
    fillers = ["called today", "spoke to someone", "rang the helpline", "had a chat", "phoned about my account",
               "asked a question", "got through", "spoke with an advisor", "contacted support", "sent a message"]
    items = []
    for n in range(80):
        text = f"{fillers[n % 10]} number {n}" + (" zorgle again" if n % 2 else "") + (" so blick" if n % 4 < 2 else "")
        items.append(Labelled(text, "en", "passive", frozenset({"policy"} if n % 2 else ()),
                              frozenset({"courtesy"} if n % 4 < 2 else ())))
    return items


def test_a_model_learns_what_labelled_comments_teach() -> None:
    model = train(_planted(), load_themes(), DEFAULT_THEMES)
    coder = ThemeCoder(load_themes())
    for text, want in (("rang up, zorgle", (("policy",), ())), ("rang up, all fine", ((), ())),
                       ("rang up, blick", ((), ("courtesy",)))):
        assert model.code(text, "en", "passive", coder.rules(text, "en", "passive")) == want


def test_held_out_comments_are_never_trained_on() -> None:
    """A held-out comment that contradicts the training comments changes nothing: same count, same coefficients."""
    items = _planted()
    leaked = [*items, *(Labelled(f"zorgle zorgle {n}", "en", "passive", frozenset(), held_out=True)
                        for n in range(40))]
    clean, trained = train(items, load_themes(), DEFAULT_THEMES), train(leaked, load_themes(), DEFAULT_THEMES)
    assert trained.meta["comments"] == len(items)
    assert trained.meta["examples_sha256"] == examples_hash(items)
    for kind in ("problem", "praise"):
        assert np.array_equal(trained.coef[kind], clean.coef[kind])


def test_a_saved_model_codes_the_same(tmp_path: Path) -> None:
    model = ThemeModel.load(DEFAULT_MODEL)
    model.save(tmp_path / "copy.npz")
    copy = ThemeModel.load(tmp_path / "copy.npz")
    coder = ThemeCoder(load_themes())
    for doc in DOCS:
        rules = coder.rules(doc, "en", "detractor")
        got = copy.probabilities(doc, "en", "detractor", rules)
        want = model.probabilities(doc, "en", "detractor", rules)
        assert set(got) == {"problem", "praise"}
        for kind in got:
            assert got[kind] == pytest.approx(want[kind], abs=1e-6)


def test_the_shipped_model_is_trained_on_the_shipped_examples_for_the_shipped_taxonomy() -> None:
    """If this fails, rebuild it: python -m cxloop.theme_model."""
    model = ThemeModel.load(DEFAULT_MODEL)
    items = load_labelled(labelled_files(ROOT))
    assert model.meta["examples_sha256"] == examples_hash(items)
    assert model.meta["comments"] == sum(not i.held_out for i in items)
    assert model.meta["taxonomy_sha256"] == taxonomy_hash(DEFAULT_THEMES)
    assert list(model.theme_ids) == [t.id for t in load_themes().themes]
    held = {" ".join(i.text.casefold().split()) for i in items if i.held_out}
    trained = {" ".join(i.text.casefold().split()) for i in items if not i.held_out}
    assert len(held) >= 380 and not held & trained, "a held-out comment is also a training comment"


def test_a_file_that_is_not_a_theme_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    np.savez(path, meta=np.array('{"format": 99}'))
    with pytest.raises(ValueError, match="format 99"):
        ThemeModel.load(path)


def test_the_app_uses_the_shipped_model_only_with_the_shipped_taxonomy(tmp_path: Path) -> None:
    assert coder_for(Settings()).model is not None
    assert coder_for(Settings(theme_model="off")).model is None
    own = tmp_path / "themes.yaml"
    own.write_text(DEFAULT_THEMES.read_text().replace("hold time", "hold-up time"))
    assert coder_for(Settings(themes_file=own)).model is None


def test_a_model_for_another_taxonomy_or_no_model_fails_at_start(tmp_path: Path) -> None:
    own = tmp_path / "themes.yaml"
    own.write_text("version: 1\nthemes:\n  - {id: wait, name: Wait, class: process, problem: {en: [waited]}}\n")
    with pytest.raises(ConfigError, match=r"CXLOOP_THEME_MODEL: .* codes themes"):
        coder_for(Settings(themes_file=own, theme_model=str(DEFAULT_MODEL)))
    with pytest.raises(ConfigError, match="CXLOOP_THEME_MODEL: cannot read"):
        coder_for(Settings(theme_model=str(tmp_path / "missing.npz")))
