"""Candidate new themes: comments that match no theme, clustered, with their telling words and examples.

Each comment becomes a TF-IDF vector of its words and word pairs (stop words dropped, typos folded by the theme
coder's normalisation); vectors are clustered by k-means on cosine similarity (k-means++ seeding, fixed seed, so a
rerun gives the same clusters). A cluster is reported with the words that weigh most in its centre and the
comments nearest to it, largest first, so the taxonomy's owner can name it and add cues.

Embeddings from a neural model would group paraphrases better; the model packages available offline need PyTorch,
which would add gigabytes to every install, so this uses TF-IDF on words, which needs only numpy.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from cxloop.themes import normalize

_STOP = """
a about after again all also am an and any are as at be been before being but by can could did do does doing
for from had has have having he her here him his how i if in into is it its just me more most my no nor not of
off on once only or other our out over own same she should so some such than that the their them then there these
they this those through to too under until up very was we were what when where which while who why will with would
you your yours get got im ive id dont cant one really still even back thing things way lot
el la los las un una unos unas de del y o que en a por para con sin se su sus me mi mis lo le les es fue muy mas
pero como ya al este esta eso esto hay porque cuando tambien solo
"""
STOP_WORDS = frozenset(_STOP.split())


@dataclass(frozen=True)
class Candidate:
    size: int
    terms: tuple[str, ...]  # the words and pairs that weigh most in the cluster's centre
    examples: tuple[str, ...]  # the comments nearest to it

    def as_dict(self) -> dict[str, object]:
        return {"size": self.size, "terms": list(self.terms), "examples": list(self.examples)}


def _features(comment: str) -> list[str]:
    words = [w for w in normalize(comment) if w.isalpha() and len(w) > 2 and w not in STOP_WORDS]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def candidates(comments: list[str], k: int | None = None, min_size: int = 3, seed: int = 0,
               terms: int = 5, examples: int = 3) -> list[Candidate]:
    """Clusters of `comments` (at least `min_size` each), largest first; `k` defaults to about sqrt(n / 2)."""
    docs = [(c, _features(c)) for c in comments if c.strip()]
    docs = [(c, f) for c, f in docs if f]
    if len(docs) < max(2, min_size):
        return []
    df = Counter(term for _, features in docs for term in set(features))
    vocabulary = sorted(t for t, n in df.items() if n >= 2)  # a word in one comment groups nothing
    if not vocabulary:
        return []
    index = {t: i for i, t in enumerate(vocabulary)}
    matrix = np.zeros((len(docs), len(vocabulary)))
    for row, (_, features) in enumerate(docs):
        for term, count in Counter(features).items():
            if term in index:
                matrix[row, index[term]] = (1 + math.log(count)) * math.log((1 + len(docs)) / (1 + df[term]))
    norms = np.linalg.norm(matrix, axis=1)
    keep = norms > 0
    docs = [d for d, kept in zip(docs, keep, strict=True) if kept]
    matrix = matrix[keep] / norms[keep][:, None]
    k = k or max(2, min(12, round(math.sqrt(len(docs) / 2))))
    labels, centres = _kmeans(matrix, min(k, len(docs)), seed)
    found = []
    for cluster in range(centres.shape[0]):
        members = np.flatnonzero(labels == cluster)
        if len(members) < min_size:
            continue
        centre = centres[cluster]
        top = [vocabulary[i] for i in np.argsort(-centre)[:terms] if centre[i] > 0]
        nearest = members[np.argsort(-(matrix[members] @ centre))][:examples]
        found.append(Candidate(len(members), tuple(top), tuple(docs[i][0] for i in nearest)))
    return sorted(found, key=lambda c: (-c.size, c.terms))


def _kmeans(points: np.ndarray, k: int, seed: int, rounds: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means (unit vectors, cosine similarity) with k-means++ seeding."""
    rng = np.random.default_rng(seed)
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        distance = 1 - np.max(points @ np.array(centres).T, axis=1)
        weights = np.clip(distance, 0, None) ** 2
        if weights.sum() == 0:
            break
        centres.append(points[rng.choice(len(points), p=weights / weights.sum())])
    matrix = np.array(centres)
    labels = np.zeros(len(points), dtype=int)
    for _ in range(rounds):
        new = np.argmax(points @ matrix.T, axis=1)
        if _ and np.array_equal(new, labels):
            break
        labels = new
        for cluster in range(len(matrix)):
            members = points[labels == cluster]
            if len(members):
                centre = members.mean(axis=0)
                norm = np.linalg.norm(centre)
                matrix[cluster] = centre / norm if norm else centre
    return labels, matrix
