"""Comments that match no theme fall into clusters that recover planted topics, with telling words and examples."""

from __future__ import annotations

import random

from cxloop.theme_candidates import candidates

TOPICS = {
    "parking": ["The parking at the store was full again", "no parking spaces near the store entrance",
                "parking fees at your store are crazy", "Couldn't find parking, the car park is tiny",
                "the store parking lot needs more spaces", "parking was a nightmare at the store"],
    "points": ["my loyalty points disappeared", "loyalty points never added to my card",
               "where are my loyalty points from last month", "loyalty card points expired without warning",
               "the points on my loyalty card are wrong", "lost all my loyalty points"],
    "menu": ["the phone menu options are confusing", "voice menu kept misunderstanding me, menu options useless",
             "press 1 press 2 the phone menu goes on forever", "phone menu options don't match my problem",
             "i hate the automated phone menu", "the menu options on the phone line are too many"],
}


def test_planted_topics_come_back_as_clusters_with_their_words() -> None:
    rng = random.Random(3)
    comments = [c for texts in TOPICS.values() for c in texts] + ["ok", "fine", "n/a", "thanks"]
    rng.shuffle(comments)
    found = candidates(comments, k=3, min_size=3)
    assert len(found) == 3
    for topic, texts in TOPICS.items():
        cluster = next(c for c in found if any(topic in term for term in c.terms))
        members_like_topic = sum(e in texts for e in cluster.examples)
        assert members_like_topic == len(cluster.examples), (topic, cluster)
        assert 5 <= cluster.size <= 7


def test_the_clusters_are_the_same_on_a_rerun_and_empty_input_gives_none() -> None:
    comments = [c for texts in TOPICS.values() for c in texts]
    assert candidates(comments, k=3) == candidates(comments, k=3)
    assert candidates([]) == [] and candidates(["ok", "fine"]) == []
