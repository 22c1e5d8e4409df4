"""Service start-up and load: a missing index is built, a mismatched or damaged one refused, concurrent requests served."""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import StartupError, create_app, prepare_answerer

pytestmark = pytest.mark.slow


def test_mismatched_index_is_refused_at_start_up(settings, seed_index_dir: Path) -> None:
    other = settings.with_changes({"model": "sentence-transformers/some-other-model"})
    with pytest.raises(StartupError, match="rag build --index-dir"):
        prepare_answerer(other, index_dir=seed_index_dir)


def test_missing_index_is_built_from_the_seeds_with_a_log_line(settings, seed_index_dir: Path, tmp_path: Path, caplog) -> None:
    target = tmp_path / "index"  # nothing there at all: building loses nothing
    with caplog.at_level(logging.WARNING, logger="rag.api"):
        answerer = prepare_answerer(settings, index_dir=target)
    assert "building it from" in caplog.text
    assert len(answerer.retriever.index.units) == len(prepare_answerer(settings, index_dir=seed_index_dir).retriever.index.units)


@pytest.mark.parametrize("damage", ["truncate dense.faiss", "empty vectors.npy", "drop CURRENT", "empty store.sqlite", "truncate store.sqlite"])
def test_damaged_index_is_refused_never_rebuilt_over(settings, seed_index_dir: Path, tmp_path: Path, damage: str) -> None:
    target = tmp_path / "index"
    shutil.copytree(seed_index_dir, target)
    build = next(p for p in (target / "builds").iterdir())
    verb, name = damage.split(" ")
    path = target / name if name == "CURRENT" else build / name
    if verb == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    elif verb == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
    before = sorted((p.relative_to(target), p.stat().st_size) for p in target.rglob("*") if p.is_file())
    with pytest.raises(StartupError) as caught:
        prepare_answerer(settings, index_dir=target)
    message = str(caught.value)
    assert (name in message) and "rag build --index-dir" in message and "does not rebuild" in message, message
    assert "Traceback" not in message and "\n" not in message
    assert sorted((p.relative_to(target), p.stat().st_size) for p in target.rglob("*") if p.is_file()) == before  # nothing touched


def test_concurrent_requests_are_all_answered(settings, answerer) -> None:
    questions = ["多哈会议有多少名政府代表参加？", "When does the second commitment period end?", "", "爱知目标11", "x" * 2001] * 4
    with TestClient(create_app(settings, answerer=answerer), raise_server_exceptions=False) as client, ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda q: client.post("/ask", json={"question": q}).status_code, questions))
    assert statuses == [200, 200, 422, 200, 422] * 4
