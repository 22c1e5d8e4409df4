"""Cross-lingual lexical retrieval: the CC-CEDICT lexicon, the UN glossary, structured scoring,
three-channel fusion, and (slow) the XQuAD English -> Chinese gain."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from rag.analysis import analyze
from rag.cedict import invert_cedict, load_glossary
from rag.crosslingual import BilingualLexicon, Concept
from rag.evaluation.runner import DEFAULT_XQUAD_DIR
from rag.fusion import FusionParams, fuse_scores, translation_weight
from rag.lexical import LexicalIndex
from rag.lexicon_tables import MemoryTables, SqliteTables
from rag.translated_scoring import translated_scores

XQUAD = DEFAULT_XQUAD_DIR  # eval/data/xquad, shipped with the repository
_HAN = re.compile("[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def lexicon(tmp_path_factory: pytest.TempPathFactory) -> BilingualLexicon:
    return BilingualLexicon(tmp_path_factory.mktemp("lexicon"))


def _first(lexicon: BilingualLexicon, phrase: str) -> str:
    translations = lexicon.lookup(phrase)
    assert translations, phrase
    return translations[0][0]


# ---------------------------------------------------------------- lexicon


def test_dictionary_and_glossary_translations(lexicon: BilingualLexicon) -> None:
    assert _first(lexicon, "desertification") == "荒漠化"  # glossary outranks CEDICT's 沙漠化
    assert "沙漠化" in dict(lexicon.lookup("desertification"))  # the dictionary's is kept, lower
    assert _first(lexicon, "Kyoto Protocol") == "京都议定书"
    assert _first(lexicon, "Green Climate Fund") == "绿色气候基金"
    assert "政府" in dict(lexicon.lookup("government"))  # plain CC-CEDICT
    assert "华沙" in dict(lexicon.lookup("Warsaw"))


def test_inflected_forms_find_their_base(lexicon: BilingualLexicon) -> None:
    assert "政府" in dict(lexicon.lookup("governments"))
    assert "批评" in dict(lexicon.lookup("criticised")) | dict(lexicon.lookup("criticized"))
    assert "祖先" in dict(lexicon.lookup("ancestors"))


def test_translate_matches_phrases_and_keeps_numbers(lexicon: BilingualLexicon) -> None:
    concepts = lexicon.translate("When did the Conference of the Parties adopt decision 1/CP.18 in 2012?")
    sources = [c.source for c in concepts]
    assert "Conference of the Parties" in sources  # one concept, stop words inside kept
    cop = next(c for c in concepts if c.source == "Conference of the Parties")
    assert cop.translations[0][0] == "缔约方大会"
    numbers = [c for c in concepts if c.verbatim]
    assert [c.translations[0][0] for c in numbers] == ["1/cp.18", "2012"]
    assert not any(c.source.lower() in ("when", "did", "the", "in") for c in concepts)


def test_known_filter_drops_unknown_phrases(lexicon: BilingualLexicon) -> None:
    concepts = lexicon.translate("Kyoto Protocol", known=lambda term: term in {"京都", "议定书"})
    # no translation of the phrase is known: its words are translated one by one
    assert [c.source for c in concepts] == ["Kyoto", "Protocol"]
    assert all(all(t in {"京都", "议定书"} for t, _ in c.translations) for c in concepts)


def test_cache_is_written_and_reused(tmp_path: Path) -> None:
    (tmp_path / "cedict-en-zh-v1-0123456789abcdef.json.gz").write_bytes(b"an older format's cache")
    first = BilingualLexicon(tmp_path)
    expected = first.lookup("biodiversity")
    caches = list(tmp_path.glob("lexicon-en-zh-v*.sqlite"))
    assert len(caches) == 1
    assert not list(tmp_path.glob("cedict-en-zh-*"))  # the older format's cache is gone, not misread
    again = BilingualLexicon(tmp_path)
    assert isinstance(again._ensure(), SqliteTables)  # served by the cache file, not rebuilt
    assert again.lookup("biodiversity") == expected


def _probe_phrases() -> list[str]:
    """A few hundred English words and phrases: XQuAD questions' words, bigrams and trigrams,
    and forms that only the de-inflection, spelling-variant or stem fallbacks translate."""
    questions = _xquad_questions()[:60]
    phrases: set[str] = {
        "ratifying", "organisations", "organizations", "characterise", "took the floor", "IAEA",
        "Conference of the Parties", "desertification", "adopted", "governments", "criticised",
        "twelfth", "19th", "xylophonequux", "the", "",
    }
    for question in questions:
        words = re.findall(r"[A-Za-z0-9'-]+", question)
        for n in (1, 2, 3):
            phrases.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return sorted(phrases)


def _xquad_chinese_questions() -> list[str]:
    data = json.loads((XQUAD / "xquad.zh.json").read_text(encoding="utf-8"))
    return [qa["question"] for article in data["data"] for p in article["paragraphs"] for qa in p["qas"]]


def _xquad_questions() -> list[str]:
    data = json.loads((XQUAD / "xquad.en.json").read_text(encoding="utf-8"))
    return [qa["question"] for article in data["data"] for p in article["paragraphs"] for qa in p["qas"]]


def test_lexicon_from_the_cache_translates_exactly_like_one_built_from_scratch(lexicon: BilingualLexicon) -> None:
    cached = BilingualLexicon(lexicon.cache_dir)  # the fixture built (in memory) and wrote the cache
    assert isinstance(cached._ensure(), SqliteTables)
    scratch = BilingualLexicon(None)
    phrases = _probe_phrases()
    assert len(phrases) >= 300
    for phrase in phrases:
        assert cached.lookup(phrase) == scratch.lookup(phrase) == lexicon.lookup(phrase), phrase
    assert cached.lookup("ratifying") and cached.lookup("organisations")  # the fallbacks were exercised
    for question in _xquad_questions()[:80]:
        assert cached.translate(question) == scratch.translate(question), question
    assert BilingualLexicon(lexicon.cache_dir, use_stems=False).lookup("ratifying") == BilingualLexicon(None, use_stems=False).lookup("ratifying")
    # the other direction: a Chinese question's words glossed in English, from the cache's table
    chinese = [w for q in _xquad_chinese_questions()[:80] for w in analyze(q)]
    glossed = cached.glossed(chinese)
    assert len(glossed) > 100 and glossed == scratch.glossed(chinese)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_cache_is_rebuilt(lexicon: BilingualLexicon, tmp_path: Path, damage: str) -> None:
    assert lexicon.cache_dir is not None
    (sound,) = lexicon.cache_dir.glob("lexicon-en-zh-v*.sqlite")
    raw = sound.read_bytes()
    cache = tmp_path / sound.name
    cache.write_bytes({"truncated": raw[: len(raw) // 3], "garbage": b"not a database" * 1000, "empty": b""}[damage])
    damaged = BilingualLexicon(tmp_path)
    assert damaged.lookup("organisations") == lexicon.lookup("organisations") != []
    assert isinstance(damaged._ensure(), MemoryTables)  # rebuilt ...
    assert cache.stat().st_size > len(raw) // 2 and isinstance(BilingualLexicon(tmp_path)._ensure(), SqliteTables)  # ... and rewritten


def test_invert_cedict_weights_and_skips() -> None:
    lines = [
        "# comment",
        "荒漠化 荒漠化 [huang1 mo4 hua4] /desertification/",
        "打 打 [da3] /to beat/to strike/to hit/to break/to fight/",
        "擊 击 [ji1] /to hit/to strike/",
        "乾 干 [gan1] /variant of 幹|干[gan4]/surname Gan/dry/",
        "會議 会议 [hui4 yi4] /meeting/conference/CL:場|场[chang3]/",
    ]
    inverted = invert_cedict(lines)
    assert inverted["desertification"] == [("荒漠化", 1.0)]
    # fewer senses -> more specific translation, ranked first
    assert [t for t, _ in inverted["hit"]] == ["击", "打"]
    assert inverted["dry"] == [("干", 1.0)]  # "variant of" and "surname" glosses not counted
    assert "variant" not in " ".join(inverted)
    assert "会议" in dict(inverted["conference"])


def test_a_cross_reference_in_parentheses_keeps_the_gloss() -> None:
    """首尔's only gloss names its former name in Chinese; it was dropped whole, and "Seoul" had no translation."""
    lines = [
        "首爾 首尔 [Shou3 er3] /Seoul, capital of South Korea (Chinese name adopted in 2005 to replace 漢城|汉城[Han4 cheng2])/",
        "乾 干 [gan1] /variant of 幹|干[gan4]/dry/",
        "舊 旧 [jiu4] /old/same as 舊時|旧时/",
    ]
    inverted = invert_cedict(lines)
    assert dict(inverted["seoul"]) == {"首尔": 0.5}  # a comma part of the gloss, hence half weight
    assert "capital of south korea" in inverted
    assert not any("旧时" in key or "same as" in key for key in inverted)  # Han outside parentheses: no English sense


def test_glossary_is_well_formed() -> None:
    glossary = load_glossary()
    assert len(glossary) >= 150
    for english, targets in glossary.items():
        assert english == english.lower() and targets
        assert all(_HAN.search(t) or t.isascii() for t in targets), english
    assert glossary["conference of the parties"] == ["缔约方大会"]
    assert glossary["land degradation neutrality"][0] == "土地退化零增长"


def test_un_system_names_and_acronyms(lexicon: BilingualLexicon) -> None:
    # CC-CEDICT has no acronyms of the UN system: the full name and the short form UN Chinese texts use after it
    assert {t for t, _ in lexicon.lookup("IAEA")[:2]} == {"国际原子能机构", "原子能机构"}
    assert _first(lexicon, "Standing Committee") == "常设委员会"  # CC-CEDICT: 常委会 (a party's standing committee)
    assert _first(lexicon, "UNDP") == "开发署"
    assert _first(lexicon, "SDGs") == "可持续发展目标"


def test_word_forms_the_dictionary_lacks(lexicon: BilingualLexicon) -> None:
    took = lexicon.translate("How many ministers took the floor?")
    assert ("took the floor", "发言") in [(c.source, c.translations[0][0]) for c in took]  # irregular past, UN idiom
    assert lexicon.lookup("characterise") == lexicon.lookup("characterize") != []  # British spelling
    ordinals = {c.source: [t for t, _ in c.translations] for c in lexicon.translate("the 19th session and the twelfth meeting")}
    assert "第十九届" in ordinals["19th"] and "19th" in ordinals["19th"]
    assert "第十二次" in ordinals["twelfth"]
    cop = {c.source: [t for t, _ in c.translations] for c in lexicon.translate("COP 16")}
    assert cop["16"][0] == "16" and "第十六届" in cop["16"]  # a session number, kept first as it is
    # a variant's own variant can lead back ("offset" -> "off-set" -> "offset"): looked up one step deep
    offsets = lexicon.translate("Who will undertake to offset and rebuild the carbon offset markets?")
    assert [c.source for c in offsets if c.translations][:2] == ["undertake", "offset"]


@pytest.fixture(scope="module")
def seed_paragraphs() -> tuple[list[int], LexicalIndex]:
    """The numbered paragraphs of the real seed report (A/68/..., Chinese), lexical index only."""
    from rag.config import Settings
    from rag.engine import load_seed_corpus
    from tests.conftest import SEEDS

    units = [u for d in load_seed_corpus(Settings(_env_file=None, seeds_dir=SEEDS)).documents for u in d.units if u.kind.value == "paragraph" and u.para is not None]
    return [u.para for u in units], LexicalIndex.build([u.text for u in units])


@pytest.mark.parametrize(
    ("question", "para", "dictionary_alone_misses"),
    [
        ("What does the cooperation with the IAEA aim to assess?", 68, True),  # 国际原子能机构(原子能机构)
        ("What was the Standing Committee renamed?", 14, True),  # 常设委员会, not CC-CEDICT's 常委会
        ("How many ministers took the floor?", 7, False),  # 发言 (部长 alone finds it too)
    ],
)
def test_english_question_finds_the_official_chinese_term(
    lexicon: BilingualLexicon, seed_paragraphs: tuple[list[int], LexicalIndex], question: str, para: int, dictionary_alone_misses: bool, tmp_path: Path
) -> None:
    paras, index = seed_paragraphs
    known = lambda term: index.coverage(term) >= 1.0  # noqa: E731
    scores, _ = translated_scores(index, lexicon.translate(question, known))
    assert scores is not None and paras[int(np.argmax(scores))] == para
    if dictionary_alone_misses:  # through CC-CEDICT alone (an empty glossary) the paragraph is not found
        bare = BilingualLexicon(tmp_path, glossary_path=_empty_glossary(tmp_path))
        scores, _ = translated_scores(index, bare.translate(question, known))
        assert scores is None or paras[int(np.argmax(scores))] != para


def _empty_glossary(tmp_path: Path) -> Path:
    path = tmp_path / "empty.tsv"
    path.write_text("# nothing\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- scoring and fusion


@pytest.fixture(scope="module")
def tiny_index() -> LexicalIndex:
    return LexicalIndex.build(
        [
            "缔约方大会通过了关于荒漠化的决定。",
            "政府在2012年提交了国家报告。",
            "会议讨论了森林和生物多样性。",
            "这是一段不相关的文字，谈论天气。",
        ]
    )


def test_translated_scores_rank_the_right_chunk(lexicon: BilingualLexicon, tiny_index: LexicalIndex) -> None:
    known = lambda term: tiny_index.coverage(term) >= 1.0  # noqa: E731
    scores, share = translated_scores(tiny_index, lexicon.translate("What did the Conference of the Parties decide on desertification?", known))
    assert scores is not None and int(np.argmax(scores)) == 0
    assert share > 0.5
    scores, _ = translated_scores(tiny_index, lexicon.translate("Which report did the government submit in 2012?", known))
    assert int(np.argmax(scores)) == 1
    scores, share = translated_scores(tiny_index, lexicon.translate("Xylophone quux", known))
    assert scores is None and share == 0.0


def test_structured_pooling_counts_a_concept_once(tiny_index: LexicalIndex) -> None:
    # chunk 2 matches two translations of one concept, chunk 0 one translation of each of two
    many = Concept("meeting", (("会议", 1.0), ("森林", 1.0), ("生物", 1.0)))
    a = Concept("x", (("缔约方", 1.0),))
    b = Concept("y", (("荒漠化", 1.0),))
    structured, share = translated_scores(tiny_index, [many, a, b], pooling="max")
    flat, _ = translated_scores(tiny_index, [many, a, b], pooling="sum")
    assert share == 1.0
    assert structured[0] > structured[2]
    assert flat[2] > structured[2]  # the unstructured sum rewards the many-translation chunk


def test_fusion_with_translated_channel() -> None:
    dense = {"a": 0.9, "b": 0.8, "c": 0.7}
    translated = {"b": 10.0, "c": 2.0}
    fused = fuse_scores(dense, {}, 0.0, translated, 0.35)
    assert max(fused, key=fused.get) == "b"
    assert fuse_scores(dense, {}, 0.0, {}, 0.35) == fuse_scores(dense, {}, 0.0)  # nothing translated: dense only
    params = FusionParams()
    assert translation_weight(1.0, params) == params.translation_alpha
    assert translation_weight(0.0, params) == 0.0


# ---------------------------------------------------------------- slow: XQuAD en -> zh


def _xquad(lang: str, contexts: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    data = json.loads((XQUAD / f"xquad.{lang}.json").read_text(encoding="utf-8"))
    docs: list[tuple[str, str, str]] = []
    questions: list[tuple[str, str]] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            cid = f"c{len(docs)}"
            docs.append((cid, "", paragraph["context"]))
            questions += [(qa["question"], cid) for qa in paragraph["qas"]]
    keep = {d[0] for d in docs[:contexts]}
    return docs[:contexts], [q for q in questions if q[1] in keep]


@pytest.mark.slow
def test_chinese_questions_over_english_contexts_are_judged_by_their_own_verifier(settings, lexicon: BilingualLexicon) -> None:
    """A Chinese question's words meet English evidence through their glosses, and the zh>en model, fitted
    on that pairing alone, judges them: most are answered with the gold paragraph (the main model on
    unread coverages refused most of them), and questions about articles that are not indexed are
    refused far more often than the main model on the same glossed features refuses them."""
    from dataclasses import replace

    from index.store import load_index
    from rag.engine import build_from_documents, choose_model, corpus_from_beir, load_embedder_for
    from rag.qa import QuestionAnswerer
    from rag.retriever import Retriever

    contexts, _ = _xquad("en", 60)
    _, questions = _xquad("zh", 60)
    _, every_question = _xquad("zh", 240)
    outside = [q for q, context in every_question if int(context[1:]) >= 180][::2]  # other articles, never indexed
    index_dir = settings.home / "xquad-en-60"
    build_from_documents(settings, corpus_from_beir(contexts, "xquad.en"), index_dir=index_dir)
    retriever = Retriever(load_index(index_dir), load_embedder_for(choose_model(settings), settings), lexicon=lexicon)
    paired = QuestionAnswerer(retriever, settings.answer_params)
    assert paired.verifier is not None and "zh>en" in paired.verifier.pairings
    single = QuestionAnswerer(retriever, settings.answer_params, verifier=replace(paired.verifier, pairings={}))

    def answered_with_gold(answerer: QuestionAnswerer) -> float:
        answers = [answerer.ask(q).answer for q, _ in questions]
        return float(np.mean([not a.refused and a.citations[0].id == gold for a, (_, gold) in zip(answers, questions)]))

    def refused(answerer: QuestionAnswerer) -> float:
        return float(np.mean([answerer.ask(q).answer.refused for q in outside]))

    assert answered_with_gold(paired) > 0.6
    assert refused(paired) > 0.85
    assert refused(paired) > refused(single) + 0.15


@pytest.mark.slow
def test_xquad_english_questions_over_chinese_contexts(settings, lexicon: BilingualLexicon) -> None:
    from index.store import load_index
    from rag.engine import build_from_documents, choose_model, corpus_from_beir, load_embedder_for
    from rag.retriever import RetrievalMode, Retriever

    contexts, _ = _xquad("zh", 60)
    _, questions = _xquad("en", 60)  # contexts align across XQuAD languages
    index_dir = settings.home / "xquad-zh-60"
    build_from_documents(settings, corpus_from_beir(contexts, "xquad.zh"), index_dir=index_dir)
    index = load_index(index_dir)
    encoder = load_embedder_for(choose_model(settings), settings)

    def recall_at_1(mode: RetrievalMode, fusion: FusionParams) -> float:
        retriever = Retriever(index, encoder, fusion=fusion, lexicon=lexicon)
        results = retriever.search_many([q for q, _ in questions], 5, mode=mode)
        return float(np.mean([bool(r.hits) and r.hits[0].unit.id == gold for r, (_, gold) in zip(results, questions)]))

    chunk_dense = recall_at_1(RetrievalMode.DENSE, FusionParams(sentence_weight=0.0))
    dense = recall_at_1(RetrievalMode.DENSE, FusionParams())
    untranslated = recall_at_1(RetrievalMode.HYBRID, FusionParams(translation_alpha=0.0))
    hybrid = recall_at_1(RetrievalMode.HYBRID, FusionParams())
    assert dense > chunk_dense  # sentence evidence helps the dense channel
    assert hybrid > dense and hybrid > untranslated  # the translated lexical channel adds on top


@pytest.mark.slow
def test_seed_english_acronym_question_retrieves_the_official_chinese_paragraph(retriever) -> None:
    """End to end on the real seed index (hybrid: dense + BM25 + translated BM25): the paragraph that
    names 国际原子能机构 / 常设委员会 is found for a question that only says "IAEA" / "Standing Committee"."""
    for question, para in (
        ("Which nuclear techniques does the partnership with the IAEA offer?", 68),
        ("Under what name does the Standing Committee continue its work?", 14),
    ):
        hits = retriever.search(question, k=3).hits
        assert [h.unit.para for h in hits][:3].count(para) >= 1, question


def test_chinese_words_gloss_into_english(lexicon: BilingualLexicon) -> None:
    concepts = {c.source: [e for e, _ in c.translations] for c in lexicon.glossed(["防守", "拦截", "的", "卡万", "防守"])}
    assert "defend" in concepts["防守"] and concepts["拦截"] == ["intercept"]
    assert "的" not in concepts and "卡万" not in concepts  # a single character; a name CC-CEDICT lacks
    assert len(lexicon.glossed(["防守", "防守"])) == 1


@pytest.mark.slow
def test_xquad_chinese_questions_over_english_contexts(settings, lexicon: BilingualLexicon) -> None:
    """The dictionary channel the other way round: Chinese questions over English paragraphs gain from
    the English words of their CC-CEDICT glosses (XQuAD, whole set: hybrid R@1 0.710 -> 0.841)."""
    from index.store import load_index
    from rag.engine import build_from_documents, choose_model, corpus_from_beir, load_embedder_for
    from rag.retriever import RetrievalMode, Retriever

    contexts, _ = _xquad("en", 60)
    _, questions = _xquad("zh", 60)
    index_dir = settings.home / "xquad-en-60"
    build_from_documents(settings, corpus_from_beir(contexts, "xquad.en"), index_dir=index_dir)
    index = load_index(index_dir)
    encoder = load_embedder_for(choose_model(settings), settings)

    def recall_at_1(fusion: FusionParams) -> float:
        retriever = Retriever(index, encoder, fusion=fusion, lexicon=lexicon)
        results = retriever.search_many([q for q, _ in questions], 5, mode=RetrievalMode.HYBRID)
        assert all(r.language == "zh" for r in results)
        return float(np.mean([bool(r.hits) and r.hits[0].unit.id == gold for r, (_, gold) in zip(results, questions)]))

    assert recall_at_1(FusionParams()) > recall_at_1(FusionParams(translation_alpha=0.0)) + 0.05
