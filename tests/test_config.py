"""The nested settings: every default and every environment variable of the flat settings they
replaced still gives the user the same value, bad values name their variable, secrets stay hidden."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from rag.answer import AnswerParams
from rag.chunking import ChunkingParams
from rag.config import PROJECT_ROOT, RENAMED_VARIABLES, Settings, env_name, settings_problem
from rag.fusion import FusionParams

# The flat settings' fields (git show main:rag/config.py before the groups), where each now lives,
# and the default a user got: the nested settings must give exactly these.
FLAT_DEFAULTS: dict[str, tuple[str, Any]] = {
    "seeds_dir": ("seeds_dir", PROJECT_ROOT / "seeds"),
    "home": ("home", Path.home() / ".cache" / "un-rag"),
    "index_dir": ("index_dir", None),
    "model": ("model", None),
    "lexicon_cache_dir": ("lexicon_cache_dir", None),
    "backend": ("backend", "faiss"),
    "refuse_below_same_language": ("refuse_below.same_language", 0.870028),
    "refuse_below_cross_language": ("refuse_below.cross_language", 0.756678),
    "index_sentences": ("build.index_sentences", True),
    "pool_sentence_vectors": ("build.pool_sentence_vectors", False),
    "chunk_size": ("chunk.size", 400),
    "chunk_overlap": ("chunk.overlap", 60),
    "chunk_heading_context": ("chunk.heading_context", True),
    "fusion_alpha": ("fusion.alpha", 0.5),
    "fusion_min_coverage": ("fusion.min_coverage", 0.35),
    "fusion_translation_alpha": ("fusion.translation_alpha", 0.35),
    "fusion_max_translations": ("fusion.max_translations", 4),
    "fusion_sentence_weight": ("fusion.sentence_weight", 0.5),
    "fusion_answer_type_bonus": ("fusion.answer_type_bonus", 0.06),
    "generation_enabled": ("generation.enabled", False),
    "generation_base_url": ("generation.base_url", None),
    "generation_model": ("generation.model", None),
    "generation_api_key": ("generation.api_key", None),
    "generation_timeout_s": ("generation.timeout_s", 20.0),
    "milvus_uri": ("milvus.uri", None),
    "milvus_token": ("milvus.token", None),
    "milvus_collection": ("milvus.collection", "un_rag"),
    "milvus_consistency": ("milvus.consistency", "Strong"),
    "milvus_index": ("milvus.index", "FLAT"),
    "milvus_sync_on_open": ("milvus.sync_on_open", True),
    "encoder_backend": ("encoder.backend", "openvino"),
    "encoder_threads": ("encoder.threads", 2),
    "build_encoder_backend": ("build.encoder_backend", "openvino"),
    "build_encoder_mode": ("build.encoder_mode", "dynamic-streams"),
    "build_token_budget": ("build.token_budget", 512),
    "openvino_query_threads": ("openvino.query_threads", 1),
    "openvino_static_shapes": ("openvino.static_shapes", True),
    "query_cache_size": ("query.cache_size", 1024),
    "native_threads": ("query.native_threads", 1),
    "serve_batch_queries": ("api.batch_queries", True),
    "host": ("api.host", "127.0.0.1"),
    "api_key": ("api.key", None),
    "max_body_bytes": ("api.max_body_bytes", 1_000_000),
    "rate_limit": ("api.rate_limit", "120/minute"),
    "rate_limit_on_loopback": ("api.rate_limit_on_loopback", False),
    "cors_origins": ("api.cors_origins", []),
    "reload_check_s": ("api.reload_check_s", 2.0),
}

# A value other than the default for each field, as the environment spells it, and as it is read.
SAMPLES: dict[str, tuple[str, Any]] = {
    "seeds_dir": ("/srv/seeds", Path("/srv/seeds")), "home": ("/srv/home", Path("/srv/home")),
    "index_dir": ("/srv/index", Path("/srv/index")), "model": ("some/model", "some/model"),
    "lexicon_cache_dir": ("/srv/lex", Path("/srv/lex")), "backend": ("milvus", "milvus"),
    "refuse_below.same_language": ("0.5", 0.5), "refuse_below.cross_language": ("0.25", 0.25),
    "build.index_sentences": ("false", False), "build.pool_sentence_vectors": ("1", True),
    "chunk.size": ("500", 500), "chunk.overlap": ("30", 30), "chunk.heading_context": ("false", False),
    "fusion.alpha": ("0.7", 0.7), "fusion.min_coverage": ("0.1", 0.1), "fusion.translation_alpha": ("0", 0.0),
    "fusion.max_translations": ("7", 7), "fusion.sentence_weight": ("0.2", 0.2), "fusion.answer_type_bonus": ("0.1", 0.1),
    "generation.enabled": ("true", True), "generation.base_url": ("http://h:1/v1", "http://h:1/v1"),
    "generation.model": ("qwen", "qwen"), "generation.api_key": ("gen-secret", "gen-secret"), "generation.timeout_s": ("3.5", 3.5),
    "milvus.uri": ("http://m:19530", "http://m:19530"), "milvus.token": ("u:p", "u:p"), "milvus.collection": ("other", "other"),
    "milvus.consistency": ("Session", "Session"), "milvus.index": ("HNSW", "HNSW"), "milvus.sync_on_open": ("false", False),
    "encoder.backend": ("onnx-int8", "onnx-int8"), "encoder.threads": ("8", 8),
    "build.encoder_backend": ("same", "same"), "build.encoder_mode": ("static", "static"), "build.token_budget": ("2048", 2048),
    "openvino.query_threads": ("2", 2), "openvino.static_shapes": ("false", False),
    "query.cache_size": ("0", 0), "query.native_threads": ("4", 4), "api.batch_queries": ("false", False),
    "api.host": ("0.0.0.0", "0.0.0.0"), "api.key": ("0123456789abcdef", "0123456789abcdef"),
    "api.max_body_bytes": ("2048", 2048), "api.rate_limit": ("5/second", "5/second"),
    "api.rate_limit_on_loopback": ("true", True), "api.cors_origins": ('["https://a.example"]', ["https://a.example"]),
    "api.reload_check_s": ("0", 0.0),
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No RAG_ variable of the machine and no .env file leaks into these tests."""
    for name in list(os.environ):
        if name.upper().startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _get(settings: BaseModel, path: str) -> Any:
    value: Any = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _leaves(model: type[BaseModel], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found |= _leaves(annotation, f"{prefix}{name}.")
        else:
            found.add(prefix + name)
    return found


def _old_env_name(flat: str) -> str:
    return RENAMED_VARIABLES.get(f"RAG_{flat.upper()}", f"RAG_{flat.upper()}")


def test_every_nested_field_is_one_flat_field_with_its_default() -> None:
    assert {path for path, _ in FLAT_DEFAULTS.values()} == _leaves(Settings) == set(SAMPLES)
    settings = Settings(_env_file=None)
    for flat, (path, default) in FLAT_DEFAULTS.items():
        assert _get(settings, path) == default, (flat, path)


@pytest.mark.parametrize("flat", sorted(FLAT_DEFAULTS))
def test_the_variable_of_each_field(monkeypatch: pytest.MonkeyPatch, flat: str) -> None:
    """A prefixed flat field keeps its variable (RAG_MILVUS_URI -> milvus.uri); a renamed one is read
    under its new name only; env_name() names the variable settings_problem reports."""
    path, default = FLAT_DEFAULTS[flat]
    raw, parsed = SAMPLES[path]
    variable = _old_env_name(flat)
    assert env_name(tuple(path.split("."))) == variable
    if variable != f"RAG_{flat.upper()}":  # renamed: the old name is not read
        monkeypatch.setenv(f"RAG_{flat.upper()}", raw)
        assert _get(Settings(_env_file=None), path) == default
        monkeypatch.delenv(f"RAG_{flat.upper()}")
    monkeypatch.setenv(variable, raw)
    settings = Settings(_env_file=None)
    assert _get(settings, path) == parsed
    changed = {p for p, d in FLAT_DEFAULTS.values() if _get(settings, p) != d}
    assert changed == {path}  # one variable sets one field: no group swallows another's name


def test_prefixed_names_keep_working_and_unrelated_names_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "RAG_INDEX_DIR": "/i", "RAG_SEEDS_DIR": "/s", "RAG_API_KEY": "k" * 16, "RAG_MILVUS_URI": "http://h:1",
        "RAG_GENERATION_BASE_URL": "http://g/v1", "RAG_FUSION_ALPHA": "0.25", "RAG_CHUNK_SIZE": "300",
        "RAG_BUILDX": "1", "RAG_BUILD_NO_SUCH_FIELD": "1", "RAG_BUILD": "{}", "RAG_XQUAD_DIR": "/x",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert (settings.index_dir, settings.seeds_dir, settings.api.key) == (Path("/i"), Path("/s"), "k" * 16)
    assert (settings.milvus.uri, settings.generation.base_url) == ("http://h:1", "http://g/v1")
    assert (settings.fusion.alpha, settings.chunk.size, settings.generation.api_key) == (0.25, 300, None)
    assert settings.build == Settings(_env_file=None).build  # unknown RAG_BUILD* names change nothing
    assert settings_problem() is None


def test_a_dotenv_file_uses_the_same_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RAG_CHUNK_SIZE=500\nRAG_API_HOST=0.0.0.0\nRAG_API_KEY=0123456789abcdef\n", encoding="utf-8")
    settings = Settings()
    assert (settings.chunk.size, settings.api.host, settings.api.key) == (500, "0.0.0.0", "0123456789abcdef")
    monkeypatch.setenv("RAG_CHUNK_SIZE", "600")  # the environment wins over the file, as before
    assert Settings().chunk.size == 600


def test_a_bad_value_names_its_variable_and_hides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MILVUS_COLLECTION", "no-dashes")
    monkeypatch.setenv("RAG_REFUSE_BELOW_SAME_LANGUAGE", "2")
    monkeypatch.setenv("RAG_BACKEND", "oracle")
    monkeypatch.setenv("RAG_API_KEY", "s3cret-short")
    monkeypatch.setenv("RAG_API_CORS_ORIGINS", "[1]")
    problem = settings_problem()
    assert problem is not None and problem.startswith("bad setting (environment or .env): ") and "\n" not in problem
    assert "RAG_MILVUS_COLLECTION='no-dashes': String should match pattern" in problem
    assert "RAG_REFUSE_BELOW_SAME_LANGUAGE='2': Input should be less than or equal to 1" in problem
    assert "RAG_BACKEND='oracle': Input should be 'faiss' or 'milvus'" in problem
    assert "RAG_API_KEY: String should have at least 16 characters" in problem and "s3cret-short" not in problem
    assert "RAG_API_CORS_ORIGINS=1: Input should be a valid string" in problem


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED_VARIABLES.items()))
def test_an_old_name_is_refused_with_its_new_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, old: str, new: str) -> None:
    """A deployment setting RAG_HOST would otherwise lose its setting without a word."""
    monkeypatch.setenv(old, "1")
    assert settings_problem() == f"bad setting (environment or .env): {old} is now {new}"
    monkeypatch.delenv(old)
    assert settings_problem() is None
    (tmp_path / ".env").write_text(f"{old.lower()}=1\n", encoding="utf-8")
    assert settings_problem() == f"bad setting (environment or .env): {old} is now {new}"


def test_with_changes_validates_dotted_overrides_and_keeps_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_API_RATE_LIMIT", "7/second")
    settings = Settings(_env_file=None)
    changed = settings.with_changes({"api.host": "0.0.0.0", "index_dir": "/x", "chunk.size": 500})
    assert (changed.api.host, changed.index_dir, changed.chunk.size) == ("0.0.0.0", Path("/x"), 500)
    assert changed.api.rate_limit == "7/second" and changed.chunk.overlap == 60
    assert (settings.api.host, settings.index_dir, settings.chunk.size) == ("127.0.0.1", None, 400)  # a copy
    with pytest.raises(ValidationError):
        settings.with_changes({"chunk.size": 1})
    with pytest.raises(KeyError, match="no setting 'chunk.sise'"):
        settings.with_changes({"chunk.sise": 500})
    with pytest.raises(KeyError, match="no settings group 'chunks'"):
        settings.with_changes({"chunks.size": 500})


def test_the_library_parameters_built_from_the_groups() -> None:
    settings = Settings(_env_file=None)
    assert settings.chunking == ChunkingParams()
    assert settings.fusion_params == FusionParams()
    assert settings.answer_params == AnswerParams(refuse_below_same_language=0.870028, refuse_below_cross_language=0.756678)
    assert settings.generator_config is None
    changed = settings.with_changes({"chunk.size": 500, "fusion.alpha": 0.2, "refuse_below.cross_language": 0.5})
    assert (changed.chunking.chunk_size, changed.fusion_params.alpha, changed.answer_params.refuse_below_cross_language) == (500, 0.2, 0.5)
    home = Path("/srv/home")
    placed = settings.with_changes({"home": home})
    assert (placed.resolved_index_dir, placed.resolved_lexicon_cache_dir, placed.model_cache_dir) == (home / "index", home / "lexicon", home / "models")
    assert placed.resolved_milvus_uri == str(home / "milvus" / "un_rag.db")
    assert placed.milvus_collection_for(home / "index") == "un_rag"
    assert placed.milvus_collection_for(home / "eval").startswith("un_rag_")


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"RAG_API_KEY": "api-secret-0123456", "RAG_MILVUS_TOKEN": "milvus-secret", "RAG_GENERATION_API_KEY": "gen-secret"}.items():
        monkeypatch.setenv(name, value)
    shown = repr(Settings(_env_file=None)) + str(Settings(_env_file=None))
    assert not any(secret in shown for secret in ("api-secret-0123456", "milvus-secret", "gen-secret"))


@pytest.mark.parametrize(("variable", "value", "written"), [
    ("RAG_API_CORS_ORIGINS", "https://a.example", 'a list is written ["a", "b"]'),
    ("RAG_MILVUS", "x", "a group is a JSON object; or set its fields one by one"),
])
def test_a_value_that_is_not_json_where_json_is_read_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, written: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert settings_problem() == f"bad setting (environment or .env): {variable}={value!r}: not valid JSON ({written})"
