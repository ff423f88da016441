"""Theme coding quality: how well `cxloop.themes.ThemeCoder` finds the themes people raise in survey comments.

Runs the coder (the shipped taxonomy, `cxloop/default_themes.yaml`, unless `--themes` names another; its rules alone,
and with the learned model `cxloop/theme_model.npz` unless `--model off`) on the labelled comments in `tests/data/`
(3,545 by eleven writers, English and Spanish, written for the tests as customers type and labelled by meaning; see
`tests/data/themed_comments.yaml`'s header for how). The comments marked `held_out` (half of
`themed_comments_b.yaml` and all of `themed_comments_c.yaml`, whose writer wrote nothing else) were never read while
the cues were improved and the model never trains on them: their figures are the ones that tell how the coder does
on comments it was not tuned for. On the other comments the model's figures are in-sample and not reported. Each
comment is coded with its language and its survey category, as the responses agent would.

Measures, for the themes raised as problems: precision, recall and F1 per theme, micro averages (every label
counts once) and macro averages (every theme counts once, over the themes with at least one label in the slice),
in English and Spanish separately and per held-out file, plus the share of comments whose problem set is exactly
right and how many comments with no problem got one anyway. For praised themes, the micro averages. Also the
coder's speed (µs per comment, best of `--repeats` passes).

The metric functions here are the ones `tests/unit/test_theme_quality.py` asserts floors on.
Run: `.venv/bin/python -m bench.themes [--themes PATH] [--model PATH|off] [--data PATH...] [--misses N]`.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, print_table, write_result
from cxloop.theme_model import Labelled, labelled_files, load_labelled

DATASETS = tuple(labelled_files(ROOT))
LANGS = ("en", "es")
Item = Labelled


@dataclass(frozen=True)
class Coded:
    item: Item
    themes: frozenset[str]
    praised: frozenset[str]


def load_items(paths: Sequence[Path] = DATASETS) -> list[Item]:
    return load_labelled(paths)


def split(items: Sequence[Item]) -> tuple[list[Item], list[Item]]:
    """(development, held out). Cues are improved by reading the development misses only; the floors in
    tests/unit/test_theme_quality.py are asserted on the held-out comments."""
    return [i for i in items if not i.held_out], [i for i in items if i.held_out]


def code_all(items: Iterable[Item], code: Callable[..., Any]) -> list[Coded]:
    """`code` is `ThemeCoder.code`: (text, lang, category) -> an object with `themes` and `praised`."""
    out = []
    for item in items:
        coding = code(item.text, lang=item.lang, category=item.category)
        out.append(Coded(item, frozenset(coding.themes), frozenset(coding.praised)))
    return out


def _ratio(num: int, den: int, empty: float) -> float:
    return num / den if den else empty


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall, F1. Nothing predicted and nothing expected counts as perfect; one side empty as 0."""
    nothing = 1.0 if tp + fp + fn == 0 else 0.0
    return {"precision": round(_ratio(tp, tp + fp, nothing), 4), "recall": round(_ratio(tp, tp + fn, nothing), 4),
            "f1": round(_ratio(2 * tp, 2 * tp + fp + fn, nothing), 4)}


def scores(pairs: Sequence[tuple[frozenset[str], frozenset[str]]], theme_ids: Sequence[str]) -> dict[str, Any]:
    """Per-theme and averaged P/R/F1 over (expected, got) label sets, one pair per comment.

    micro: true/false positives and misses summed over every theme (ids outside `theme_ids` count as errors too);
    macro: the mean of the per-theme figures over the themes that have at least one expected label here."""
    counts = {t: [0, 0, 0] for t in theme_ids}  # tp, fp, fn
    for expected, got in pairs:
        for t in expected | got:
            c = counts.setdefault(t, [0, 0, 0])
            c[0 if t in expected and t in got else 1 if t in got else 2] += 1
    per_theme = {t: {**prf(*c), "support": c[0] + c[2], "tp": c[0], "fp": c[1], "fn": c[2]}
                 for t, c in counts.items()}
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    supported = [m for m in per_theme.values() if m["support"]]
    macro = {k: round(sum(m[k] for m in supported) / len(supported), 4) if supported else 0.0
             for k in ("precision", "recall", "f1")}
    return {"comments": len(pairs), "labels": tp + fn, "predicted": tp + fp, "micro": prf(tp, fp, fn),
            "macro": macro, "exact_match": round(_ratio(sum(e == g for e, g in pairs), len(pairs), 1.0), 4),
            "per_theme": per_theme}


def problem_scores(coded: Sequence[Coded], theme_ids: Sequence[str], lang: str | None = None) -> dict[str, Any]:
    chosen = [c for c in coded if lang in (None, c.item.lang)]
    out = scores([(c.item.themes, c.themes) for c in chosen], theme_ids)
    clean = [c for c in chosen if not c.item.themes]
    out["no_problem_comments"] = len(clean)
    out["no_problem_comments_given_one"] = sum(bool(c.themes) for c in clean)
    return out


def praise_scores(coded: Sequence[Coded], theme_ids: Sequence[str], lang: str | None = None) -> dict[str, Any]:
    return scores([(c.item.praised, c.praised) for c in coded if lang in (None, c.item.lang)], theme_ids)


def misses(coded: Iterable[Coded]) -> list[dict[str, Any]]:
    """Every comment whose problems or praise differ from the labels: what was missed and what was added."""
    out = []
    for c in coded:
        if c.themes != c.item.themes or c.praised != c.item.praised:
            out.append({"text": c.item.text, "lang": c.item.lang, "category": c.item.category,
                        "expected": sorted(c.item.themes), "got": sorted(c.themes),
                        "missed": sorted(c.item.themes - c.themes), "added": sorted(c.themes - c.item.themes),
                        "expected_praised": sorted(c.item.praised), "got_praised": sorted(c.praised)})
    return out


def evaluate(coded: Sequence[Coded], theme_ids: Sequence[str]) -> dict[str, Any]:
    slices: dict[str, str | None] = {"all": None, **{lang: lang for lang in LANGS}}
    return {
        "problems": {name: problem_scores(coded, theme_ids, lang) for name, lang in slices.items()},
        "praised": {name: praise_scores(coded, theme_ids, lang) for name, lang in slices.items()},
    }


def _speed(code: Callable[..., Any], items: Sequence[Item], repeats: int) -> dict[str, float]:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            code(item.text, lang=item.lang, category=item.category)
        best = min(best, (time.perf_counter() - start) / len(items) * 1e6)
    return {"us_per_comment_best": round(best, 1), "comments_per_s_best": round(1e6 / best)}


def main() -> None:
    from cxloop.theme_model import DEFAULT_MODEL, ThemeModel
    from cxloop.themes import DEFAULT_THEMES, ThemeCoder, load_themes

    parser = argparse.ArgumentParser(prog="python -m bench.themes", description=__doc__.splitlines()[0])
    parser.add_argument("--themes", type=Path, default=DEFAULT_THEMES, help="taxonomy YAML (default: the shipped one)")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="theme model .npz, or 'off' (default: shipped)")
    parser.add_argument("--data", type=Path, nargs="+", default=list(DATASETS),
                        help="labelled comments, one or more YAML files (default: the shipped sets)")
    parser.add_argument("--misses", type=int, default=25, help="development misses of the rules to print")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the held-out comments")
    args = parser.parse_args()

    taxonomy = load_themes(args.themes)
    theme_ids = [t.id for t in taxonomy.themes]
    items = load_items(args.data)
    dev_items, held_items = split(items)
    coders = {"rules": ThemeCoder(taxonomy)}
    if args.model != "off":
        coders["rules + model"] = ThemeCoder(taxonomy, ThemeModel.load(Path(args.model)))
    results: dict[str, Any] = {"held_out_items": len(held_items), "development_items": len(dev_items)}
    sources = sorted({i.source for i in held_items})
    print(f"theme coding: {len(items)} labelled comments, {len(held_items)} held out "
          f"({', '.join(sources)}); taxonomy {args.themes.name}")
    rows = []
    for name, coder in coders.items():
        held = code_all(held_items, coder.code)
        block = {"all": evaluate(held, theme_ids),
                 **{src: problem_scores([c for c in held if c.item.source == src], theme_ids) for src in sources},
                 "speed": _speed(coder.code, held_items, args.repeats)}
        results[name] = block
        for slice_name, s in (("all", block["all"]["problems"]["all"]), ("en", block["all"]["problems"]["en"]),
                              ("es", block["all"]["problems"]["es"]), *((src, block[src]) for src in sources)):
            rows.append([name, slice_name, s["comments"], s["labels"], s["micro"]["precision"], s["micro"]["recall"],
                         s["micro"]["f1"], s["macro"]["f1"], s["exact_match"]])
    print("\nproblems on the held-out comments")
    print_table(["coder", "slice", "comments", "labels", "micro P", "micro R", "micro F1", "macro F1", "exact"], rows)
    best = results[list(coders)[-1]]["all"]
    print(f"\nper theme, {list(coders)[-1]}, held out (P / R / F1; F1 per language)")
    print_table(
        ["theme", "labels", "predicted", "precision", "recall", "F1", "F1 en", "F1 es"],
        [[t, m["support"], m["tp"] + m["fp"], m["precision"], m["recall"], m["f1"],
          best["problems"]["en"]["per_theme"][t]["f1"], best["problems"]["es"]["per_theme"][t]["f1"]]
         for t, m in best["problems"]["all"]["per_theme"].items()],
    )
    praised = best["praised"]["all"]["micro"]
    clean = best["problems"]["all"]
    print(f"\npraised themes, held out: micro P {praised['precision']} R {praised['recall']} F1 {praised['f1']}")
    print(f"held-out comments with no problem given one anyway: {clean['no_problem_comments_given_one']} of "
          f"{clean['no_problem_comments']}")
    for name in coders:
        print(f"speed, {name}: {results[name]['speed']['us_per_comment_best']} µs per comment (best of {args.repeats})")

    rules_dev = code_all(dev_items, coders["rules"].code)
    results["rules_development"] = problem_scores(rules_dev, theme_ids)["micro"]
    print(f"rules alone on the {len(dev_items)} development comments: micro F1 {results['rules_development']['f1']}"
          " (the model's development figures would be in-sample)")
    wrong = misses(rules_dev)  # the held-out misses are never shown: reading them would make them development data
    results["rules_development_misses"] = wrong
    for m in [m for m in wrong if m["missed"] or m["added"]][: args.misses]:
        print(f"  [{m['lang']}] {m['text'][:100]!r}\n       expected {m['expected']} got {m['got']}")

    def rel(p: Path) -> str:
        return str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)

    config = {"data": [rel(p) for p in args.data],
              "data_sha256": hashlib.sha256(b"".join(p.read_bytes() for p in args.data)).hexdigest()[:16],
              "themes": rel(args.themes), "themes_sha256": hashlib.sha256(args.themes.read_bytes()).hexdigest()[:16],
              "model": args.model if args.model == "off" else rel(Path(args.model)),
              "items": len(items), "repeats": args.repeats}
    path = write_result("themes", config, results)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
