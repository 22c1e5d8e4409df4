"""Tests for rag.analysis (the analyser) and rag.lexical (the BM25 index), on real data."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pytest

from rag.analysis import Analyzer, analyze
from rag.evaluation.runner import DEFAULT_XQUAD_DIR
from rag.lexical import LexicalIndex

ROOT = Path(__file__).parents[1]
SEED = ROOT / "seeds" / "000_75fc5355e1129b16.txt"
XQUAD_DIRS = [DEFAULT_XQUAD_DIR]  # eval/data/xquad, shipped with the repository


def _blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]


@pytest.fixture(scope="module")
def seed_blocks() -> list[str]:
    return _blocks(SEED)


@pytest.fixture(scope="module")
def seed_index(seed_blocks) -> LexicalIndex:
    return LexicalIndex.build(seed_blocks)


# ---------------------------------------------------------------- analyser


@pytest.mark.parametrize(
    "text, expected",
    [
        ("A/68/150", "a/68/150"),
        ("* A/68/150。", "a/68/150"),
        ("大会第 67/211 号决议", "67/211"),
        ("按照第 1/CP.17 号和第 2/CP.18 号决定", "2/cp.18"),
        ("decision 1/CP.18.", "1/cp.18"),
        ("到 2020 年", "2020"),
        ("《2011-2020 年生物多样性战略计划》", "2011-2020"),
        ("《公约》第 8(j) 条", "8(j)"),
        ("保护 17%陆地的目标", "17%"),
        ("保护 １７％陆地", "17%"),  # full-width digits and percent sign
        ("1 000亿美元", "1000"),
        ("有 4 300 名政府代表", "4300"),
        ("总额100 000美元奖金", "100000"),
        ("1,000,000 people", "1000000"),
    ],
)
def test_symbols_and_numbers_survive_as_single_tokens(text, expected):
    assert expected in analyze(text)


def test_symbols_are_not_split_into_parts():
    toks = analyze("A/68/150 1/CP.18 2011-2020 8(j)")
    for part in ("a", "68", "150", "1", "cp", "18", "2011", "2020", "8", "j"):
        assert part not in toks


def test_slash_symbol_also_indexes_its_numeric_suffix():
    assert analyze("A/RES/67/211") == ["a/res/67/211", "67/211"]
    assert analyze("A/68/150") == ["a/68/150", "68/150"]
    assert analyze("COVID-19") == ["covid-19", "covid"]
    assert analyze("2011-2020") == ["2011-2020"]


def test_chinese_numeral_unit_is_its_own_token():
    # with or without a space before the unit, and the rest is segmented normally
    assert analyze("1 000亿美元") == ["1000", "亿", "美元"]
    assert analyze("每年 1 000 亿美元") == ["每年", "1000", "亿", "美元"]
    assert analyze("有 4 300 名政府代表") == ["4300", "名", "政府", "代表"]
    # years are not thousands groups
    assert analyze("2012 年 11 月 26 日")[:2] == ["2012", "年"]
    assert "2012100" not in analyze("in 2012, 100 countries")


def test_mixed_sentence():
    toks = analyze("根据第 67/211 号决议 the Conference adopted decision 1/CP.18")
    assert toks == ["根据", "第", "67/211", "号", "决议", "confer", "adopt", "decis", "1/cp.18"]


def test_english_lowercase_stem_stopwords():
    toks = analyze("The Conference of the Parties ADOPTED the adoption of Protocols")
    assert toks == ["confer", "parti", "adopt", "adopt", "protocol"]
    assert analyze("the of and to in") == []
    # list markers and hyphenated words
    assert analyze("(a) long-term") == ["long", "term"]


def test_chinese_segmentation_and_punctuation():
    toks = analyze("《京都议定书多哈修正案》，第二承诺期。")
    assert toks == ["京都", "议定书", "多哈", "修正案", "第二", "承诺", "期"]
    # function / question words dropped, punctuation never a token
    assert analyze("黑豹队的防守丢了多少分？") == ["黑豹", "队", "防守", "丢", "分"]
    assert analyze("，。、《》“”！？（）") == []
    assert analyze("") == []


def test_full_width_equals_half_width():
    assert analyze("ＡＢＣ（１２３）：Ｋｙｏｔｏ　Ｐｒｏｔｏｃｏｌ") == analyze("ABC(123): Kyoto Protocol")


def test_search_mode_adds_subwords():
    toks = Analyzer(zh_mode="search")("多哈修正案")
    assert {"多哈", "修正", "修正案"} <= set(toks)
    with pytest.raises(ValueError):
        Analyzer(zh_mode="bigram")


def test_jieba_is_quiet_and_global_state_untouched(caplog, monkeypatch):
    import jieba

    import rag.analysis as lexical

    monkeypatch.setattr(lexical, "_jieba_tokenizer", None)  # force a fresh load
    root_level = logging.getLogger().level
    global_tokenizer = jieba.dt
    with caplog.at_level(logging.DEBUG):
        assert analyze("联合国气候变化框架公约") == ["联合国", "气候变化", "框架", "公约"]
    assert not [r for r in caplog.records if r.name.startswith("jieba")]
    assert logging.getLogger().level == root_level
    assert lexical._jieba_tokenizer is not global_tokenizer and jieba.dt is global_tokenizer


# ---------------------------------------------------------------- index on the seed document


def test_seed_doha_amendment(seed_blocks, seed_index):
    rows, scores = seed_index.search("多哈修正案 第二承诺期", 3)
    assert len(rows) == 3
    assert any("2013年1" in seed_blocks[i] and seed_blocks[i].startswith("26.") for i in rows)
    assert np.all(np.diff(scores) <= 0)


def test_seed_nagoya_ratification(seed_blocks, seed_index):
    rows, _ = seed_index.search("名古屋议定书 批准", 5)
    assert "名古屋议定书" in seed_blocks[rows[0]]
    assert "批准" in seed_blocks[rows[0]]


def test_seed_symbol_lookup(seed_blocks, seed_index):
    rows, _ = seed_index.search("A/68/150", 5)
    assert "A/68/150" in seed_blocks[rows[0]]
    rows, _ = seed_index.search("第 8(j) 条", 1)
    assert "8(j)" in seed_blocks[rows[0]]
    rows, _ = seed_index.search("每年1000亿美元的气候融资", 1)
    assert "1 000 亿美元" in seed_blocks[rows[0]]


def test_english_minicorpus_with_stemming():
    texts = [
        "The Conference of the Parties serving as the meeting of the Parties to the "
        "Kyoto Protocol welcomed the adoption of the Doha Amendment.",
        "The Convention on Biological Diversity and its Nagoya Protocol on access and benefit-sharing.",
        "Desertification, land degradation and drought affect 1.5 billion people.",
        "The General Assembly adopted resolution 67/211 on climate.",
    ]
    idx = LexicalIndex.build(texts)
    rows, _ = idx.search("Kyoto Protocol", 4)
    assert rows[0] == 0
    assert set(rows) == {0, 1}  # "protocol" is shared; nothing else matches
    # stemming: "adopted" in the query matches "adoption" in the text
    rows, _ = idx.search("Doha amendment adopted", 1)
    assert rows[0] == 0
    s = idx.scores("adopted")
    assert s[0] > 0 and s[3] > 0 and s[1] == 0 and s[2] == 0
    # symbols across languages
    rows, _ = idx.search("第 67/211 号决议", 1)
    assert rows.tolist() == [3]


# ---------------------------------------------------------------- API contract


def test_search_contract(seed_blocks, seed_index):
    n = len(seed_blocks)
    assert len(seed_index) == n
    s = seed_index.scores("京都议定书")
    assert s.shape == (n,) and s.dtype == np.float32
    rows, scores = seed_index.search("京都议定书", 10)
    assert rows.dtype == np.int64 and len(rows) == 10
    assert np.array_equal(scores, s[rows])
    assert np.all(np.diff(scores) <= 0) and np.all(scores > 0)
    # top-k agrees with a full sort of scores() (ties: lower row first)
    assert rows.tolist() == np.lexsort((np.arange(n), -s))[:10].tolist()
    # k larger than the number of matches: only positive-score rows come back
    rows, scores = seed_index.search("A/68/150", 1000)
    assert len(rows) == int(np.sum(seed_index.scores("A/68/150") > 0)) < n
    # k <= 0 and unusable queries: empty arrays, no exception
    for q, k in [("京都议定书", 0), ("", 5), ("，。！", 5), ("the of", 5), ("zzzunknownzzz", 5)]:
        rows, scores = seed_index.search(q, k)
        assert rows.shape == (0,) and scores.shape == (0,)
    assert not seed_index.scores("").any()


def test_small_and_degenerate_corpora(tmp_path):
    idx = LexicalIndex.build(["Kyoto Protocol", "京都议定书"])
    rows, _ = idx.search("protocol", 10)
    assert rows.tolist() == [0]
    empty = LexicalIndex.build([])
    assert len(empty) == 0 and empty.search("x", 3)[0].shape == (0,) and empty.scores("x").shape == (0,)
    blank = LexicalIndex.build(["", "。。", "the"])
    assert len(blank) == 3 and blank.search("the", 3)[0].shape == (0,)
    blank.save(tmp_path / "blank")
    assert len(LexicalIndex.load(tmp_path / "blank")) == 3


def test_save_load_round_trip(tmp_path, seed_blocks, seed_index):
    seed_index.save(tmp_path / "idx")
    loaded = LexicalIndex.load(tmp_path / "idx")
    assert len(loaded) == len(seed_index)
    for q in ["多哈修正案 第二承诺期", "名古屋议定书 批准", "A/68/150", "Kyoto Protocol adopted", ""]:
        assert np.array_equal(loaded.scores(q), seed_index.scores(q))
        r1, s1 = seed_index.search(q, 5)
        r2, s2 = loaded.search(q, 5)
        assert np.array_equal(r1, r2) and np.array_equal(s1, s2)
    state = json.loads((tmp_path / "idx" / "lexical.json").read_text(encoding="utf-8"))
    assert state["n_docs"] == len(seed_blocks) and state["analyzer"]["zh_mode"] == "cut"


def test_load_keeps_analyzer_settings_and_refuses_other_versions(tmp_path, seed_blocks):
    a = Analyzer(zh_mode="search")
    idx = LexicalIndex.build(seed_blocks[:20], analyzer=a)
    idx.save(tmp_path / "s")
    assert LexicalIndex.load(tmp_path / "s").analyzer == a
    state_file = tmp_path / "s" / "lexical.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    state["analyzer"]["version"] = -1
    state_file.write_text(json.dumps(state), encoding="utf-8")
    with pytest.raises(ValueError, match="rebuild"):
        LexicalIndex.load(tmp_path / "s")


# ---------------------------------------------------------------- XQuAD (zh)


def _xquad(lang: str) -> tuple[list[str], list[tuple[str, int]]]:
    for d in XQUAD_DIRS:
        path = d / f"xquad.{lang}.json"
        if path.exists():
            break
    else:
        pytest.fail(f"XQuAD data not found in {[str(d) for d in XQUAD_DIRS]}")
    data = json.loads(path.read_text(encoding="utf-8"))
    contexts: list[str] = []
    questions: list[tuple[str, int]] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            contexts.append(para["context"])
            questions += [(qa["question"], len(contexts) - 1) for qa in para["qas"]]
    return contexts, questions


def test_xquad_zh_recall_at_1():
    contexts, questions = _xquad("zh")
    assert len(contexts) == len(set(contexts)) == 240 and len(questions) == 1190
    idx = LexicalIndex.build(contexts)
    hits1 = hits5 = 0
    for q, gold in questions:
        rows, _ = idx.search(q, 5)
        hits1 += bool(len(rows)) and rows[0] == gold
        hits5 += gold in rows
    r1, r5 = hits1 / len(questions), hits5 / len(questions)
    print(f"XQuAD zh->zh R@1={r1:.3f} R@5={r5:.3f}")
    assert r1 >= 0.90
    assert r5 >= 0.97
