"""The library folder and its catalogue: add, replace (only when asked), remove, all-or-nothing; filters."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import rag.library_files as library_files
from rag.catalogue import DocumentMeta, load_catalogue
from rag.filters import FilterError, SearchFilter
from rag.library_files import AddOptions, LibraryEditError, add_documents, catalogue_entries, remove_documents


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    source = tmp_path / "incoming"
    source.mkdir()
    texts = {
        "a1.zh.txt": "1. 大会决定设立一个工作组。\n\n2. 工作组应向大会报告。\n",
        "a1.en.txt": "1. The General Assembly decides to establish a working group.\n\n2. The working group shall report to the Assembly.\n",
        "b.txt": "1. Another document entirely.\n",
    }
    out = {}
    for name, text in texts.items():
        (source / name).write_text(text, encoding="utf-8")
        out[name] = source / name
    return out


def test_add_versions_then_replace_only_when_asked(tmp_path: Path, files: dict[str, Path]) -> None:
    library = tmp_path / "library"
    added = add_documents(library, [files["a1.zh.txt"], files["a1.en.txt"]], AddOptions(symbol="A/RES/1", session=1, date=dt.date(2020, 1, 2)))
    assert [(m.id, m.language, m.document_key) for m in added] == [("a1.zh", "zh", "A/RES/1"), ("a1.en", "en", "A/RES/1")]
    assert (library / "a1.zh.txt").read_text(encoding="utf-8") == files["a1.zh.txt"].read_text(encoding="utf-8")
    catalogue = json.loads((library / "catalogue.json").read_text(encoding="utf-8"))
    assert [d["id"] for d in catalogue["documents"]] == ["a1.zh", "a1.en"]
    assert catalogue["documents"][0]["date"] == "2020-01-02" and catalogue["documents"][0]["symbol"] == "A/RES/1"

    with pytest.raises(LibraryEditError, match="--replace"):
        add_documents(library, [files["a1.zh.txt"]], AddOptions(symbol="A/RES/1"))
    # the same document and language under another file name is a replacement too
    renamed = files["a1.zh.txt"].with_name("a1-new.zh.txt")
    renamed.write_text("1. 大会决定设立两个工作组。\n", encoding="utf-8")
    with pytest.raises(LibraryEditError, match="already has 'a1.zh'"):
        add_documents(library, [renamed], AddOptions(symbol="A/RES/1"))
    add_documents(library, [renamed], AddOptions(symbol="A/RES/1"), replace=True)
    assert not (library / "a1.zh.txt").exists() and (library / "a1-new.zh.txt").exists()
    assert sorted(d.id for d in load_catalogue(library).documents) == ["a1-new.zh", "a1.en"]


def test_bad_files_are_refused_with_a_sentence_and_nothing_changes(tmp_path: Path, files: dict[str, Path]) -> None:
    library = tmp_path / "library"
    add_documents(library, [files["b.txt"]], AddOptions())
    before = sorted(p.name for p in library.iterdir())
    binary = tmp_path / "incoming" / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    for path, message in [
        (binary, "cannot decode"),
        (tmp_path / "missing.txt", "no such file"),
        (tmp_path / "incoming" / "x.exe", "unsupported file type"),
    ]:
        if path.suffix == ".exe":
            path.write_bytes(b"MZ")
        with pytest.raises(LibraryEditError, match=message):
            add_documents(library, [path], AddOptions())
    with pytest.raises(LibraryEditError, match="one file"):
        add_documents(library, [files["a1.zh.txt"], files["a1.en.txt"]], AddOptions(doc_id="x"))
    with pytest.raises(LibraryEditError, match="would both be"):
        add_documents(library, [files["a1.zh.txt"], files["a1.zh.txt"]], AddOptions())
    assert sorted(p.name for p in library.iterdir()) == before


def test_a_failed_catalogue_write_restores_the_folder(tmp_path: Path, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    library = tmp_path / "library"
    add_documents(library, [files["b.txt"]], AddOptions(title="first"))
    snapshot = {p.name: p.read_bytes() for p in library.iterdir()}

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(library_files, "save_catalogue", full_disk)
    changed = files["b.txt"].with_name("b.txt")
    changed.write_text("1. Changed text.\n", encoding="utf-8")
    with pytest.raises(LibraryEditError, match="nothing was changed"):
        add_documents(library, [changed, files["a1.en.txt"]], AddOptions(), replace=True)
    assert {p.name: p.read_bytes() for p in library.iterdir()} == snapshot


def test_remove_by_id_or_by_symbol(tmp_path: Path, files: dict[str, Path]) -> None:
    library = tmp_path / "library"
    add_documents(library, [files["a1.zh.txt"], files["a1.en.txt"]], AddOptions(symbol="A/RES/1"))
    add_documents(library, [files["b.txt"]], AddOptions())
    assert [m.id for m in remove_documents(library, "a1.en")] == ["a1.en"]
    assert [m.id for m in remove_documents(library, "A/RES/1")] == ["a1.zh"]
    assert [d.id for d in catalogue_entries(library)] == ["b"]
    with pytest.raises(LibraryEditError, match="no document 'nope'"):
        remove_documents(library, "nope")


def test_filter_matches_catalogue_fields_and_translates_to_milvus() -> None:
    zh = DocumentMeta(file="a.zh.txt", id="a.zh", symbol="A/68/1", language="zh", session=68, date="2013-08-01", body="General Assembly")
    en = DocumentMeta(file="a.en.txt", id="a.en", symbol="A/68/1", language="en", session=68, date="2013-08-01", body="General Assembly")
    undated = DocumentMeta(file="c.txt", id="c", language="zh", session=67)
    documents = {m.id: m for m in (zh, en, undated)}
    assert SearchFilter.of(doc="A/68/1").allowed(documents) == {"a.zh", "a.en"}
    assert SearchFilter.of(doc="a.en").allowed(documents) == {"a.en"}
    assert SearchFilter.of(language="zh").allowed(documents) == {"a.zh", "c"}
    assert SearchFilter.of(session=[67]).allowed(documents) == {"c"}
    assert SearchFilter.of(since="2013").allowed(documents) == {"a.zh", "a.en"}  # undated documents drop out
    assert SearchFilter.of(until="2013-07-31").allowed(documents) == set()
    assert SearchFilter.of(body="general assembly", symbol="a/68/1", language="en").allowed(documents) == {"a.en"}
    assert SearchFilter.of(doc=["x", "a.zh"]).unknown_docs(documents) == ["x"]
    assert SearchFilter().empty and SearchFilter.of(doc=" ").empty
    expr = SearchFilter.of(doc="A/68/1", language="zh", session=68, since="2013-01-01", until="2013-12-31").to_milvus_expr()
    assert expr == '(doc in ["A/68/1"] or document in ["A/68/1"]) and language in ["zh"] and session in [68] and date >= 20130101 and date <= 20131231'
    for kwargs, message in [({"since": "2013-13-01"}, "YYYY-MM-DD"), ({"language": "klingon"}, "unknown language"),
                            ({"since": "2014", "until": "2013"}, "after"), ({"session": [0]}, "positive")]:
        with pytest.raises(FilterError, match=message):
            SearchFilter.of(**kwargs)


def test_the_api_schema_names_the_languages_the_filters_accept() -> None:
    from typing import get_args

    from api.schemas import LanguageCode
    from rag.language import OFFICIAL_LANGUAGES

    assert get_args(LanguageCode) == OFFICIAL_LANGUAGES
