"""Shared fixtures: the real model and an index of the real seed, built once per session.

All user state (converted model, index) lives in a session temp dir, so tests never touch
~/.cache and never depend on a previous run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def rag_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rag-home")


@pytest.fixture(scope="session")
def settings(rag_home: Path) -> Settings:
    return Settings(_env_file=None, home=rag_home, seeds_dir=SEEDS, index_dir=rag_home / "index", model=None)


@pytest.fixture(scope="session")
def seed_index_dir(settings: Settings) -> Path:
    """An index of the seed document, built with the default (bundled) model."""
    from rag.engine import build_from_documents, load_seed_corpus

    build_from_documents(settings, load_seed_corpus(settings), index_dir=settings.resolved_index_dir)
    return settings.resolved_index_dir


@pytest.fixture(scope="session")
def retriever(settings: Settings, seed_index_dir: Path):
    from rag.engine import open_retriever

    return open_retriever(settings, index_dir=seed_index_dir)


@pytest.fixture(scope="session")
def answerer(settings: Settings, retriever):
    from rag.qa import QuestionAnswerer

    return QuestionAnswerer(retriever, settings.answer_params)


PARALLEL_ARTICLES = (0, 1)


@pytest.fixture(scope="session")
def parallel_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A library of two XQuAD articles, each one document with a Chinese and an English version."""
    root = tmp_path_factory.mktemp("parallel-library")
    return settings.with_changes({"seeds_dir": root / "library", "index_dir": root / "index"})


@pytest.fixture(scope="session")
def parallel_questions(parallel_settings: Settings):
    from rag.evaluation.parallel import write_parallel_library
    from rag.evaluation.runner import DEFAULT_XQUAD_DIR

    return write_parallel_library(DEFAULT_XQUAD_DIR, parallel_settings.seeds_dir, PARALLEL_ARTICLES)


@pytest.fixture(scope="session")
def parallel_answerer(parallel_settings: Settings, parallel_questions):
    """The answerer over the parallel library's index, built once (tests that change the library swap their own)."""
    from rag.engine import build_from_documents, load_seed_corpus, open_retriever
    from rag.qa import QuestionAnswerer

    build_from_documents(parallel_settings, load_seed_corpus(parallel_settings), index_dir=parallel_settings.resolved_index_dir)
    return QuestionAnswerer(open_retriever(parallel_settings), parallel_settings.answer_params)


@pytest.fixture(scope="session")
def big_library(settings: Settings, retriever, seed_index_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """(settings, description): a library of ≥ 200 documents in several formats (tests/big_library.py)
    and its index, built once per session with the session's model. The seed's vectors are reused
    (its index is the starting point), so only the new documents' few hundred texts are embedded.

    Tests that change it (add, replace, remove) put it back as they found it.
    """
    import shutil

    from rag.engine import build_from_documents, load_seed_corpus
    from tests.big_library import BIG_LIBRARY_KEY, write_big_library

    root = tmp_path_factory.mktemp("big-library")
    described = write_big_library(root / "library", with_pdf=shutil.which("soffice") is not None)
    shutil.copytree(seed_index_dir, root / "index")
    big = settings.with_changes({
        "seeds_dir": root / "library", "index_dir": root / "index", "api.key": BIG_LIBRARY_KEY,
        "api.reload_check_s": 0, "api.rate_limit": "100000/minute",
    })
    corpus = load_seed_corpus(big)
    assert not corpus.errors, corpus.errors
    build_from_documents(big, corpus, index_dir=big.resolved_index_dir, embedder=retriever.encoder)
    return big, described

