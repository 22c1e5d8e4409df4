"""Ingestion: files (text, PDF, Word, HTML) → blocks with their source location → the parser.

One module per format and a registry that picks the reader; every reader returns an
:class:`Extracted` (the document's text and the blocks tiling it, running headers and footers
marked), which :func:`rag.parser.parse_document` turns into units.
"""

from rag.ingest.blocks import Block, Extracted, IngestError
from rag.ingest.header import HeaderFields, read_header
from rag.ingest.registry import DOCUMENT_SUFFIXES, read_document

__all__ = ["DOCUMENT_SUFFIXES", "Block", "Extracted", "HeaderFields", "IngestError", "read_document", "read_header"]
