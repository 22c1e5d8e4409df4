"""A local build mirrored into Milvus: the FAISS build's vectors are copied, never re-embedded.

``rag index export --to milvus`` and ``rag build --backend milvus`` both end here. The local
build stays the source of units, sentences and documents (what answers quote); Milvus holds
what grows with the corpus and is searched: chunk vectors and BM25 postings.
"""

from __future__ import annotations

from index.backends import ChunkRecord
from index.backends.milvus import CollectionInfo, MilvusStore
from index.store import LoadedIndex
from rag.language import detect_language

__all__ = ["chunk_records", "collection_info", "ensure_exported", "export_index"]


def chunk_records(index: LoadedIndex) -> list[ChunkRecord]:
    """Every chunk of the build with its document's metadata; language from the catalogue, else the text."""
    records = []
    for chunk in index.chunks:
        unit = index.units[chunk.unit_id]
        meta = index.documents.get(unit.doc)
        language = (meta.language if meta is not None else None) or detect_language(chunk.passage)
        records.append(
            ChunkRecord(
                id=chunk.id,
                unit=chunk.unit_id,
                doc=unit.doc,
                body=chunk.passage,
                language="zh" if language.startswith("zh") else "en",
                symbol=(meta.symbol if meta is not None else None) or "",
                session=(meta.session if meta is not None and meta.session is not None else -1),
                date=str(getattr(meta, "date", None) or ""),
            )
        )
    return records


def collection_info(index: LoadedIndex, index_type: str) -> CollectionInfo:
    manifest = index.manifest
    return CollectionInfo(manifest.model_id, manifest.dimension, manifest.corpus_hash, index_type)


def export_index(index: LoadedIndex, store: MilvusStore) -> int:
    """(Re)create the collection from the build; returns the number of chunks written."""
    store.create(collection_info(index, store.index_type), replace=True)
    records = chunk_records(index)
    store.add(records, index.vectors)
    return len(records)


def ensure_exported(index: LoadedIndex, store: MilvusStore) -> bool:
    """Export unless the collection already mirrors this build (same model, corpus and index type)."""
    if store.info() == collection_info(index, store.index_type):
        return False
    export_index(index, store)
    return True
