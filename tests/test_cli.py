"""The ``rag`` command line on the real seed: listing units, building, searching, asking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(ROOT / "seeds"))
    monkeypatch.delenv("RAG_INDEX_DIR", raising=False)
    monkeypatch.delenv("RAG_MODEL", raising=False)
    return tmp_path


def test_paragraphs_jsonl_lists_every_unit(isolated_env: Path) -> None:
    result = runner.invoke(app, ["paragraphs"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert all({"id", "doc", "para", "sub", "section", "text", "start", "end"} <= r.keys() for r in records)
    paragraphs = [r for r in records if r["kind"] == "paragraph"]
    assert [r["para"] for r in paragraphs] == list(range(1, 91))
    p85 = [r for r in records if r["para"] == 85]
    assert len(p85) == 21 and p85[0]["sub"] is None and p85[11]["sub"] == "target 11"
    assert any(r["kind"] == "footnote" and r["para"] is None for r in records)


def test_paragraphs_table_and_unknown_doc(isolated_env: Path) -> None:
    table = runner.invoke(app, ["paragraphs", "--format", "table"])
    assert table.exit_code == 0 and "第六十八届会议" in table.output
    unknown = runner.invoke(app, ["paragraphs", "--doc", "nope"])
    assert unknown.exit_code == 2 and "unknown document 'nope'" in unknown.output


def test_build_refuses_empty_inputs_clearly(isolated_env: Path) -> None:
    empty_dir = isolated_env / "empty"
    empty_dir.mkdir()
    result = runner.invoke(app, ["build", "--seeds", str(empty_dir)])
    assert result.exit_code == 2 and "no readable documents" in result.output
    empty_corpus = isolated_env / "corpus.jsonl"
    empty_corpus.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["build", "--corpus", str(empty_corpus)])
    assert result.exit_code == 2 and "contains no documents" in result.output
    bad_corpus = isolated_env / "bad.jsonl"
    bad_corpus.write_text('{"_id": "a", "text": "fine"}\n{"text": "no id"}\n', encoding="utf-8")
    result = runner.invoke(app, ["build", "--corpus", str(bad_corpus)])
    assert result.exit_code == 2 and "bad.jsonl:2" in result.output


def test_search_without_an_index_says_how_to_build(isolated_env: Path) -> None:
    result = runner.invoke(app, ["search", "绿色气候基金", "--mode", "lexical"])
    assert result.exit_code == 2 and "rag build" in result.output


@pytest.mark.slow
def test_batch_search_and_ask_on_the_seed_index(monkeypatch: pytest.MonkeyPatch, settings, seed_index_dir: Path, tmp_path: Path) -> None:
    monkeypatch.setenv("RAG_HOME", str(settings.home))
    monkeypatch.setenv("RAG_INDEX_DIR", str(seed_index_dir))
    batch = tmp_path / "questions.jsonl"
    batch.write_text(
        json.dumps({"id": "q1", "question": "绿色气候基金的东道国是哪个国家？"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "q2", "question": "Which Aichi target concerns protected areas?"})
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["search", "--batch", str(batch), "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["q1", "q2"]
    assert all(len(line["hits"]) == 3 for line in lines)
    assert set(lines[0]["hits"][0]) == {"id", "doc", "para", "sub", "score", "dense", "lexical"}
    assert lines[0]["hits"][0]["para"] == 15
    asked = runner.invoke(app, ["ask", "绿色气候基金的东道国是哪个国家？", "--json"])
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.stdout)
    assert answer["citations"][0]["para"] == 15 and "（第15段）" in answer["answer"]
    duplicate = tmp_path / "dup.jsonl"
    duplicate.write_text('{"id": "a", "question": "x"}\n{"id": "a", "question": "y"}\n', encoding="utf-8")
    result = runner.invoke(app, ["search", "--batch", str(duplicate)])
    assert result.exit_code == 2 and "duplicate id 'a'" in result.output


def test_a_bad_setting_is_one_line_naming_the_variable(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_ENCODER_BACKEND", "cuda")
    monkeypatch.setenv("RAG_API_KEY", "s3cret")  # shorter than the 16 characters a key needs
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 2
    message = result.output.strip()
    assert message.startswith("error: bad setting") and "\n" not in message and "Traceback" not in message
    assert "RAG_ENCODER_BACKEND='cuda'" in message and "RAG_API_KEY" in message
    assert "s3cret" not in message  # a secret is named, never shown


def test_a_renamed_or_unparsable_setting_is_one_line_naming_the_variable(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_HOST", "0.0.0.0")  # renamed RAG_API_HOST when the settings were grouped
    monkeypatch.setenv("RAG_API_CORS_ORIGINS", "https://a.example")  # a list is read as JSON
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip() == (
        "error: bad setting (environment or .env): RAG_HOST is now RAG_API_HOST; "
        "RAG_API_CORS_ORIGINS='https://a.example': not valid JSON (a list is written [\"a\", \"b\"])"
    )
