"""Loading a folder of documents: decode, look up the catalogue, parse.

One bad file must never stop the others from loading: its problem is reported, by name, in
``LoadedCorpus.errors`` and the caller decides whether that is fatal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.catalogue import DocumentMeta, derive_doc_id, load_catalogue
from rag.language import detect_language
from rag.parser import parse_document
from rag.textio import DocumentDecodeError, read_document_text
from rag.units import ParsedDocument

__all__ = ["DOCUMENT_SUFFIXES", "LoadedCorpus", "load_documents"]

DOCUMENT_SUFFIXES = (".txt",)


@dataclass(frozen=True)
class LoadedCorpus:
    documents: tuple[ParsedDocument, ...]
    metadata: dict[str, DocumentMeta]
    warnings: tuple[str, ...]
    errors: tuple[str, ...]


def load_documents(directory: Path) -> LoadedCorpus:
    """Parse every ``*.txt`` document in ``directory`` (not recursive), in name order."""
    if not directory.is_dir():
        raise FileNotFoundError(f"documents folder not found: {directory}")
    catalogue = load_catalogue(directory)
    documents: list[ParsedDocument] = []
    metadata: dict[str, DocumentMeta] = {}
    warnings: list[str] = []
    errors: list[str] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES):
        try:
            source, encoding = read_document_text(path)
        except (DocumentDecodeError, OSError) as error:
            errors.append(str(error))
            continue
        meta = catalogue.for_file(path.name)
        if meta is None:
            meta = DocumentMeta(file=path.name, id=derive_doc_id(path), language=detect_language(source), catalogued=False)
            warnings.append(f"{path}: no entry in the catalogue; using document id {meta.id!r} and no symbol")
        if meta.id in metadata:
            errors.append(f"{path}: document id {meta.id!r} is already used by {metadata[meta.id].file}; file skipped")
            continue
        parsed = parse_document(meta.id, source, path=str(path), encoding=encoding)
        documents.append(parsed)
        metadata[meta.id] = meta
        warnings.extend(parsed.warnings)
    for meta in catalogue.documents:
        if not (directory / meta.file).exists():
            warnings.append(f"{directory / 'catalogue.json'}: entry {meta.id!r} names a missing file {meta.file!r}")
    return LoadedCorpus(tuple(documents), metadata, tuple(warnings), tuple(errors))
