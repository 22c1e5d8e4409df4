"""POST /documents and DELETE /documents/{doc} on the real app and model, with real files.

A copy of the seed library and of its index, so the session's index is never touched: adds a
text file and a Word file (python-docx, Word numbering), replaces, removes, and refuses bad input.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from index.store import load_index
from rag.parser import parse_document
from rag.qa import QuestionAnswerer
from rag.retriever import Retriever
from tests.seed_documents import write_un_docx

pytestmark = pytest.mark.slow

KEY = "library-edit-key-0123456789abcdef"
AUTH = {"X-API-Key": KEY}
SEED = "000_75fc5355e1129b16"
WHALES = (
    "1. The Commission decided that the moratorium on commercial whaling in the Southern Ocean sanctuary remains in force.\n\n"
    "2. Forty-one member States reported on bycatch of small cetaceans in coastal fisheries.\n"
)
GLACIERS = (
    "1. 委员会注意到，喜马拉雅山冰川在过去十年中平均每年退缩二十八米。\n\n"
    "2. 委员会建议各国加强冰湖溃决洪水的早期预警系统。\n"
)


@pytest.fixture
def library(tmp_path: Path, settings, answerer, seed_index_dir: Path):
    """(client, library folder): the app over copies of the seed library and its index."""
    folder, index_dir = tmp_path / "library", tmp_path / "index"
    shutil.copytree(settings.seeds_dir, folder)
    shutil.copytree(seed_index_dir, index_dir)
    served = settings.with_changes({"seeds_dir": folder, "index_dir": index_dir, "api.key": KEY, "api.reload_check_s": 0, "api.max_body_bytes": 200_000})
    old = answerer.retriever
    index = load_index(index_dir, model_id=old.index.manifest.model_id, chunking=served.chunking)
    copy = QuestionAnswerer(Retriever(index, old.encoder, fusion=old.fusion, lexicon=old.lexicon), answerer.params, answerer.generator)
    with TestClient(create_app(served, answerer=copy), raise_server_exceptions=False) as client:
        yield client, folder


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _upload(client: TestClient, name: str, content: bytes, headers: dict | None = AUTH, **fields):
    return client.post("/documents", files={"file": (name, content)}, data={k: str(v) for k, v in fields.items()}, headers=headers)


def test_writes_always_need_the_key_even_on_loopback(library) -> None:
    client, folder = library
    before = _listing(folder)
    for headers in (None, {"X-API-Key": "wrong-key-wrong-key-wrong-key"}):
        assert _upload(client, "whales.txt", WHALES.encode(), headers=headers).status_code == 401
        assert client.delete(f"/documents/{SEED}", headers=headers).status_code == 401
    assert _listing(folder) == before
    assert client.get("/documents").status_code == 200  # reading stays open on loopback


def test_add_text_then_replace_then_remove_each_answerable_at_once(library) -> None:
    client, folder = library
    response = _upload(client, "whales.txt", WHALES.encode(), symbol="IWC/70/1", title_en="Whaling")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["changed"] == [{"id": "whales", "file": "whales.txt", "document": "IWC/70/1", "language": "en"}]
    assert body["documents"] == 2 and 0 < body["embedded"] < 20 and body["reused"] > 100  # the seed is not re-embedded
    hits = client.get("/search", params={"q": "commercial whaling moratorium", "k": 3}).json()["hits"]
    assert hits[0]["doc"] == "whales" and hits[0]["para"] == 1
    answer = client.post("/ask", json={"question": "How many member States reported on bycatch of small cetaceans?"}).json()
    assert answer["citations"][0]["doc"] == "whales" and "Forty-one" in answer["answer"]

    again = _upload(client, "whales.txt", b"1. Changed text.\n")
    assert again.status_code == 409 and "replace" in again.json()["detail"]
    assert (folder / "whales.txt").read_text(encoding="utf-8") == WHALES
    changed = WHALES.replace("Forty-one", "Fifty-two")
    replaced = _upload(client, "whales.txt", changed.encode(), symbol="IWC/70/1", replace="true")
    assert replaced.status_code == 201, replaced.text
    assert "Fifty-two" in client.get("/documents/whales/paragraphs/2").json()["paragraph"]["text"]

    assert client.options("/documents").headers["allow"] == "GET, POST"  # every method the path takes
    gone = client.delete("/documents/whales", headers=AUTH)
    assert gone.status_code == 200, gone.text
    assert [c["id"] for c in gone.json()["changed"]] == ["whales"] and gone.json()["documents"] == 1
    assert [d["id"] for d in client.get("/documents").json()] == [SEED]
    assert not (folder / "whales.txt").exists()
    assert client.delete("/documents/whales", headers=AUTH).status_code == 404


def test_add_a_word_file_with_word_numbering(library, tmp_path: Path) -> None:
    client, folder = library
    parsed = parse_document("glaciers", GLACIERS, path="glaciers.txt", encoding="utf-8")
    docx = write_un_docx(parsed, tmp_path / "glaciers.docx")
    response = _upload(client, "glaciers.docx", docx.read_bytes(), lang="zh", version_of="glaciers-report")
    assert response.status_code == 201, response.text
    assert response.json()["changed"][0]["language"] == "zh"
    paragraph = client.get("/documents/glaciers/paragraphs/2").json()
    assert "冰湖溃决洪水" in paragraph["paragraph"]["text"] and paragraph["paragraph"]["para"] == 2
    answer = client.post("/ask", json={"question": "喜马拉雅山冰川平均每年退缩多少米？"}).json()
    assert answer["citations"][0]["doc"] == "glaciers" and answer["citations"][0]["para"] == 1
    catalogue = json.loads((folder / "catalogue.json").read_text(encoding="utf-8"))
    assert any(d["id"] == "glaciers" and d.get("version_of") == "glaciers-report" for d in catalogue["documents"])


@pytest.mark.parametrize(
    ("name", "content", "status", "says"),
    [
        ("broken.docx", b"PK\x03\x04 this is not a Word file", 400, "broken.docx"),
        ("noise.txt", bytes(range(256)) * 40, 400, "noise.txt"),
        ("empty.txt", b"", 400, "empty.txt"),
        ("notes.xyz", b"1. Text.\n", 400, "unsupported file type"),
        (".hidden.txt", b"1. Text.\n", 400, "not a usable file name"),
        ("big.txt", b"1. " + b"x" * 300_000, 413, "larger than"),
    ],
)
def test_bad_uploads_are_refused_with_a_sentence_and_change_nothing(library, name, content, status, says) -> None:
    client, folder = library
    before = _listing(folder)
    build = client.get("/health").json()
    response = _upload(client, name, content)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]
    assert "rag-upload" not in response.json()["detail"] and "/tmp" not in response.json()["detail"]  # the name sent, not the server's temporary path
    assert _listing(folder) == before and client.get("/health").json() == build


def test_wrong_form_of_request_is_a_4xx_sentence(library) -> None:
    client, _ = library
    as_json = client.post("/documents", json={"file": "whales.txt"}, headers=AUTH)
    assert as_json.status_code == 415 and "multipart/form-data" in as_json.json()["detail"]
    no_file = client.post("/documents", data={"symbol": "A/1"}, files={"other": ("x.txt", b"1. x\n")}, headers=AUTH)
    assert no_file.status_code == 422 and "file" in no_file.json()["detail"]
    bad_lang = _upload(client, "whales.txt", WHALES.encode(), lang="xx")
    assert bad_lang.status_code == 422 and "lang" in bad_lang.json()["detail"]
    for reading in (f"/documents/{SEED}/paragraphs", f"/documents/{SEED}/paragraphs/3"):  # not a document key
        assert client.delete(reading, headers=AUTH).status_code == 405
    last = client.delete(f"/documents/{SEED}", headers=AUTH)
    assert last.status_code == 400 and "last document" in last.json()["detail"]


def test_a_build_already_running_is_a_503_sentence_and_the_served_index_stays(library, tmp_path: Path) -> None:
    from filelock import FileLock

    client, _ = library
    with FileLock(tmp_path / "index" / ".build.lock"):  # another `rag build` holds the index directory
        response = _upload(client, "whales.txt", WHALES.encode())
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert "another build is running" in detail and "Traceback" not in detail and "\n" not in detail
    assert client.post("/ask", json={"question": "第26段讲了什么？"}).status_code == 200  # the previous build is still served
