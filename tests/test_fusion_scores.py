"""fuse_scores gives exactly the floats and candidates of the formula summed over the union of the
three normalised maps (the plain implementation it replaced, kept here as the reference)."""

from __future__ import annotations

import random

import pytest

from rag.fusion import fuse_scores


def _reference(dense: dict, lexical: dict, weight: float, translated: dict | None = None, translated_weight: float = 0.0) -> dict:
    def min_max(scores: dict) -> dict:
        if not scores:
            return {}
        low, high = min(scores.values()), max(scores.values())
        if high <= low:
            return {key: 1.0 for key in scores}
        return {key: (value - low) / (high - low) for key, value in scores.items()}

    def max_norm(scores: dict) -> dict:
        top = max(scores.values(), default=0.0)
        return {key: value / top for key, value in scores.items()} if top > 0 else {}

    translated = translated or {}
    if not translated:
        translated_weight = 0.0
    dense_weight = max(0.0, 1.0 - weight - translated_weight)
    d, lx, t = min_max(dense), max_norm(lexical), max_norm(translated)
    return {key: dense_weight * d.get(key, 0.0) + weight * lx.get(key, 0.0) + translated_weight * t.get(key, 0.0)
            for key in d.keys() | lx.keys() | t.keys()}


def _scores(rng: random.Random, keys: list[str], low: float, high: float) -> dict[str, float]:
    return {key: rng.uniform(low, high) for key in keys}


@pytest.mark.parametrize("seed", range(40))
def test_same_floats_and_candidates_as_the_formula(seed: int) -> None:
    rng = random.Random(seed)
    pool = [f"u{i}" for i in range(300)]
    dense = _scores(rng, rng.sample(pool, rng.randint(0, 200)), 0.2, 0.9)
    lexical = _scores(rng, rng.sample(pool, rng.randint(0, 200)), 0.0, 30.0)
    translated = _scores(rng, rng.sample(pool, rng.randint(0, 50)), 0.0, 12.0) if seed % 2 else None
    weight = rng.choice([0.0, 0.175, 0.5 * rng.random(), 0.5])
    tw = rng.choice([0.0, 0.35 * rng.random()])
    got, want = fuse_scores(dense, lexical, weight, translated, tw), _reference(dense, lexical, weight, translated, tw)
    assert got.keys() == want.keys()
    assert all(got[key] == want[key] for key in want), "fused scores differ from the formula's floats"


@pytest.mark.parametrize(
    ("dense", "lexical", "translated"),
    [
        ({}, {}, None),
        ({"a": 0.5}, {}, None),  # one dense candidate: min-max gives 1.0
        ({"a": 0.5, "b": 0.5}, {"b": 0.0, "c": 0.0}, None),  # equal dense scores; BM25 all zero adds no candidate
        ({}, {"a": 3.0, "b": 1.5}, {"c": 2.0}),
        ({"a": 0.9, "b": 0.1}, {"b": 2.0}, {"a": 0.0}),  # a translation without a positive score still takes its weight
    ],
)
def test_edge_cases_match_the_formula(dense: dict, lexical: dict, translated: dict | None) -> None:
    for weight, tw in [(0.0, 0.0), (0.3, 0.0), (0.3, 0.2), (0.7, 0.35)]:
        got, want = fuse_scores(dense, lexical, weight, translated, tw), _reference(dense, lexical, weight, translated, tw)
        assert got == want and got.keys() == want.keys()
