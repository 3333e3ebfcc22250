"""Embedding functions for Chroma: offline by default, an OpenAI-compatible endpoint when configured.

Chroma's own default embedding function downloads an ONNX model on first use; casepilot runs
on air-gapped machines, so it never lets Chroma choose: every collection gets one of these.

* ``WordLlamaEmbeddings`` — the offline default. The ``wordllama`` wheel ships its weights
  (``wordllama/weights/l2_supercat_256.safetensors``) and tokenizer config
  (``wordllama/tokenizers/l2_supercat_tokenizer_config.json``). ``WordLlama.load()`` looks for
  the tokenizer under ``wordllama/tokenizer/`` (singular) and would fetch it from Hugging Face,
  so the packaged files are loaded here explicitly; nothing is downloaded, ever.
* ``OpenAIEmbeddings`` — any server speaking ``/v1/embeddings`` (``OPENAI_BASE_URL``,
  ``OPENAI_API_KEY``, model from ``CASEPILOT_EMBEDDING_MODEL``), used only when configured.

``identity`` (``name:model``) is what a collection records at creation, so that a query with a
different embedding function — or the same one with another model — is refused instead of
silently comparing vectors from two different spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from casepilot.errors import RetrievalError

if TYPE_CHECKING:
    from wordllama.inference import WordLlamaInference

__all__ = [
    "CasepilotEmbeddingFunction",
    "OpenAIEmbeddings",
    "WordLlamaEmbeddings",
    "default_embedding_function",
    "embedding_function_from_env",
]

WORDLLAMA_MODEL = "l2_supercat_256"
"""The model packaged inside the ``wordllama`` wheel (256 dimensions)."""


class CasepilotEmbeddingFunction(EmbeddingFunction[Documents]):
    """A Chroma embedding function that also names its model, so collections can record it."""

    model: str

    @property
    def identity(self) -> str:
        """``name:model``, recorded by a collection and compared on every query."""
        return f"{self.name()}:{self.model}"


@cache
def _wordllama_model() -> WordLlamaInference:
    """Load the packaged WordLlama model once per process (about 30 ms, 16 MB of weights)."""
    import wordllama
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    root = Path(wordllama.__file__).parent
    weights = root / "weights" / f"{WORDLLAMA_MODEL}.safetensors"
    tokenizer_config = root / "tokenizers" / "l2_supercat_tokenizer_config.json"
    for path in (weights, tokenizer_config):
        if not path.is_file():
            raise RetrievalError(
                f"the wordllama package lacks {path.name} (looked in {path.parent}); "
                "reinstall it with `pip install --force-reinstall wordllama`"
            )
    with safe_open(str(weights), framework="np", device="cpu") as f:
        embedding = f.get_tensor("embedding.weight")
    return WordLlamaInference(embedding, Tokenizer.from_file(str(tokenizer_config)))


@register_embedding_function
class WordLlamaEmbeddings(CasepilotEmbeddingFunction):
    """Offline static word embeddings (WordLlama ``l2_supercat``, 256-d), unit-normalised for cosine."""

    def __init__(self) -> None:
        self.model = WORDLLAMA_MODEL
        self._wordllama = _wordllama_model()

    def __call__(self, input: Documents) -> Embeddings:
        if not input:
            return []
        vectors = np.asarray(self._wordllama.embed(list(input), norm=True), dtype=np.float32)
        return list(vectors)

    @staticmethod
    def name() -> str:
        return "casepilot-wordllama"

    def default_space(self) -> Any:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model": WORDLLAMA_MODEL}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> WordLlamaEmbeddings:
        return WordLlamaEmbeddings()


@register_embedding_function
class OpenAIEmbeddings(CasepilotEmbeddingFunction):
    """Embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint (only when configured)."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        batch_size: int = 128,
    ) -> None:
        import openai

        self.model = model
        self.base_url = base_url
        self.batch_size = batch_size
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or _settings_api_key() or "unused",
            timeout=timeout,
        )

    def __call__(self, input: Documents) -> Embeddings:
        texts = list(input)
        out: list[np.ndarray] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            response = self._client.embeddings.create(model=self.model, input=batch)
            rows = sorted(response.data, key=lambda d: d.index)
            out.extend(np.asarray(row.embedding, dtype=np.float32) for row in rows)
        return out

    @staticmethod
    def name() -> str:
        return "casepilot-openai"

    def default_space(self) -> Any:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbeddings:
        return OpenAIEmbeddings(str(config["model"]), base_url=config.get("base_url"))


def default_embedding_function() -> WordLlamaEmbeddings:
    """The offline default (the model itself is shared by every instance in the process)."""
    return WordLlamaEmbeddings()


def embedding_function_from_env(
    env: Mapping[str, str] | None = None,
) -> WordLlamaEmbeddings | OpenAIEmbeddings:
    """``OpenAIEmbeddings`` when ``CASEPILOT_EMBEDDING_MODEL`` is set, else the offline default.

    The OpenAI-compatible endpoint comes from ``OPENAI_BASE_URL`` (the ``openai`` default when
    unset) and the key from ``OPENAI_API_KEY``.
    """
    if env is None:
        from casepilot.settings import load_settings

        settings = load_settings()
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key is not None else None
        env = {"CASEPILOT_EMBEDDING_MODEL": settings.embedding_model or "", "OPENAI_BASE_URL": settings.openai_base_url or "",
               "OPENAI_API_KEY": key or ""}
    model = env.get("CASEPILOT_EMBEDDING_MODEL", "").strip()
    if not model:
        return default_embedding_function()
    return OpenAIEmbeddings(
        model, base_url=env.get("OPENAI_BASE_URL") or None, api_key=env.get("OPENAI_API_KEY") or None
    )


def _settings_api_key() -> str | None:
    from casepilot.settings import load_settings

    key = load_settings().openai_api_key
    return key.get_secret_value() if key is not None else None
