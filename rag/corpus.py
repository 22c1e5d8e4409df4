"""Loading a folder of documents (text, PDF, Word, HTML): read, look up the catalogue, parse.

One bad file must never stop the others from loading: its problem is reported, by name, in
``LoadedCorpus.errors`` and the caller decides whether that is fatal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from rag.catalogue import DocumentMeta, derive_doc_id, load_catalogue
from rag.ingest import DOCUMENT_SUFFIXES, IngestError, read_document, read_header
from rag.language import detect_language
from rag.parser import parse_document
from rag.units import ParsedDocument, UnitKind

__all__ = ["DOCUMENT_SUFFIXES", "LoadedCorpus", "load_documents"]


@dataclass(frozen=True)
class LoadedCorpus:
    documents: tuple[ParsedDocument, ...]
    metadata: dict[str, DocumentMeta]
    warnings: tuple[str, ...]
    errors: tuple[str, ...]


def _header_meta(meta: DocumentMeta, parsed: ParsedDocument, running_lines: tuple[str, ...]) -> DocumentMeta:
    front = [u.text for u in parsed.units if u.kind is UnitKind.FRONT]
    return meta.with_header(dataclasses.asdict(read_header(front, running_lines)))


def load_documents(directory: Path) -> LoadedCorpus:
    """Parse every supported document in ``directory`` (not recursive), in name order."""
    if not directory.is_dir():
        raise FileNotFoundError(f"documents folder not found: {directory}")
    catalogue = load_catalogue(directory)
    documents: list[ParsedDocument] = []
    metadata: dict[str, DocumentMeta] = {}
    warnings: list[str] = []
    errors: list[str] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES):
        try:
            extracted = read_document(path)
        except (IngestError, OSError) as error:
            errors.append(str(error) if str(path) in str(error) else f"{path}: {error}")
            continue
        warnings.extend(extracted.warnings)
        meta = catalogue.for_file(path.name)
        if meta is None:
            meta = DocumentMeta(file=path.name, id=derive_doc_id(path), language=detect_language(extracted.source), catalogued=False)
            warnings.append(f"{path}: no entry in the catalogue; using document id {meta.id!r}")
        if meta.id in metadata:
            errors.append(f"{path}: document id {meta.id!r} is already used by {metadata[meta.id].file}; file skipped")
            continue
        parsed = parse_document(meta.id, extracted.source, path=str(path), encoding=extracted.encoding, blocks=extracted.blocks)
        documents.append(parsed)
        metadata[meta.id] = _header_meta(meta, parsed, extracted.header_lines)
        warnings.extend(parsed.warnings)
    for meta in catalogue.documents:
        if not (directory / meta.file).exists():
            warnings.append(f"{directory / 'catalogue.json'}: entry {meta.id!r} names a missing file {meta.file!r}")
    return LoadedCorpus(tuple(documents), metadata, tuple(warnings), tuple(errors))
