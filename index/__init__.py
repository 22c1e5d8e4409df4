"""The persistent search index: dense vectors (FAISS), BM25, units and chunks, and a manifest."""
