"""A sentence-transformers MiniLM as an int8 ONNX model: the same vectors' meaning at a
fraction of the per-query time (issue: query encode ≤ 3 ms with accuracy within 0.5 pt).

    export_int8(model_dir, out_dir)   torch → ONNX (the transformer) → dynamic int8 quantisation
    OnnxEncoder(out_dir)              tokenizer + onnxruntime on one thread, mean pooling, unit length

The transformer's matrices are quantised to int8 per channel (`onnxruntime.quantization.
quantize_dynamic`); activations stay float and are quantised on the fly. Pooling is the mean
over real tokens, then L2 normalisation, as in all-MiniLM-L6-v2's sentence-transformers
pipeline (and in models fine-tuned from it by `faq_index.train`). Measured on BANKING77
(docs/benchmarks.md): one query in about 2.5 ms instead of 10–14 ms, top-1 within 0.4 pt.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
from pathlib import Path

import numpy as np

MODEL_FILE = "model_int8.onnx"
MAX_TOKENS = 256
ONNX_OPSET = 14
# Activations grow with batch x tokens squared and glibc keeps what was freed: sixteen 256-token
# texts (the console's largest encode request) left the process 290 MiB bigger with
# onnxruntime's arena on, 90 MiB with it off and batches of 8, and nothing once malloc_trim
# returned the freed pages after such a batch (query time unchanged, ~1.6 ms).
BATCH_SIZE = 8
TRIM_AFTER_TOKENS = 1024


def export_int8(model_dir: str | Path, out_dir: str | Path) -> Path:
    """Write `out_dir/model_int8.onnx` and the tokenizer for the sentence-transformers model in
    `model_dir`; return `out_dir`."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    model_dir, out = _transformer_dir(Path(model_dir)), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    transformer = _hidden_states(AutoModel.from_pretrained(model_dir)).eval()
    sample = tokenizer(["where is my parcel", "hello"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "model.onnx"
        torch.onnx.export(transformer, tuple(sample[n] for n in names), str(full), input_names=names,
                          output_names=["hidden"], opset_version=ONNX_OPSET, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]})
        quantize_dynamic(str(full), str(out / MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True)
    tokenizer.save_pretrained(out)
    (out / "int8.json").write_text(json.dumps({"source": str(model_dir), "pooling": "mean", "normalize": True}))
    return out


class OnnxEncoder:
    """An exported int8 model (a folder written by `export_int8`), one thread per call."""

    # A text's vector depends on the other texts of the call: dynamic quantisation scales a
    # call's activations by the range of all of them, padding included. A search encodes each
    # query alone (faq_index/search.py); builds batch the KB's wordings.
    couples_texts = True

    def __init__(self, path: str | Path, name: str | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.path = Path(path)
        self.name = name or str(self.path)
        self._tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # as the action server runs: one thread, no idle spinning
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False  # see BATCH_SIZE
        self._session = onnxruntime.InferenceSession(str(self.path / MODEL_FILE), options,
                                                     providers=["CPUExecutionProvider"])
        self.dim = int(self._session.get_outputs()[0].shape[-1] or self._encode_batch(["x"]).shape[1])

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        from faq_index.encoder import _encode_in_batches

        return _encode_in_batches(self._encode_batch, texts, self.dim, BATCH_SIZE, progress)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        if ids.size > TRIM_AFTER_TOKENS:
            _return_freed_memory()
        return summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)


def _return_freed_memory() -> None:
    """Give the pages a large batch's activations used back to the system (glibc only)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the allocator keeps them
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _hidden_states(model):  # type: ignore[no-untyped-def]
    """`model` as a module with positional inputs and one output, as ONNX export wants it."""
    import torch

    class HiddenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    return HiddenStates()


def _transformer_dir(model_dir: Path) -> Path:
    """The folder with the transformer's config: a sentence-transformers folder keeps it at its
    root (as `faq_index.train` writes it) or under `0_Transformer/`."""
    if (model_dir / "config.json").exists():
        return model_dir
    if (model_dir / "0_Transformer" / "config.json").exists():
        return model_dir / "0_Transformer"
    raise FileNotFoundError(f"no transformer config.json in {model_dir}")
