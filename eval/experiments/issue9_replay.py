"""Replay of the issue-9 answer experiments (eval/results/experiments/issue9_answers.md), sections 1, 4 and 6.

    PYTHONPATH=. python eval/experiments/issue9_replay.py --work DIR

``DIR`` is a work folder of ``scripts/train_verifier.py --work DIR`` (its four indexes: xquad-zh-half,
xquad-en-half, cmrc-half, seed). Every question of ``rag.evaluation.verifier_data`` is searched once
(k = 10) and the variants are replayed on those hits, so they differ only in the mechanism tested:

1. hub penalty: fused score minus lambda * z(cosine of the unit's mean sentence vector to the centroid);
4. verifier with two more features (idf-weighted unit coverage, idf of the rarest uncovered term);
6. one operating point per pairing (same-language / cross-lingual).

Parameters are chosen on train articles only; test articles and the seed are read, never used to choose.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from rag.analysis import TermSets
from rag.answer import candidate_sentences
from rag.citation import text_language
from rag.config import PROJECT_ROOT, Settings
from rag.crosslingual import shared_lexicon
from rag.engine import choose_model, load_embedder_for, load_seed_corpus, open_retriever
from rag.evaluation import verifier_data as vd
from rag.evaluation.runner import _CachedEncoder
from rag.evaluation.squad import load_squad
from rag.filters import SearchFilter
from rag.language import detect_language
from rag.question_terms import content_terms, question_concepts
from rag.retriever import Hit
from rag.verifier import FEATURES, evidence_features

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
from train_verifier import _fit, _operating_point, _out_of_fold, _probabilities, _seed_figures

_CROSS = FEATURES.index("cross_lingual")
INDEXES = ("xquad-zh-half", "xquad-en-half", "cmrc-half", "seed")


def _questions(work: Path) -> list[tuple[str, str, vd.Question]]:
    """(index, source, question) for every question the verifier's data uses."""
    out = []
    xquad = PROJECT_ROOT / "eval" / "data" / "xquad"
    for corpus_lang, sets in (("zh", (("xquad-zh", "zh"), ("xquad-en-zh", "en"))), ("en", (("xquad-en", "en"),))):
        corpus = load_squad(xquad / f"xquad.{corpus_lang}.json", lang=corpus_lang).corpus or ()
        indexed, removed = vd._partition(d.id for d in corpus)
        for number, (source, lang) in enumerate(sets):
            for q in vd._squad_questions(xquad / f"xquad.{lang}.json", lang, indexed, removed, 600, number):
                out.append((f"xquad-{corpus_lang}-half", source, q))
    cmrc = load_squad(work / "cmrc_trial.json", lang="zh")
    indexed, removed = vd._partition(d.id for d in cmrc.corpus or ())
    out += [("cmrc-half", "cmrc2018", q) for q in vd._squad_questions(work / "cmrc_trial.json", "zh", indexed, removed, 600, 7)]
    doc = load_seed_corpus(Settings()).documents[0].doc
    for line in (PROJECT_ROOT / "eval" / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            gold = frozenset(f"{doc}/{p}" for p in record["gold"])
            out.append(("seed", "seed", vd.Question(record["id"], record["question"], gold, "answerable" if gold else "written", "seed")))
    return out


def _hubness(index) -> dict[str, float]:
    vectors = {}
    for unit_id, rows in index.sentence_rows.items():
        if len(rows):
            v = np.asarray(index.sentence_vectors[rows.start : rows.stop], dtype=np.float32).mean(0)
            vectors[unit_id] = v / np.linalg.norm(v)
    ids = list(vectors)
    matrix = np.stack([vectors[i] for i in ids])
    h = matrix @ matrix.mean(0)
    return dict(zip(ids, ((h - h.mean()) / h.std()).tolist(), strict=True))


def _idf(lexical):
    bm25 = lexical._bm25
    pointers, n, vocab = bm25.scores["indptr"], bm25.scores["num_docs"], bm25.vocab_dict
    top = math.log(1 + (n + 0.5) / 0.5)

    def idf(token: str) -> float:
        i = vocab.get(token)
        df = 0 if i is None else int(pointers[i + 1] - pointers[i])
        return math.log(1 + (n - df + 0.5) / (df + 0.5)) / top

    return idf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    settings = Settings()
    params = settings.answer_params
    encoder = _CachedEncoder(load_embedder_for(choose_model(settings), settings))
    lexicon = shared_lexicon()
    terms_of = TermSets()
    retrievers, hubs = {}, {}
    for name in INDEXES:
        retrievers[name] = open_retriever(settings, index_dir=args.work / name, with_model=False)
        retrievers[name].encoder = encoder
        hubs[name] = _hubness(retrievers[name].index)
    records = []
    for name, source, q in _questions(args.work):
        retriever = retrievers[name]
        variants = [(q.kind, q.gold, None)]
        if source != "seed" and q.kind == "answerable":
            gold_docs = {retriever.index.units[g].doc for g in q.gold if g in retriever.index.units}
            variants.append(("removed", frozenset(), SearchFilter.of(doc=[d for d in retriever.index.documents if d not in gold_docs])))
        for kind, gold, where in variants:
            result = retriever.search(q.text, 10, where=where)
            split = "seed" if source == "seed" else vd.split_of(q.article)
            records.append((name, source, q, kind, gold, split, result))
    print(f"{len(records)} searches")

    # 1. hub penalty: first citation gold, nothing refused
    for lam in (0.0, 0.005, 0.02, 0.05):
        right = defaultdict(list)
        for name, source, q, kind, gold, split, result in records:
            if kind != "answerable":
                continue
            index = retrievers[name].index
            rescored = sorted(result.hits, key=lambda h: -(h.score - lam * hubs[name].get(h.unit.id, 0.0)))
            hits = tuple(Hit(h.unit, h.paragraph, i + 1, h.score, h.dense, h.lexical, h.translated) for i, h in enumerate(rescored))
            candidates = candidate_sentences(q.text, hits, index, np.asarray(result.query_vector, dtype=np.float32), params)
            first = (candidates[0].unit.parent or candidates[0].unit.id) if candidates else None
            group = source if source != "seed" else f"seed-{detect_language(q.text)}"
            right[f"{group}:{split}"].append(first in gold)
        print(f"hub penalty {lam}:", {k: round(float(np.mean(v)), 3) for k, v in sorted(right.items())})

    # 4 and 6: verifier features and operating points
    rows = []
    for name, source, q, kind, gold, split, result in records:
        index = retrievers[name].index
        hits = result.hits[:5]
        vector = np.asarray(result.query_vector, dtype=np.float32)
        candidates = candidate_sentences(q.text, hits, index, vector, params)
        language = detect_language(q.text)
        cross = bool(candidates) and text_language(candidates[0].text) not in (None, language)
        parents = {c.unit.id: index.units[c.unit.parent].text for c in candidates[:1] if c.unit.parent in index.units}
        base = evidence_features(q.text, language, candidates, hits, parents, lexicon if cross and language == "en" else None, cross, terms_of)
        extra = [1.0, 0.0]
        if candidates:
            idf = _idf(index.lexical)
            text = candidates[0].unit.text + "\n" + parents.get(candidates[0].unit.id, "")
            if cross and language == "en":
                items = []
                for concept in question_concepts(q.text, lexicon):
                    if concept.translations:
                        weights = [max(idf(t) for t in index.lexical.analyzer(c)) for c, _ in concept.translations[:8] if index.lexical.analyzer(c)]
                        items.append((min(weights) if weights else 1.0, any(c in text for c, _ in concept.translations)))
            else:
                stems = terms_of(text)
                items = [(idf(t), t in stems or (not t.isascii() and t in text)) for t in content_terms(q.text)]
            total = sum(w for w, _ in items)
            if total:
                extra = [sum(w for w, c in items if c) / total, max((w for w, c in items if not c), default=0.0)]
        first = (candidates[0].unit.parent or candidates[0].unit.id) if candidates else None
        answered = bool(gold) and first in gold
        rows.append(vd.Example(q.id, source, kind, language, q.article, split, int(answered), answered, base + extra))
    shipped = len(FEATURES)
    for label, width in (("shipped features", shipped), ("+ idf coverage, rarest missing", shipped + 2)):
        examples = [vd.Example(**{**e.__dict__, "features": e.features[:width]}) for e in rows]
        _report(label, examples)
    _per_pairing([vd.Example(**{**e.__dict__, "features": e.features[:shipped]}) for e in rows])


def _report(label: str, examples: list[vd.Example]) -> None:
    train = [e for e in examples if e.split == "train"]
    test = [e for e in examples if e.split == "test"]
    seed = [e for e in examples if e.split == "seed"]
    threshold = _operating_point(_out_of_fold(train), train)
    scaler, model = _fit(train)
    _print(label, threshold, test, seed, _probabilities(scaler, model, test), _probabilities(scaler, model, seed), np.full(len(test), threshold), np.full(len(seed), threshold))


def _per_pairing(examples: list[vd.Example]) -> None:
    train = [e for e in examples if e.split == "train"]
    test = [e for e in examples if e.split == "test"]
    seed = [e for e in examples if e.split == "seed"]
    oof = _out_of_fold(train)
    cross = [e.features[_CROSS] > 0.5 for e in train]
    thresholds = {}
    for pairing in (False, True):
        idx = [i for i, c in enumerate(cross) if c == pairing]
        thresholds[pairing] = _operating_point(oof[idx], [train[i] for i in idx])
    scaler, model = _fit(train)
    _print(
        f"per pairing {thresholds}", float("nan"), test, seed, _probabilities(scaler, model, test), _probabilities(scaler, model, seed),
        np.array([thresholds[e.features[_CROSS] > 0.5] for e in test]), np.array([thresholds[e.features[_CROSS] > 0.5] for e in seed]),
    )


def _print(label, threshold, test, seed, test_p, seed_p, test_t, seed_t) -> None:
    kinds = np.array([e.kind for e in test])
    gold = np.array([e.answered_gold for e in test])
    refused = test_p < test_t
    line = (
        f"{label}: threshold {threshold:.3f}; test out-of-corpus refused {refused[kinds == 'out-of-corpus'].mean():.3f}, "
        f"removed refused {refused[kinds == 'removed'].mean():.3f}, in-corpus answered gold {(~refused & gold)[kinds == 'answerable'].mean():.3f}"
    )
    for language in ("zh", "en"):
        idx = [i for i, e in enumerate(seed) if e.lang == language]
        # _seed_figures compares with one threshold; per-example thresholds: shift the probabilities instead
        p, r, f = _seed_figures([seed[i] for i in idx], seed_p[idx] - seed_t[idx], 0.0)
        line += f"; seed {language} P/R/first {p:.3f}/{r:.3f}/{f:.3f}"
    print(line)


if __name__ == "__main__":
    main()
