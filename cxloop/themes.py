"""Theme coding of open comments: which aspects a customer complains about or praises, and the comment's sentiment.

Rules over the taxonomy's cue phrases (`default_themes.yaml`), per clause (sentences, commas, and the parts around
"but" / "pero"): a problem cue counts unless negated, a negated praise cue ("not helpful") is a problem, a negated
problem cue ("not rude at all") is praise. A topic cue ("invoice") counts only in a clause without problem or praise
cues: it takes that clause's clear sentiment, else the answer's category, except that a detractor's bare topic is left
alone when the comment already says what went wrong ("rang about my bill, the agent was rude"). A theme that
`yields_to` others stands aside in a clause that names them. Negation looks three words back. Text is compared without
case, accents or apostrophes ("didnt" is "did not"), and problem and praise words of 5+ letters match with one typo
(9+: two) unless the word is itself a cue word ("waited" is not "waived"). Sentiment is VADER's compound score for
English; for other languages the balance of praise and problem cues.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import Field, field_validator

from cxloop.programs import StrictModel, load_validated

DEFAULT_THEMES = Path(__file__).resolve().parent / "default_themes.yaml"
ThemeClass = Literal["product_issue", "process", "agent_behaviour", "expectation_gap"]
NEGATORS = frozenset({"not", "no", "never", "without", "hardly", "barely", "nothing", "nobody", "none", "neither",
                      "nor", "nunca", "sin", "ni", "nada", "tampoco", "jamas", "nadie"})
CONTRASTS = frozenset({"but", "however", "although", "though", "yet", "pero", "aunque", "sino"})
_NOT = {"can't": "can not", "cant": "can not", "won't": "will not", "wont": "will not", "shan't": "shall not"}
_NT = re.compile(r"\b(\w+?)n'?t\b")
_NT_WORDS = frozenset({"didnt", "dont", "doesnt", "wasnt", "werent", "isnt", "arent", "couldnt", "wouldnt",
                       "shouldnt", "hasnt", "havent", "hadnt", "aint", "mustnt", "neednt"})
_WORD = re.compile(r"[a-z0-9]+|[.!?;,]")


class ThemeSpec(StrictModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    name: str
    class_: ThemeClass = Field(alias="class")
    problem: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    praise: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    topic: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # in a clause that also names one of these themes, this theme's cues stand aside ("still waiting for my
    # refund" is about the refund, not the queue)
    yields_to: tuple[str, ...] = ()


class Taxonomy(StrictModel):
    version: Literal[1] = 1
    themes: tuple[ThemeSpec, ...] = Field(min_length=1)

    @field_validator("themes")
    @classmethod
    def _unique(cls, themes: tuple[ThemeSpec, ...]) -> tuple[ThemeSpec, ...]:
        ids = [t.id for t in themes]
        doubles = sorted({i for i in ids if ids.count(i) > 1})
        if doubles:
            raise ValueError(f"theme id(s) used twice: {', '.join(doubles)}")
        unknown = sorted({y for t in themes for y in t.yields_to} - set(ids))
        if unknown:
            raise ValueError(f"yields_to names theme id(s) not in the taxonomy: {', '.join(unknown)}")
        return themes

    def by_id(self, theme_id: str) -> ThemeSpec | None:
        return next((t for t in self.themes if t.id == theme_id), None)


def load_themes(path: Path = DEFAULT_THEMES) -> Taxonomy:
    return load_validated(path, Taxonomy, "theme taxonomy")


@dataclass(frozen=True)
class Coding:
    themes: tuple[str, ...]  # raised as problems
    praised: tuple[str, ...]
    sentiment: float  # -1..1


@dataclass(frozen=True)
class _Cue:
    theme: str
    kind: str  # problem, praise, topic
    words: tuple[str, ...]
    prefix: bool  # the last word may have any ending
    negative: bool  # the cue carries its own negation ("did not fix")


def normalize(text: str) -> list[str]:
    """Lower case, no accents, contractions spelt out ("didn't", "didnt" -> "did not"), words and stops."""
    text = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'").replace("`", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    for short, long in _NOT.items():
        text = re.sub(rf"\b{re.escape(short)}\b", long, text)
    text = _NT.sub(lambda m: f"{m.group(1)} not" if "'" in m.group(0) or m.group(0) in _NT_WORDS else m.group(0),
                   text)
    return _WORD.findall(text.replace("'", ""))


def _clauses(tokens: list[str]) -> list[list[str]]:
    clauses: list[list[str]] = [[]]
    for token in tokens:
        if token in ".!?;," or token in CONTRASTS:
            if clauses[-1]:
                clauses.append([])
        else:
            clauses[-1].append(token)
    return [c for c in clauses if c]


def _close(word: str, cue: str) -> bool:
    """Equal, or one edit apart (two for long words), for words of 5+ letters: transposition counts as one."""
    if word == cue:
        return True
    if min(len(word), len(cue)) < 5 or abs(len(word) - len(cue)) > 2 or word[0] != cue[0]:
        return False
    return _distance(word, cue) <= (2 if len(cue) >= 9 else 1)


@lru_cache(maxsize=65536)
def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


class LearnedModel(Protocol):
    """A learned layer (cxloop.theme_model.ThemeModel): (problems, praised), given what the rules found."""

    def code(self, text: str, lang: str, category: str | None, rules: Coding) -> tuple[tuple[str, ...],
                                                                                         tuple[str, ...]]: ...


class ThemeCoder:
    def __init__(self, taxonomy: Taxonomy, model: LearnedModel | None = None) -> None:
        self.taxonomy = taxonomy
        self.model = model
        self._cues: dict[str, list[_Cue]] = {}
        for theme in taxonomy.themes:
            for kind in ("problem", "praise", "topic"):
                for lang, phrases in getattr(theme, kind).items():
                    for phrase in phrases:
                        prefix = phrase.endswith("*")
                        words = tuple(normalize(phrase.rstrip("*")))
                        if words:
                            negative = bool(NEGATORS & set(words))
                            self._cues.setdefault(lang, []).append(_Cue(theme.id, kind, words, prefix, negative))
        self._index = {lang: _CueIndex(lang_cues) for lang, lang_cues in self._cues.items()}
        self._yields = {theme.id: set(theme.yields_to) for theme in taxonomy.themes if theme.yields_to}
        self._vader = _vader()

    def code(self, text: str, lang: str = "en", category: str | None = None) -> Coding:
        """Problems, praise and sentiment. With a model, problems and praise are the model's (it weighs the rules'
        findings with the words); the sentiment stays the rules'."""
        rules = self.rules(text, lang, category)
        if self.model is None:
            return rules
        problems, praised = self.model.code(text, lang.split("-")[0].lower(), category, rules)
        return Coding(problems, praised, rules.sentiment)

    def rules(self, text: str, lang: str = "en", category: str | None = None) -> Coding:
        lang = lang.split("-")[0].lower()
        index = self._index.get(lang) or self._index.get("en") or _CueIndex([])
        problems: set[str] = set()
        praised: set[str] = set()
        hits = {"problem": 0, "praise": 0}
        leaning: list[tuple[str, float]] = []  # topics whose clause says nothing either way
        for clause in _clauses(normalize(text)):
            found = index.find(clause)
            named = {cue.theme for cue, _ in found}
            found = [(cue, negated) for cue, negated in found if not named & self._yields.get(cue.theme, set())]
            explicit = {cue.theme for cue, _ in found if cue.kind != "topic"}
            topics = [cue.theme for cue, _ in found if cue.kind == "topic"]
            if topics and not explicit:  # else the clause's own cues say what went well or wrong
                polarity = self._polarity(" ".join(clause), lang)
                leaning.extend((theme, polarity) for theme in topics)
            for cue, negated in found:
                if cue.kind == "topic":
                    continue
                bad = (cue.kind == "problem") != negated
                (problems if bad else praised).add(cue.theme)
                hits["problem" if bad else "praise"] += 1
        explained = bool(problems)
        for theme, polarity in leaning:
            mood = _topic_mood(polarity, category, explained)
            if mood:
                (problems if mood < 0 else praised).add(theme)
                hits["problem" if mood < 0 else "praise"] += 1
        return Coding(tuple(sorted(problems)), tuple(sorted(praised - problems)),
                      self._sentiment(text, lang, hits))

    def _polarity(self, clause: str, lang: str) -> float:
        """The sentiment of a clause without problem or praise cues: VADER's for English; none elsewhere (there the
        cues are the only measure of sentiment)."""
        if lang == "en" and self._vader is not None:
            score = float(self._vader.polarity_scores(clause)["compound"])
            return score if abs(score) >= 0.05 else 0.0
        return 0.0

    def _sentiment(self, text: str, lang: str, hits: dict[str, int]) -> float:
        if lang == "en" and self._vader is not None:
            return round(float(self._vader.polarity_scores(text)["compound"]), 4)
        total = hits["problem"] + hits["praise"]
        return round((hits["praise"] - hits["problem"]) / total, 4) if total else 0.0


class _CueIndex:
    """A language's cues by their first word, so a clause is matched word by word: exactly, by a one-word prefix cue
    ("refund*"), or, for problem and praise cues, by a typo of a first word of 5+ letters that is not itself a cue
    word ("waited" is never read as "waived")."""

    def __init__(self, cues: list[_Cue]) -> None:
        self.vocab = frozenset(w for cue in cues for w in cue.words)
        self.exact: dict[str, list[_Cue]] = {}
        self.prefix: dict[str, list[_Cue]] = {}
        self.typo: dict[str, dict[str, list[_Cue]]] = {}  # initial -> first word -> cues
        for cue in cues:
            first = cue.words[0]
            if cue.prefix and len(cue.words) == 1:
                self.prefix.setdefault(first, []).append(cue)
                continue
            self.exact.setdefault(first, []).append(cue)
            if cue.kind != "topic" and len(first) >= 5:
                self.typo.setdefault(first[0], {}).setdefault(first, []).append(cue)
        self.longest_prefix = max(map(len, self.prefix), default=0)

    def find(self, clause: list[str]) -> list[tuple[_Cue, bool]]:
        """Every cue in the clause, once per place it appears, with whether it is negated (a negator up to three
        words before it)."""
        found = []
        for start, word in enumerate(clause):
            candidates = list(self.exact.get(word, ()))
            for end in range(1, min(len(word), self.longest_prefix) + 1):
                candidates.extend(self.prefix.get(word[:end], ()))
            if word not in self.vocab and len(word) >= 5:
                for first, cues in self.typo.get(word[0], {}).items():
                    if first != word and _close(word, first):
                        candidates.extend(cues)
            for cue in candidates:
                if self._rest(cue, clause, start):
                    before = clause[max(0, start - 3):start]
                    last = clause[start + len(cue.words) - 1]
                    found.append((cue, not cue.negative and bool(NEGATORS & set(before))
                                  and not _comparative(before, last)))
        return found

    def _rest(self, cue: _Cue, clause: list[str], start: int) -> bool:
        """The cue's words after the first, from `start`: the last may be a prefix; topic words match exactly."""
        n = len(cue.words)
        if start + n > len(clause) or n == 1:
            return start + n <= len(clause)
        for k in range(1, n):
            word, want = clause[start + k], cue.words[k]
            if k == n - 1 and cue.prefix:
                if not word.startswith(want):
                    return False
            elif word != want and (cue.kind == "topic" or word in self.vocab or not _close(word, want)):
                return False
        return True


def _comparative(before: list[str], word: str) -> bool:
    """"could not have been quicker", "could not be better": a negated comparative is the highest praise."""
    return bool({"been", "be"} & set(before)) and (word.endswith(("er", "est")) or "more" in before)


def _topic_mood(polarity: float, category: str | None, explained: bool) -> float:
    """A topic word's mood. Its clause's own sentiment when that is clear; else, when the comment names nothing
    that went wrong, the answer's category (a detractor's or passive's mention is the complaint, a promoter's is
    praise); a topic named next to explicit complaints is left alone ("called about my bill, agent was rude")."""
    leaning = {"detractor": -1.0, "passive": -0.5, "promoter": 1.0}.get(category or "", 0.0)
    if abs(polarity) >= 0.5 or not leaning:
        return polarity
    if explained and leaning < 0:
        return polarity if polarity < 0 else 0.0
    return leaning


@lru_cache(maxsize=1)
def _vader() -> Any:
    """VADER's analyser (offline: its lexicon ships in the package)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()
