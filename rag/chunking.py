"""Chunks: the pieces that are embedded and lexically indexed, each inside exactly one unit.

A chunk never crosses a unit boundary, so every hit maps back to one citable unit. Paragraphs
and their sub-units are both chunked: a question about Aichi target 11 can match the target's
own chunk (precise) while a broad question matches the paragraph (context).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.units import Unit

__all__ = ["SEPARATORS", "Chunk", "ChunkingParams", "chunk_units"]

# Paragraph breaks, then Chinese and English sentence ends, then clause marks, then anything.
SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", ". ", "! ", "? ", "; ", "，", "、", ", ", " ", ""]


@dataclass(frozen=True, slots=True)
class ChunkingParams:
    """Character budget per chunk. Chinese runs ~1 token per character in e5's vocabulary, so
    400 characters stay well under the model's 512-token window."""

    chunk_size: int = 400
    chunk_overlap: int = 60
    heading_context: bool = True  # embed and index each chunk with its unit's nearest heading

    def as_dict(self) -> dict[str, object]:
        return {
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "heading_context": self.heading_context,
            "separators": SEPARATORS,
        }


@dataclass(frozen=True, slots=True)
class Chunk:
    id: str
    unit_id: str
    text: str
    start: int  # offset in the unit's text
    end: int
    context: str = ""  # the unit's nearest heading, searched with the chunk but not part of its text

    @property
    def passage(self) -> str:
        """What is embedded and lexically indexed: the heading, then the chunk's own text.

        A paragraph often leaves its subject to its heading ("E. 土地维持生命奖", "1. 名古屋议定书"),
        as Wikipedia passages leave it to the article title, which dense retrievers prepend for
        the same reason (Karpukhin et al. 2020, "Dense Passage Retrieval", EMNLP).
        """
        return f"{self.context}\n{self.text}" if self.context else self.text

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.passage.encode("utf-8")).hexdigest()[:32]


def chunk_units(units: Iterable[Unit], params: ChunkingParams) -> list[Chunk]:
    """Split each retrievable unit on its own; ids are ``<unit id>#<n>``."""
    splitter = RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        chunk_size=params.chunk_size,
        chunk_overlap=params.chunk_overlap,
        keep_separator="end",
        add_start_index=True,
    )
    chunks: list[Chunk] = []
    for unit in units:
        if not unit.kind.retrievable or not unit.text.strip():
            continue
        context = unit.section[-1] if params.heading_context and unit.section else ""
        if len(unit.text) <= params.chunk_size:
            chunks.append(Chunk(f"{unit.id}#0", unit.id, unit.text, 0, len(unit.text), context))
            continue
        for n, piece in enumerate(splitter.create_documents([unit.text])):
            start = int(piece.metadata["start_index"])
            chunks.append(Chunk(f"{unit.id}#{n}", unit.id, piece.page_content, start, start + len(piece.page_content), context))
    return chunks
