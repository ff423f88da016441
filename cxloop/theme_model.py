"""The learned layer of theme coding: which themes a comment raises as problems and which it praises, learned from
labelled comments.

The rules (`cxloop.themes`) know the cue phrases someone wrote down; people say the same things in many other
words. This model reads a comment's words and word pairs, the character 3-5-grams inside its words (typos and word
forms), and what the rules found, and gives each theme a probability of being raised as a problem and of being
praised; above `threshold` it is. Two per-theme logistic regressions (problem, praise) over TF-IDF features
(sublinear term frequency, smoothed idf, rows of unit length), trained offline with scikit-learn and shipped as plain
arrays (`theme_model.npz`), so coding needs only numpy.

The shipped model is trained on the labelled comments in `tests/data/` that are not marked `held_out`, for the
shipped taxonomy; it is used only with that taxonomy (its file's hash is in the model). Teams with their own
taxonomy train their own: `python -m cxloop.theme_model --themes theirs.yaml --data labelled.yaml ... --out
model.npz`, then `CXLOOP_THEME_MODEL=model.npz`.

Rebuild the shipped model: `python -m cxloop.theme_model` (tests/unit/test_theme_model.py checks it is current).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from cxloop.scoring import CATEGORIES
from cxloop.themes import DEFAULT_THEMES, Coding, ThemeCoder, load_themes, normalize

if TYPE_CHECKING:
    from cxloop.themes import Taxonomy

DEFAULT_MODEL = Path(__file__).resolve().parent / "theme_model.npz"
FORMAT = 2


@dataclass(frozen=True)
class Labelled:
    text: str
    lang: str
    category: str | None
    themes: frozenset[str]  # raised as problems
    praised: frozenset[str] = frozenset()
    held_out: bool = False  # never trained on, never read while improving the cues: measures unseen comments
    source: str = ""  # the file's name


def load_labelled(paths: Iterable[Path]) -> list[Labelled]:
    """Labelled comments (the format of tests/data/themed_comments.yaml): text, lang, category, themes, praised."""
    out = []
    for path in paths:
        for n, r in enumerate(yaml.safe_load(Path(path).read_text(encoding="utf-8"))["items"]):
            if not isinstance(r, dict) or not str(r.get("text", "")).strip():
                raise ValueError(f"{path}: item {n} has no text")
            out.append(Labelled(str(r["text"]), str(r.get("lang", "en")), r.get("category"),
                                frozenset(r.get("themes") or ()), frozenset(r.get("praised") or ()),
                                bool(r.get("held_out", False)), Path(path).name))
    return out


def _words(tokens: list[str]) -> list[str]:
    words = [t for t in tokens if t.isalnum()]
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def _grams(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for word in tokens:
        if word.isalnum():
            padded = f" {word} "
            out.extend(padded[i:i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1))
    return out


ANALYZERS = {"words": _words, "grams": _grams}


class _Tfidf:
    """One TF-IDF block: the same weighting as scikit-learn's TfidfVectorizer(sublinear_tf=True)."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.idf = idf

    def row(self, features: list[str]) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(f for f in features if f in self.vocabulary)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        index = np.fromiter((self.vocabulary[f] for f in counts), dtype=np.int64, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * self.idf[index]
        return index, values / math.sqrt(float(values @ values))


def rule_features(coding: Coding, theme_ids: Sequence[str], lang: str, category: str | None) -> np.ndarray:
    """What the rules found (problems, praise), the answer's category and whether the comment is Spanish."""
    return np.array([t in coding.themes for t in theme_ids] + [t in coding.praised for t in theme_ids]
                    + [category == c for c in CATEGORIES] + [lang.startswith("es")], dtype=float)


KINDS = ("problem", "praise")


class ThemeModel:
    def __init__(self, theme_ids: Sequence[str], blocks: dict[str, _Tfidf], coef: dict[str, np.ndarray],
                 intercept: dict[str, np.ndarray], threshold: float, meta: dict[str, Any]) -> None:
        self.theme_ids = tuple(theme_ids)
        self.blocks = blocks
        self.coef = coef  # per kind, (features, themes): the blocks in ANALYZERS order, then the rule features
        self.intercept = intercept
        self.threshold = threshold
        self.meta = meta

    def probabilities(self, text: str, lang: str, category: str | None, rules: Coding) -> dict[str, dict[str, float]]:
        """Per kind ("problem", "praise"), each theme's probability."""
        tokens = normalize(text)
        z = {kind: self.intercept[kind].copy() for kind in KINDS}
        offset = 0
        for name, analyze in ANALYZERS.items():
            block = self.blocks[name]
            index, values = block.row(analyze(tokens))
            if len(index):
                for kind in KINDS:
                    z[kind] += values @ self.coef[kind][offset + index]
            offset += len(block.vocabulary)
        found = rule_features(rules, self.theme_ids, lang, category)
        out = {}
        for kind in KINDS:
            p = 1.0 / (1.0 + np.exp(-(z[kind] + found @ self.coef[kind][offset:])))
            out[kind] = dict(zip(self.theme_ids, p.tolist(), strict=True))
        return out

    def code(self, text: str, lang: str, category: str | None, rules: Coding) -> tuple[tuple[str, ...],
                                                                                         tuple[str, ...]]:
        """(problems, praised): the themes above the threshold; a theme raised as a problem is not also praised."""
        p = self.probabilities(text, lang, category, rules)
        problems = tuple(sorted(t for t, v in p["problem"].items() if v > self.threshold))
        praised = tuple(sorted(t for t, v in p["praise"].items() if v > self.threshold and t not in problems))
        return problems, praised

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {"meta": np.array(json.dumps({**self.meta, "format": FORMAT,
                                                               "theme_ids": list(self.theme_ids),
                                                               "threshold": self.threshold}))}
        for kind in KINDS:
            arrays[f"{kind}_coef"] = self.coef[kind].astype(np.float32)
            arrays[f"{kind}_intercept"] = self.intercept[kind]
        for name, block in self.blocks.items():
            terms = sorted(block.vocabulary, key=block.vocabulary.__getitem__)
            arrays[f"{name}_terms"] = np.array(terms)
            arrays[f"{name}_idf"] = block.idf
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path: Path) -> ThemeModel:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError(f"{path}: theme model format {meta.get('format')}, this cxloop reads {FORMAT}")
            blocks = {name: _Tfidf({str(t): i for i, t in enumerate(data[f"{name}_terms"])},
                                   data[f"{name}_idf"].astype(float)) for name in ANALYZERS}
            return cls(meta["theme_ids"], blocks, {k: data[f"{k}_coef"].astype(float) for k in KINDS},
                       {k: data[f"{k}_intercept"].astype(float) for k in KINDS}, float(meta["threshold"]), meta)


def examples_hash(items: Iterable[Labelled]) -> str:
    """What a model was trained on: the comments not held out, with their labels."""
    lines = (f"{i.lang}\t{i.category}\t{sorted(i.themes)}\t{sorted(i.praised)}\t{i.text}"
             for i in items if not i.held_out)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def taxonomy_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def train(items: Sequence[Labelled], taxonomy: Taxonomy, taxonomy_path: Path, c: float = 16.0,
          threshold: float = 0.3) -> ThemeModel:
    """Fit the model on labelled comments (needs scikit-learn, a development dependency)."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    items = [i for i in items if not i.held_out]
    theme_ids = [t.id for t in taxonomy.themes]
    unknown = sorted({t for i in items for t in i.themes | i.praised} - set(theme_ids))
    if unknown:
        raise ValueError(f"labelled comments name theme ids not in the taxonomy: {', '.join(unknown)}")
    coder = ThemeCoder(taxonomy)
    tokens = [normalize(i.text) for i in items]
    blocks: dict[str, _Tfidf] = {}
    matrices = []
    for name, analyze in ANALYZERS.items():
        vectorizer = TfidfVectorizer(analyzer=analyze, sublinear_tf=True, min_df=2 if name == "words" else 3,
                                     dtype=np.float64)
        matrices.append(vectorizer.fit_transform(tokens))
        blocks[name] = _Tfidf({str(k): int(v) for k, v in vectorizer.vocabulary_.items()}, vectorizer.idf_)
    rules = np.array([rule_features(coder.rules(i.text, i.lang, i.category), theme_ids, i.lang, i.category)
                      for i in items])
    x = sparse.hstack([*matrices, sparse.csr_matrix(rules)]).tocsr()
    coef = {kind: np.zeros((x.shape[1], len(theme_ids))) for kind in KINDS}
    intercept = {kind: np.zeros(len(theme_ids)) for kind in KINDS}
    for kind in KINDS:
        for k, theme in enumerate(theme_ids):
            y = np.array([theme in (i.themes if kind == "problem" else i.praised) for i in items])
            if y.all() or not y.any():
                intercept[kind][k] = 30.0 if y.all() else -30.0  # nothing to learn: always or never
                continue
            fitted = LogisticRegression(C=c, max_iter=5000).fit(x, y)
            coef[kind][:, k] = fitted.coef_[0]
            intercept[kind][k] = fitted.intercept_[0]
    meta = {"comments": len(items), "c": c, "taxonomy_sha256": taxonomy_hash(taxonomy_path),
            "examples_sha256": examples_hash(items)}
    return ThemeModel(theme_ids, blocks, coef, intercept, threshold, meta)


def labelled_files(root: Path) -> list[Path]:
    """The shipped labelled comments in tests/data: the model trains on those not held out, bench/themes.py and
    tests/unit/test_theme_quality.py measure on the held-out ones."""
    data = root / "tests" / "data"
    return sorted([*data.glob("themed_comments*.yaml"), *(data / "theme_training").glob("*.yaml")])


def main(argv: list[str] | None = None) -> None:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(prog="python -m cxloop.theme_model", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+", default=None, help="labelled comments YAML files")
    parser.add_argument("--themes", type=Path, default=DEFAULT_THEMES, help="taxonomy YAML")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    items = load_labelled(args.data or labelled_files(root))
    model = train(items, load_themes(args.themes), args.themes)
    model.save(args.out)
    print(f"trained on {model.meta['comments']} comments ({sum(i.held_out for i in items)} held out skipped); "
          f"written to {args.out}")


if __name__ == "__main__":
    main()
