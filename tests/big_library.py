"""A library of over 200 documents for the library tests (issue 10): XQuAD articles as Chinese and
English versions of one document, CMRC 2018 trial articles, the seed, and documents as Word, PDF
and HTML files made with the same real-file helpers as the reader tests.

Embedding is what a library costs, so each XQuAD / CMRC document keeps the first two sentences of
its first paragraph: 200 documents of real text, a few hundred texts to embed. The catalogue gives
each document a session, a date and an issuing body (and a symbol to some), spread so that every
filter has something to keep and something to drop.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rag.catalogue import Catalogue, DocumentMeta, load_catalogue, save_catalogue
from rag.config import Settings
from rag.parser import parse_document
from rag.qa import QuestionAnswerer
from tests.seed_documents import SEED, write_seed_pdf, write_un_docx

__all__ = ["BIG_LIBRARY_KEY", "BODIES", "BigLibrary", "FormatDoc", "answerer_over", "write_big_library"]

ROOT = Path(__file__).resolve().parents[1]
XQUAD = ROOT / "eval" / "data" / "xquad"
CMRC = ROOT / "eval" / "data" / "cmrc2018" / "cmrc2018_trial.json"
BIG_LIBRARY_KEY = "big-library-key-0123456789abcdef"  # the served library's RAG_API_KEY
BODIES = ("General Assembly", "Security Council", "Economic and Social Council")
_SENTENCE_END = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+(?=[A-Z0-9\"“])")


def _first_sentences(text: str, n: int = 1) -> str:
    parts = [p.strip() for p in _SENTENCE_END.split(text.strip()) if p and p.strip()]
    return ("" if re.search(r"[\u3400-\u9fff]", parts[0]) else " ").join(parts[:n]) if parts else text.strip()


@dataclass(frozen=True)
class FormatDoc:
    """A document written as a real file of another format, with a sentence found only in it."""

    id: str
    file: str
    symbol: str
    sentence: str


@dataclass
class BigLibrary:
    folder: Path
    documents: int  # documents (language versions of one document count once)
    versions: int  # files
    seed_id: str
    xquad: dict[str, str] = field(default_factory=dict)  # key → English text
    formats: list[FormatDoc] = field(default_factory=list)


def _meta_for(n: int) -> dict[str, object]:
    """Session, date and body spread over the library: session 70–73, dates through 2015–2016."""
    return {
        "session": 70 + n % 4,
        "date": (dt.date(2015, 1, 5) + dt.timedelta(days=(n * 37) % 700)).isoformat(),
        "body": BODIES[n % len(BODIES)],
    }


# Three short UN-style documents for the other formats: numbered paragraphs, each with words
# no other document of the library uses, so a search for them finds exactly that file.
_FORMAT_TEXTS = {
    "docx": ("E/2016/901", "Glacier monitoring", [
        "1. The Council notes that the glaciers of the Tian Shan range retreated by an average of 28 metres a year over the past decade.",
        "2. The Council recommends that States strengthen early warning of glacial lake outburst floods.",
    ]),
    "pdf": ("S/2016/902", "Desert locust control", [
        "1. The Council welcomes the regional plan against desert locust swarms in the Horn of Africa.",
        "2. Aerial spraying covered 1.2 million hectares during the campaign of 2016.",
    ]),
    "html": ("A/71/903", "Coral reef restoration", [
        "1. The Assembly encourages the restoration of coral reefs damaged by bleaching events.",
        "2. Seventeen coastal States reported nurseries that grow coral fragments for transplanting.",
    ]),
}


def _format_files(folder: Path, metas: list[DocumentMeta], formats: list[FormatDoc], with_pdf: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="big-library-") as tmp:
        for kind, (symbol, title, paragraphs) in _FORMAT_TEXTS.items():
            if kind == "pdf" and not with_pdf:
                continue
            doc_id = f"{kind}-{symbol.replace('/', '-').lower()}"
            text = "\n\n".join(paragraphs) + "\n"
            if kind == "html":
                body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
                (folder / f"{doc_id}.html").write_text(
                    f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body><main>{body}</main>'
                    "<footer><p>16-00903 (E)</p><p>Please recycle</p></footer></body></html>", encoding="utf-8")
            else:
                parsed = parse_document(doc_id, text, path=f"{doc_id}.txt", encoding="utf-8")
                docx = write_un_docx(parsed, Path(tmp) / f"{doc_id}.docx", recycle="Please recycle", symbol=symbol)
                made = docx if kind == "docx" else write_seed_pdf(docx, Path(tmp))
                shutil.copyfile(made, folder / f"{doc_id}.{kind}")
            n = len(metas)
            metas.append(DocumentMeta(file=f"{doc_id}.{kind}", id=doc_id, symbol=symbol, language="en", title=title, **_meta_for(n)))
            formats.append(FormatDoc(doc_id, f"{doc_id}.{kind}", symbol, paragraphs[1].split(" ", 1)[1]))


def write_big_library(folder: Path, *, cmrc_articles: int = 152, with_pdf: bool = True) -> BigLibrary:
    """Write the library into ``folder`` (files and catalogue.json) and describe it."""
    folder.mkdir(parents=True, exist_ok=True)
    metas: list[DocumentMeta] = []
    library = BigLibrary(folder, 0, 0, "")
    zh = json.loads((XQUAD / "xquad.zh.json").read_text(encoding="utf-8"))["data"]
    en = json.loads((XQUAD / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    for n, (zh_article, en_article) in enumerate(zip(zh, en, strict=True)):
        key, symbol = f"xquad-{n:02d}", f"A/{70 + n % 4}/{100 + n}"
        title = en_article["title"].replace("_", " ")
        for language, article in (("zh", zh_article), ("en", en_article)):
            text = _first_sentences(article["paragraphs"][0]["context"])
            (folder / f"{key}.{language}.txt").write_text(text + "\n", encoding="utf-8")
            metas.append(DocumentMeta(file=f"{key}.{language}.txt", id=f"{key}.{language}", symbol=symbol, language=language, title=title, **_meta_for(n)))
            if language == "en":
                library.xquad[key] = text
    articles = json.loads(CMRC.read_text(encoding="utf-8"))["data"][:cmrc_articles]
    for article in articles:
        doc_id = f"cmrc-{article['id'].lower()}"
        (folder / f"{doc_id}.txt").write_text(_first_sentences(article["paragraphs"][0]["context"]) + "\n", encoding="utf-8")
        metas.append(DocumentMeta(file=f"{doc_id}.txt", id=doc_id, language="zh", title=article["title"], **_meta_for(len(metas))))
    seed = load_catalogue(SEED.parent).documents[0]
    shutil.copyfile(SEED, folder / seed.file)
    metas.append(seed)
    library.seed_id = seed.id
    _format_files(folder, metas, library.formats, with_pdf)
    save_catalogue(folder, Catalogue(documents=tuple(metas)))
    library.versions = len(metas)
    library.documents = len({m.document_key for m in metas})
    return library


def answerer_over(settings: Settings, model_of: QuestionAnswerer) -> QuestionAnswerer:
    """A fresh answerer over the live build of ``settings``' index, with the model ``model_of`` holds."""
    from index.store import load_index
    from rag.retriever import Retriever

    old = model_of.retriever
    index = load_index(settings.resolved_index_dir, model_id=old.index.manifest.model_id, chunking=settings.chunking)
    return QuestionAnswerer(Retriever(index, old.encoder, fusion=old.fusion, lexicon=old.lexicon), settings.answer_params, model_of.generator)
