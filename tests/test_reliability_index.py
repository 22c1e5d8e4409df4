"""Faults around the index: nothing the user built is ever lost, and every failure is one sentence.

Built with a deterministic fake embedder (the index mechanics, not the model), on real files:
truncated and missing files of every kind, a full disk (a real 1 MB tmpfs), kill -9 mid-build.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.store import (
    IndexBuildError,
    IndexMissingError,
    IndexUnavailableError,
    live_build_id,
    load_index,
    rollback,
)
from rag.build import build_index
from rag.chunking import ChunkingParams
from rag.engine import corpus_from_beir
from tests.test_index import DOCS, _build, _FakeEmbedder

ROOT = Path(__file__).resolve().parents[1]
INDEX_FILES = [
    "manifest.json", "documents.json", "store.sqlite",
    "vectors.npy", "sentence_vectors.npy", "sentence_scales.npy", "dense.faiss", "lexical/lexical.json",
]
NEW_DOCS = {"d3": "1. Brand new text about oceans.\n\n2. Another new paragraph on forests.\n"}


def _builds(index_dir: Path) -> list[str]:
    return sorted(p.name for p in (index_dir / "builds").iterdir())


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    _build(tmp_path / "index", DOCS, _FakeEmbedder())
    return tmp_path / "index"


def test_lexical_state_file_name_is_what_we_damage(index_dir: Path) -> None:
    assert (load_index(index_dir).path / "lexical" / "lexical.json").is_file()


@pytest.mark.parametrize("name", INDEX_FILES)
@pytest.mark.parametrize("damage", ["empty", "truncated", "missing", "directory"])
def test_every_damaged_file_is_a_sentence_naming_it(index_dir: Path, name: str, damage: str) -> None:
    path = load_index(index_dir).path / name
    data = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "missing":
        path.unlink()
    else:  # unreadable as a file (root reads any file, so permissions cannot show this here)
        path.unlink()
        path.mkdir()
    with pytest.raises(IndexUnavailableError) as caught:
        load_index(index_dir)
    message = str(caught.value)
    assert "\n" not in message.strip() or name.endswith(".json"), message
    assert ("lexical" if name.startswith("lexical") else name) in message, message
    assert "rag build --index-dir" in message and "--force" in message
    assert not isinstance(caught.value, IndexMissingError)


def test_pointer_to_a_deleted_build_is_damage_not_absence(index_dir: Path) -> None:
    shutil.rmtree(load_index(index_dir).path)
    with pytest.raises(IndexUnavailableError, match="names build .* which is missing") as caught:
        load_index(index_dir)
    assert not isinstance(caught.value, IndexMissingError)
    (index_dir / "CURRENT").unlink()
    with pytest.raises(IndexMissingError):
        load_index(index_dir)


def test_builds_without_a_pointer_are_not_treated_as_no_index(index_dir: Path) -> None:
    (index_dir / "CURRENT").unlink()
    with pytest.raises(IndexUnavailableError, match="CURRENT is missing but builds exist") as caught:
        load_index(index_dir)
    assert not isinstance(caught.value, IndexMissingError)


def test_index_dir_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("hello")
    with pytest.raises(IndexUnavailableError, match="is a file, not an index directory"):
        load_index(afile)
    with pytest.raises(IndexBuildError, match="is a file, not an index directory"):
        _build(afile, DOCS, _FakeEmbedder())
    assert afile.read_text() == "hello"


def test_beir_ids_with_any_characters_build_and_load(tmp_path: Path) -> None:
    ids = ["Super_Bowl_50#0", "Sky_(United_Kingdom)", "a/b/../c", "x$0", "引号“中”", "50%", " spaced id "]
    corpus = corpus_from_beir([(i, "Title", f"Text number {n} about things.") for n, i in enumerate(ids)], "corpus.jsonl")
    build_index(
        index_dir=tmp_path, documents=corpus.documents, metadata=corpus.metadata, model_id="fake-model",
        load_embedder=_FakeEmbedder, chunking=ChunkingParams(),
    )
    loaded = load_index(tmp_path)
    assert set(loaded.documents) == set(ids) and set(loaded.units) == set(ids)
    assert {s.unit_id for s in loaded.sentences} == set(ids)
    assert _builds(tmp_path) == [live_build_id(tmp_path)]  # no id leaked into a file name


def test_failed_build_removes_its_folder_and_keeps_the_live_one(index_dir: Path) -> None:
    before = load_index(index_dir)

    class _Failing(_FakeEmbedder):
        def encode_passages(self, texts, batch_size: int = 32, show_progress: bool = False):
            raise RuntimeError("the model crashed")

    with pytest.raises(RuntimeError, match="model crashed"):
        _build(index_dir, NEW_DOCS, _Failing())
    assert _builds(index_dir) == [before.path.name] and load_index(index_dir).path == before.path


def test_leftover_partial_folders_are_removed_by_the_next_build(index_dir: Path) -> None:
    leftover = index_dir / "builds" / ".20200101T000000-deadbeef.partial"
    leftover.mkdir()
    (leftover / "vectors.npy").write_bytes(b"half")
    _build(index_dir, NEW_DOCS, _FakeEmbedder())
    assert not leftover.exists()


def test_old_builds_are_pruned_keeping_the_previous_and_rollback_swaps(index_dir: Path) -> None:
    first = live_build_id(index_dir)
    _build(index_dir, NEW_DOCS, _FakeEmbedder())
    second = live_build_id(index_dir)
    assert _builds(index_dir) == sorted([first, second])
    _build(index_dir, {**NEW_DOCS, "d4": "1. Fourth.\n"}, _FakeEmbedder())
    third = live_build_id(index_dir)
    assert _builds(index_dir) == sorted([second, third])  # the first is pruned only after the switch
    assert rollback(index_dir) == (third, second)
    assert set(load_index(index_dir).documents) == {"d3"}
    assert rollback(index_dir) == (second, third)  # rolling back twice rolls forward
    assert set(load_index(index_dir).documents) == {"d3", "d4"}


def test_rollback_without_a_previous_build_is_a_clear_error(index_dir: Path) -> None:
    with pytest.raises(IndexUnavailableError, match="no previous build"):
        rollback(index_dir)


def test_damage_message_offers_rollback_when_there_is_a_previous_build(index_dir: Path) -> None:
    _build(index_dir, NEW_DOCS, _FakeEmbedder())
    (load_index(index_dir).path / "vectors.npy").write_bytes(b"")
    with pytest.raises(IndexUnavailableError, match="rag index rollback"):
        load_index(index_dir)


def _mount_tmpfs(where: Path, size: str) -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True).returncode == 0


def test_full_disk_is_one_sentence_and_the_current_build_survives(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "1m"):
        pytest.skip("needs root and mount to create a small tmpfs")
    try:
        _build(disk, DOCS, _FakeEmbedder())
        before = load_index(disk)
        big = {f"doc{n}": "".join(f"{p}. Paragraph {p} of document {n} with some words in it.\n\n" for p in range(1, 200)) for n in range(20)}
        with pytest.raises(IndexBuildError) as caught:
            _build(disk, big, _FakeEmbedder())
        assert str(caught.value).startswith("could not write the new build") and "no space left on device" in str(caught.value)
        assert "the current index is untouched" in str(caught.value)
        after = load_index(disk)
        assert after.path == before.path and set(after.units) == set(before.units)
        assert _builds(disk) == [before.path.name]  # the partial folder is gone: space is given back
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=False)  # lazy: the loaded index may still hold store.sqlite open


_KILL_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.test_index import _FakeEmbedder, _build
docs = {{f"doc{{n}}": "".join(f"{{p}}. Paragraph {{p}} of doc {{n}} about things.\\n\\n" for p in range(1, 300)) for n in range(40)}}
print("start", flush=True)
_build(Path(sys.argv[1]), docs, _FakeEmbedder())
print("done", flush=True)
"""


@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_kill_9_during_build_leaves_the_previous_index_usable(index_dir: Path, tmp_path: Path, delay: float) -> None:
    before = load_index(index_dir)
    script = tmp_path / "build.py"
    script.write_text(_KILL_SCRIPT.format(root=str(ROOT)))
    process = subprocess.Popen([sys.executable, str(script), str(index_dir)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None and process.stdout.readline().strip() == "start"
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    after = load_index(index_dir)  # either the old build or, if it got that far, the complete new one
    assert after.path == before.path or after.manifest.documents == 40
    _build(index_dir, NEW_DOCS, _FakeEmbedder())  # the next build cleans up and succeeds
    assert not [p for p in (index_dir / "builds").iterdir() if p.name.endswith(".partial")]
    assert not list(index_dir.glob(".CURRENT.*"))


def test_cli_build_with_corpus_honours_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps({"_id": i, "title": "", "text": f"text {i}"}) for i in ("Super_Bowl_50#0", "Sky_(UK)")) + "\n")
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RAG_BUILD_INDEX_SENTENCES", "false")
    runner = CliRunner()
    args = ["build", "--corpus", str(corpus), "--index-dir", str(tmp_path / "index")]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, args)
    assert "up to date" in again.output
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0 and "up to date" not in forced.output, forced.output
    search = runner.invoke(app, ["search", "text", "--mode", "lexical", "--index-dir", str(tmp_path / "index")])
    assert search.exit_code == 0 and "Super_Bowl_50#0" in search.output, search.output


def test_an_up_to_date_build_still_removes_leftovers(index_dir: Path) -> None:
    leftover = index_dir / "builds" / ".20200101T000000-deadbeef.partial"
    leftover.mkdir()
    report = _build(index_dir, DOCS, _FakeEmbedder())  # same corpus: nothing rebuilt
    assert report.unchanged and not leftover.exists()
