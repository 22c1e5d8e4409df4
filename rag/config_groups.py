"""The typed groups of the settings (:class:`rag.config.Settings`): one small model per concern.

Kept apart from :mod:`rag.config` so that the settings' shape (what can be set, its limits and why)
reads in one place, and the loading and diagnosing of the environment in another.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "ApiSettings",
    "BuildSettings",
    "ChunkSettings",
    "EncoderSettings",
    "FusionSettings",
    "GenerationSettings",
    "MilvusSettings",
    "OpenVinoSettings",
    "QuerySettings",
    "RefusalSettings",
]


class ChunkSettings(BaseModel):
    """How documents are cut into the chunks that are embedded (``RAG_CHUNK_*``)."""

    size: int = Field(default=400, ge=50, le=2000, description="characters per chunk")
    overlap: int = Field(default=60, ge=0, le=500, description="characters shared by neighbouring chunks")
    heading_context: bool = Field(default=True, description="embed and index each chunk with its nearest heading")


class FusionSettings(BaseModel):
    """How dense and lexical candidates are merged into one ranking (``RAG_FUSION_*``)."""

    alpha: float = Field(default=0.5, ge=0, le=1, description="lexical weight at full lexical confidence")
    min_coverage: float = Field(
        default=0.35, ge=0, le=1, description="below this share of query tokens found in the corpus, lexical is ignored"
    )
    translation_alpha: float = Field(
        default=0.35, ge=0, le=1,
        description="weight of the dictionary-translated English question over Chinese text (0: off), "
        "scaled by the share of its words that translated",
    )
    max_translations: int = Field(default=4, ge=1, le=20, description="Chinese translations kept per English word")
    sentence_weight: float = Field(
        default=0.5, ge=0, le=1, description="dense score = (1 - w) * best chunk + w * best sentence of the unit"
    )
    answer_type_bonus: float = Field(
        default=0.06, ge=0, le=1, description="bonus for a candidate whose best sentence has a number when the question asks for one"
    )


class RefusalSettings(BaseModel):
    """When an answer is refused for weak evidence (``RAG_REFUSE_BELOW_*``)."""

    same_language: float = Field(
        default=0.870028, ge=0, le=1,
        description="refuse when the best evidence sentence's cosine is below this (question and text in one language)",
    )
    cross_language: float = Field(
        default=0.756678, ge=0, le=1, description="the same for an English question over Chinese text, or the reverse"
    )


class GenerationSettings(BaseModel):
    """The optional answer rewriter behind an OpenAI-compatible endpoint (``RAG_GENERATION_*``)."""

    enabled: bool = Field(
        default=False, description="rewrite answers with a model behind an OpenAI-compatible endpoint (needs base URL and model)"
    )
    base_url: str | None = Field(
        default=None, description="endpoint base URL, the part before /chat/completions, e.g. http://127.0.0.1:8080/v1"
    )
    model: str | None = Field(default=None, description="model name sent to the endpoint")
    api_key: str | None = Field(default=None, repr=False, description="Bearer token for the endpoint; never printed")
    timeout_s: float = Field(default=20.0, gt=0, le=600, description="seconds to wait for the endpoint before falling back")


class MilvusSettings(BaseModel):
    """Where the Milvus backend keeps the index (``RAG_MILVUS_*``; deploy/README.md)."""

    uri: str | None = Field(
        default=None, description="Milvus server (http://host:19530) or a milvus-lite .db file; default <home>/milvus/un_rag.db"
    )
    token: str | None = Field(default=None, repr=False, description="Milvus token (user:password or API key); never printed")
    collection: str = Field(
        default="un_rag", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$", description="collection of the configured index"
    )
    consistency: Literal["Strong", "Session", "Bounded", "Eventually"] = Field(
        default="Strong", description="Strong: a chunk added by any replica is found by the next search of every replica"
    )
    index: Literal["FLAT", "IVF_FLAT", "HNSW", "AUTOINDEX"] = Field(
        default="FLAT", description="dense index in Milvus (milvus-lite: FLAT, IVF_FLAT, AUTOINDEX; a cluster: HNSW)"
    )
    sync_on_open: bool = Field(
        default=True, description="export the local build to Milvus when the collection does not mirror it (off for replicas)"
    )


class EncoderSettings(BaseModel):
    """The text encoder that answers queries (``RAG_ENCODER_*``)."""

    backend: Literal["onnx", "onnx-int8", "openvino", "torch"] = Field(
        default="openvino",
        description="openvino: the ONNX export on OpenVINO in bfloat16 on static shape buckets where the CPU has AMX/AVX-512 BF16 "
        "(float vectors within 1e-4 cosine; faster than onnx for one query there, bench/encoder_speed.py), else onnx; "
        "onnx: the model exported once to ONNX Runtime, float32 (torch's vectors, several times faster); "
        "onnx-int8: int8-quantised (about 3x faster again, about one point lower recall@1; recorded in the index's model id, "
        "so an index built with another backend is rebuilt); torch: sentence-transformers as is",
    )
    threads: int = Field(default=2, ge=1, le=64, description="intra-op threads of the encoder (the machine's cores)")


class OpenVinoSettings(BaseModel):
    """How the OpenVINO encoder runs (``RAG_OPENVINO_*``)."""

    query_threads: int = Field(
        default=1, ge=1, le=64,
        description="threads of one OpenVINO query inference (encoder backend openvino): one short query on static shapes is "
        "fastest on one thread, and concurrent requests then run on the other cores",
    )
    static_shapes: bool = Field(
        default=True,
        description="OpenVINO runs texts padded to static shape buckets (bfloat16's fast kernels need static shapes); "
        "off: its dynamic model (for comparisons)",
    )


class BuildSettings(BaseModel):
    """How an index is built (``RAG_BUILD_*``)."""

    encoder_backend: Literal["openvino", "same"] = Field(
        default="openvino",
        description="openvino: builds embed with OpenVINO (bfloat16 on CPUs with AMX/AVX-512 BF16, several times faster) whenever "
        "the configured encoder's vectors are float ones (onnx, openvino, torch: the same model id) and the package is installed; "
        "same: builds use the encoder backend",
    )
    encoder_mode: Literal["static", "dynamic-streams"] = Field(
        default="dynamic-streams",
        description="how a build runs OpenVINO: dynamic-streams: the dynamic model compiled once, encoder threads streams of one "
        "thread each, batches of token_budget padded tokens (no compiled shape loaded per length bucket; ~1.6x the static "
        "builder's rate, same retrieval and answer figures); static: static shape buckets, one stream of encoder threads "
        "(~60 MB less peak memory)",
    )
    token_budget: int = Field(
        default=512, ge=128, le=16384,
        description="padded tokens per build batch in dynamic-streams mode (each stream's scratch memory grows with it)",
    )
    index_sentences: bool = Field(default=True, description="embed every sentence too, to pick the evidence answers quote")
    pool_sentence_vectors: bool = Field(
        default=False,
        description="a build takes each sentence's vector from its chunk's encoder pass (the mean of the sentence's token states) "
        "instead of a pass of its own: about half the text to embed; the vectors are in context, not the sentence's alone",
    )


class QuerySettings(BaseModel):
    """The query path of a process that answers questions (``RAG_QUERY_*``)."""

    cache_size: int = Field(default=1024, ge=0, le=1_000_000, description="recent query vectors kept in memory (0: off)")
    native_threads: int = Field(
        default=1, ge=1, le=64,
        description="threads of numpy's BLAS and FAISS's OpenMP in a process that answers queries: one query's products are "
        "small, and waking (or spinning) a second thread costs more than it saves, by far under concurrent requests",
    )


class ApiSettings(BaseModel):
    """The HTTP service of ``rag serve`` (``RAG_API_*``)."""

    host: str = Field(
        default="127.0.0.1", description="address the service listens on (rag serve --host); not loopback means an API key is required"
    )
    key: str | None = Field(
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
    batch_queries: bool = Field(
        default=True,
        description="questions of concurrent requests are encoded in one pass (api/batching.py); a lone request is not delayed",
    )
