"""DIET's prediction for this project's configuration, in numpy instead of a TensorFlow call.

config.yml runs DIET without a transformer and without entity recognition, so reading one
message is: the sentence's sparse features times one trained matrix (plus its bias), that
vector times the text embedding layer, its dot product with each intent's (fixed) embedding, a
softmax. TensorFlow spends far longer preparing the call than computing it: converting the
batch to sparse tensors and matching it to the traced function's signature took ~1.6 ms of the
GIL per message, a tenth of the Rasa server's GIL time under load (py-spy,
docs/benchmarks.md), for a few thousand multiply-adds. Here the same trained weights (read
once from the loaded model) do the same arithmetic in float32 numpy on the batch Rasa
prepared; the token-level output Rasa reports as diagnostic data is computed the same way.

Only a model of exactly that shape takes this path (`_fits`): a transformer, hidden layers,
dense features, differently sized sequence and sentence features or no sentence features send
the batch to TensorFlow as before, and so does a batch whose features are not of the trained
widths (an empty message's). tests/integration/test_model_load.py compares every intent
ranking of the trained model with TensorFlow's own.

Installed in the Rasa server by bot/rasa_server/__main__.py; training keeps TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

_STATE = "_bot_numpy_forward"  # the attribute a DIET model keeps its numpy weights in


@dataclass
class _Forward:
    """The trained weights a prediction needs, as numpy arrays."""

    sequence: tuple[np.ndarray, np.ndarray]  # sparse-to-dense kernel and bias, token level
    sentence: tuple[np.ndarray, np.ndarray]  # the same, sentence level
    embed: tuple[np.ndarray, np.ndarray]  # the text embedding layer
    labels: np.ndarray  # every intent's embedding (n_intents, dim)
    cosine: bool
    softmax: bool

    def reads(self, batch: dict[str, Any]) -> bool:
        """The batch's features have the widths the weights were trained on. An empty message's
        features are stand-ins of other widths (its featurizers found nothing): TensorFlow's
        sparse product accepts those, this one does not."""
        return (int(batch["sequence"][2][-1]) == self.sequence[0].shape[0]
                and int(batch["sentence"][2][-1]) == self.sentence[0].shape[0])

    def predict(self, batch: dict[str, Any]) -> dict[str, Any]:
        """What DIET's `batch_predict` returns, as numpy (outputs after `sync_to_numpy`)."""
        lengths = np.asarray(batch["sequence_lengths"]).astype(np.int64).reshape(-1)
        tokens = _dense(batch["sequence"], *self.sequence)  # (B, T, units)
        sentence = _dense(batch["sentence"], *self.sentence)[:, 0, :]  # (B, units)
        # Rasa places each sentence vector right after its last real token and zero-pads the rest.
        transformed = np.zeros((tokens.shape[0], tokens.shape[1] + 1, tokens.shape[2]), dtype=np.float32)
        for i, length in enumerate(lengths):
            transformed[i, :length] = tokens[i, :length]
            transformed[i, length] = sentence[i]
        embedded = sentence @ self.embed[0] + self.embed[1]  # the last real position: the sentence
        labels = self.labels
        if self.cosine:
            embedded = embedded / np.linalg.norm(embedded, axis=-1, keepdims=True)
            labels = labels / np.linalg.norm(labels, axis=-1, keepdims=True)
        scores = embedded @ labels.T
        if self.softmax:
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
        return {"diagnostic_data": {"attention_weights": None, "text_transformed": transformed},
                "i_scores": scores.astype(np.float32)}


def _dense(sparse: tuple[np.ndarray, np.ndarray, np.ndarray], kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """A 3-d sparse batch (indices, values, shape) times `kernel`, plus `bias`: Rasa's DenseForSparse."""
    indices, values, shape = sparse
    rows = indices[:, 0] * shape[1] + indices[:, 1]
    flat = scipy.sparse.csr_matrix((values, (rows, indices[:, 2])), shape=(shape[0] * shape[1], shape[2]))
    out = np.asarray(flat @ kernel, dtype=np.float32) + bias
    return out.reshape(int(shape[0]), int(shape[1]), -1)


def _unpacked(model: Any, batch_in: tuple) -> dict[str, Any] | None:
    """The batch by name, as `RasaModel.batch_to_model_data_format` reads it, without tensors."""
    batch: dict[str, Any] = {}
    position = 0
    for key, values in model.predict_data_signature.items():
        for sub_key, signatures in values.items():
            if len(signatures) != 1:
                return None
            if signatures[0].is_sparse:
                batch[f"{key}.{sub_key}"] = tuple(np.asarray(x) for x in batch_in[position:position + 3])
                position += 3
            else:
                batch[f"{key}.{sub_key}"] = np.asarray(batch_in[position])
                position += 1
    unpacked = {"sequence": batch.get("text.sequence"), "sentence": batch.get("text.sentence"),
                "sequence_lengths": batch.get("text.sequence_lengths")}
    # One message at a time, as DIET's `process` predicts: no padding to mask.
    return unpacked if unpacked["sequence_lengths"] is not None and len(unpacked["sequence_lengths"]) == 1 else None


def _fits(model: Any) -> bool:
    """The model is DIET as configured here: intents only, sparse features only, no transformer."""
    from rasa.shared.nlu.constants import TEXT
    from rasa.utils.tensorflow.constants import (
        ENTITY_RECOGNITION,
        HIDDEN_LAYERS_SIZES,
        INTENT_CLASSIFICATION,
        NUM_TRANSFORMER_LAYERS,
    )

    config = model.config
    signature = model.predict_data_signature
    text = signature.get(TEXT, {})
    sparse_only = all(len(text.get(kind, [])) == 1 and text[kind][0].is_sparse for kind in ("sequence", "sentence"))
    layers = model._tf_layers[f"sequence_layer.{TEXT}"]._tf_layers["feature_combining"]._tf_layers
    return (config[INTENT_CLASSIFICATION] and not config[ENTITY_RECOGNITION] and config[NUM_TRANSFORMER_LAYERS] == 0
            and not config[HIDDEN_LAYERS_SIZES][TEXT] and set(signature) == {TEXT} and sparse_only
            and set(text) == {"mask", "sequence", "sentence", "sequence_lengths"}
            and not any(name.startswith("unify_dims") for name in layers)
            and model.all_labels_embed is not None)


def _forward(model: Any) -> _Forward | None:
    """The model's numpy weights, read once; None when the model does not fit."""
    if _STATE not in model.__dict__:
        forward = None
        if _fits(model):
            from rasa.utils.tensorflow.constants import COSINE, SOFTMAX

            combining = model._tf_layers["sequence_layer.text"]._tf_layers["feature_combining"]._tf_layers

            def weights(kind: str) -> tuple[np.ndarray, np.ndarray]:
                layer = combining[f"sparse_dense.{kind}"]._tf_layers["sparse_to_dense"]
                return layer.kernel.numpy(), layer.bias.numpy()

            dense = model._tf_layers["embed.text"]._dense
            loss = model._tf_layers["loss.label"]
            if getattr(dense, "kernel_mask", None) is None and dense.activation.__name__ == "linear":
                forward = _Forward(weights("sequence"), weights("sentence"), (dense.kernel.numpy(), dense.bias.numpy()),
                                   model.all_labels_embed.numpy(), loss.similarity_type == COSINE,
                                   loss.model_confidence == SOFTMAX)
        model.__dict__[_STATE] = forward
    return model.__dict__[_STATE]


def install() -> None:
    """DIET predicts in numpy when its configuration allows (called before Rasa starts)."""
    from rasa.nlu.classifiers.diet_classifier import DIET

    in_tensorflow = DIET._rasa_predict
    if getattr(in_tensorflow, "numpy", False):
        return

    def _rasa_predict(self: DIET, batch_in: tuple) -> dict[str, Any]:
        forward = _forward(self) if self.prepared_for_prediction and not self._run_eagerly else None
        batch = _unpacked(self, batch_in) if forward is not None else None
        if forward is None or batch is None or not forward.reads(batch):
            return in_tensorflow(self, batch_in)
        self._training = False
        return forward.predict(batch)

    _rasa_predict.numpy = True  # type: ignore[attr-defined]
    DIET._rasa_predict = _rasa_predict  # type: ignore[method-assign]
