"""The refusal verifier: its figures, its JSON model, and the refusals the issue lists under **Why**."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.evaluation.selective import auc, refusal_figures, risk_coverage
from rag.verifier import FEATURES, Verifier, evidence_features, load_verifier


def test_auc_matches_the_pairwise_definition() -> None:
    scores = np.array([0.9, 0.8, 0.4, 0.4, 0.1])
    labels = np.array([1, 0, 1, 0, 0])
    pairs = [(p, n) for p in scores[labels == 1] for n in scores[labels == 0]]
    expected = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)
    assert auc(scores, labels) == pytest.approx(expected)
    assert auc(scores, np.ones(5)) is None


def test_refusal_figures_and_risk_coverage() -> None:
    probabilities = np.array([0.9, 0.7, 0.3, 0.2])
    labels = np.array([1, 0, 0, 1])  # 1: answering is right
    figures = refusal_figures(probabilities, labels, 0.5)
    assert figures["refused"] == 2 and figures["precision"] == 0.5 and figures["recall"] == 0.5
    curve = risk_coverage(probabilities, labels)
    assert curve[1] == (0.25, 0.0) and curve[2] == (0.5, 0.5) and curve[-1] == (1.0, 0.5)


def test_shipped_verifier_is_small_json_with_the_features_the_code_computes() -> None:
    verifier = load_verifier()
    assert verifier is not None and verifier.features == FEATURES
    assert 0.0 < verifier.threshold < 1.0
    text = json.dumps(verifier.to_json())
    assert len(text) < 4000
    assert Verifier.from_json(json.loads(text)) == verifier
    bad = {**verifier.to_json(), "features": ["best_sentence"]}
    with pytest.raises(ValueError, match="retrain"):
        Verifier.from_json(bad)


def test_a_pairing_has_its_own_model_and_threshold() -> None:
    verifier = load_verifier()
    assert verifier is not None and set(verifier.pairings) == {"zh>en"}
    chinese_over_english = verifier.for_pair("zh", cross=True)
    assert chinese_over_english is verifier.pairings["zh>en"] and chinese_over_english.threshold != verifier.threshold
    assert verifier.for_pair("en", cross=True) is verifier  # English over Chinese: the main model learned it
    assert verifier.for_pair("zh", cross=False) is verifier
    unknown = {**verifier.to_json(), "pairings": {"fr>zh": verifier.to_json()}}
    with pytest.raises(ValueError, match="retrain"):
        Verifier.from_json(unknown)
    nested = {**verifier.to_json(), "pairings": {"zh>en": verifier.to_json()}}  # the main model's JSON carries pairings
    with pytest.raises(ValueError, match="retrain"):
        Verifier.from_json(nested)
    alone = Verifier.from_json({**verifier.to_json(), "pairings": None})
    assert alone.pairings == {} and alone.for_pair("zh", cross=True) is alone
    assert Verifier.from_json(json.loads(json.dumps(verifier.to_json()))) == verifier


def test_a_chinese_question_reads_english_evidence_through_glosses(settings) -> None:
    """Before glossing, a Chinese question's words never matched English text: coverage 0 for every answer."""
    from rag.answer import QuotedSentence
    from rag.engine import make_lexicon
    from rag.units import Unit, UnitKind

    text = "Norman had four interceptions during the 2015 season, and he was named to the Pro Bowl."
    unit = Unit(id="c1", doc="c1", kind=UnitKind.PARAGRAPH, para=None, sub=None, section=(), text=text, start=0, end=len(text))
    candidates = [QuotedSentence(unit=unit, start=0, end=len(text), score=0.8)]
    question = "诺曼在2015赛季拦截了多少次传球？"
    lexicon = make_lexicon(settings)
    glossed = dict(zip(FEATURES, evidence_features(question, "zh", candidates, [], {}, lexicon, True), strict=True))
    unread = dict(zip(FEATURES, evidence_features(question, "zh", candidates, [], {}, None, True), strict=True))
    assert glossed["sentence_coverage"] > 0.3 and unread["sentence_coverage"] == 0.0
    assert glossed["measure_match"] == 1.0 and glossed["number_coverage"] == 1.0
    dated = "Norman played cornerback in the 2015 season, from 4 to 7 February 2016."  # dates, no count
    no_count = Unit(id="c2", doc="c2", kind=UnitKind.PARAGRAPH, para=None, sub=None, section=(), text=dated, start=0, end=len(dated))
    values = evidence_features("诺曼在本赛季拦截了多少次传球？", "zh", [QuotedSentence(no_count, 0, len(dated), 0.8)], [], {}, lexicon, True)
    assert values[FEATURES.index("measure_match")] == 0.0


def test_a_chinese_name_over_english_evidence_is_read_through_its_glosses(settings) -> None:
    from rag.answer import QuotedSentence
    from rag.engine import make_lexicon
    from rag.units import Unit, UnitKind

    def name_coverage(question: str, text: str) -> float:
        unit = Unit(id="c1", doc="c1", kind=UnitKind.PARAGRAPH, para=None, sub=None, section=(), text=text, start=0, end=len(text))
        values = evidence_features(question, "zh", [QuotedSentence(unit, 0, len(text), 0.8)], [], {}, make_lexicon(settings), True)
        return values[FEATURES.index("name_coverage")]

    question = "《生物多样性公约》缔约方大会在哪里举行？"  # a quoted title CC-CEDICT has no headword for: read word by word
    assert name_coverage(question, "The Conference of the Parties to the Convention on Biological Diversity met in Hyderabad.") > 0.5
    assert name_coverage(question, "The Conference of the Parties met in Hyderabad.") < name_coverage(
        question, "The Conference of the Parties to the Convention on Biological Diversity met in Hyderabad.")


def test_an_english_question_over_english_evidence_reads_no_place_without_the_dictionary() -> None:
    from rag.verifier import _place_missing

    assert _place_missing("Why did New Zealand not join?", "Australia and Japan made declarations.", None) == 0.0


def test_no_evidence_gives_zero_features() -> None:
    values = evidence_features("What?", "en", [], [], {}, None, False)
    assert len(values) == len(FEATURES) and values[0] == 0.0


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "第十九届缔约方大会在哪个城市举行？",
        "What was the initial capitalization of the Green Climate Fund?",  # para 15 names the process, states no amount
        "2022年世界杯足球赛的冠军是哪个国家？",
        "What is the capital of Australia?",
    ],
)
def test_on_topic_and_off_topic_unanswerables_are_refused(answerer, question: str) -> None:
    answer = answerer.ask(question).answer
    assert answer.refused, (question, answer.answer, answer.confidence)
    assert answer.confidence is not None and answer.see_also


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "para"),
    [("多哈会议有多少名政府代表参加？", 3), ("When does the second commitment period of the Kyoto Protocol end?", 26)],
)
def test_answerable_questions_are_still_answered(answerer, question: str, para: int) -> None:
    answer = answerer.ask(question).answer
    assert not answer.refused and answer.citations[0].para == para


def _train_script():
    import importlib.util

    from rag.config import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location("train_verifier", PROJECT_ROOT / "scripts" / "train_verifier.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_operating_point_is_the_lowest_threshold_meeting_both_targets() -> None:
    from rag.evaluation.verifier_data import Example

    script = _train_script()

    def example(kind: str, label: int) -> Example:
        return Example("q", "xquad-zh", kind, "zh", "a", "train", label, bool(label), [])

    # 20 out-of-corpus questions at p = 0.0 .. 0.475, 20 right answers at p = 0.45 .. 0.925 (one overlaps)
    examples = [example("out-of-corpus", 0) for _ in range(20)] + [example("answerable", 1) for _ in range(20)]
    probabilities = np.array([i / 40 for i in range(20)] + [0.45 + i / 40 for i in range(20)])
    threshold = script._operating_point(probabilities, examples)
    outside = probabilities[:20]
    assert np.mean(outside < threshold) >= script.TARGET_OUT_OF_CORPUS
    figures = refusal_figures(probabilities, np.array([e.label for e in examples]), threshold)
    assert figures["precision"] >= script.TARGET_PRECISION
    lower = max(p for p in np.unique(np.round(probabilities, 4)) if p < threshold)  # one step lower misses a target
    assert np.mean(outside < lower) < script.TARGET_OUT_OF_CORPUS or refusal_figures(probabilities, np.array([e.label for e in examples]), lower)["precision"] < script.TARGET_PRECISION


def test_a_place_question_over_evidence_without_a_place_scores_no_type_match() -> None:
    values = evidence_features("第十九届缔约方大会在哪个城市举行？", "zh", [], [], {}, None, False)
    assert values[FEATURES.index("type_asked")] == 1.0


def test_a_country_the_evidence_never_names_is_a_place_missing() -> None:
    """Seed zh-080: para. 28 lists the parties that will not buy Kyoto units; New Zealand is not among them."""
    from rag.verifier import _place_missing

    text = "在多哈，包括澳大利亚、欧洲联盟、日本、列支敦士登、摩纳哥、挪威和瑞士在内的一些缔约方发表了政治宣言。"
    assert _place_missing("新西兰为什么不参加京都议定书第二承诺期？", text, None) == 1.0
    assert _place_missing("日本在多哈发表了什么宣言？", text, None) == 0.0
    # a kind of place is no place: "在哪座城市" asks for one
    assert _place_missing("颁奖仪式在哪座城市举行？", text, None) == 0.0
    # UN texts name the United States officially; a place inside an instrument's name (京都议定书) is not asked about
    assert _place_missing("美国对多哈修正案持什么立场？", "美利坚合众国代表团发了言。", None) == 0.0
    assert _place_missing("美国对多哈修正案持什么立场？", "加拿大代表团发了言。", None) == 1.0
    assert _place_missing("京都议定书第二承诺期何时开始？", "第二承诺期自 2013 年 1 月 1 日开始。", None) == 0.0
    # the section's titles count: a paragraph of the Doha chapter need not repeat 多哈
    assert _place_missing("多哈会议高级别部分由谁宣布开幕？", "高级别部分由缔约方大会主席宣布开幕。", None) == 1.0
    assert _place_missing("多哈会议高级别部分由谁宣布开幕？", "高级别部分由缔约方大会主席宣布开幕。\n一. 2012 年在多哈举行的会议的报告", None) == 0.0


@pytest.mark.slow
def test_an_english_question_names_a_country_through_the_dictionary(settings) -> None:
    from rag.engine import make_lexicon
    from rag.question_focus import places_and_people
    from rag.verifier import _place_missing

    lexicon = make_lexicon(settings)
    named = places_and_people("Why did New Zealand not join the second commitment period?", lexicon.lookup)
    assert [forms[0] for forms in named] == ["New Zealand"] and "新西兰" in named[0]
    text = "在多哈，包括澳大利亚、日本、挪威和瑞士在内的一些缔约方发表了政治宣言。"
    assert _place_missing("Why did New Zealand not join the second commitment period?", text, lexicon) == 1.0
    assert places_and_people("What did Japan declare?", lexicon.lookup)  # Japan is a place, and it is in the text:
    assert _place_missing("What did Japan declare?", text, lexicon) == 0.0
    assert places_and_people("What did the Kyoto Protocol parties decide?", lexicon.lookup) == []  # 京都议定书: mostly no place
    # 卡塔赫纳议定书 and 蒙特利尔议定书 are mostly their place's characters, but instruments (seed en-075, en-086)
    assert places_and_people("What does the report ask of parties that have not yet joined the Cartagena Protocol?", lexicon.lookup) == []
    assert places_and_people("What did the Montreal Protocol parties decide about HFCs?", lexicon.lookup) == []
    assert places_and_people("Why did New Zealand not join?") == []  # no dictionary: an English question names none
