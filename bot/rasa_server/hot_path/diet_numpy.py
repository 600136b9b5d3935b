"""DIET's prediction for this project's configuration, in numpy, straight from the message.

config.yml runs DIET without a transformer and without entity recognition, so reading one
message is: the sentence's sparse features times one trained matrix (plus its bias), that
vector times the text embedding layer, its dot product with each intent's (fixed) embedding, a
softmax. Rasa spends far longer preparing that than computing it: first a one-message
`RasaModelData` (`_create_model_data`: feature arrays, lengths, sorting) and a batch from it,
then TensorFlow's conversion of the batch to sparse tensors matched to the traced function's
signature. The TensorFlow call alone was ~1.6 ms of the GIL per message (session 14); Rasa's
batch building was still 22 % of the NLU thread's busy time under 40 users after it went
(session 15, py-spy; docs/benchmarks.md). Here DIET's `_predict` reads the message's sparse
features (the featurizers' parts side by side, as `_create_model_data` combines them) and does
the same arithmetic in numpy with the same trained weights (read once from the loaded model),
reading only the kernel rows of the message's non-zero features (`_dense`); the token-level
output Rasa reports as diagnostic data is computed when it is asked for.

Only a model of exactly that shape takes this path (`_fits`): a transformer, hidden layers,
dense features, differently sized sequence and sentence features or no sentence features send
the message to Rasa's own prediction, and so does a message whose features are not of the
trained widths (an empty message's). tests/integration/test_model_load.py compares every
intent ranking of the trained model with TensorFlow's own.

Installed in the Rasa server by bot/rasa_server/__main__.py; training keeps TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

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

    def features(self, message: Any, featurizers: list[str]) -> tuple[_Sparse, _Sparse] | None:
        """The message's sparse features for the tokens and the sentence, each featurizer's side by
        side as DIET's `_create_model_data` combines them (without copying them first); None when
        they are not what the weights were trained on (no features, dense ones, rows that do not
        line up, or an empty message's stand-ins of other widths)."""
        from rasa.shared.nlu.constants import TEXT

        if not message.features_present(TEXT, featurizers):
            return None
        if any(part is not None for part in message.get_dense_features(TEXT, featurizers)):
            return None
        sequence, sentence = (_side_by_side(parts) for parts in message._filter_sparse_features(TEXT, featurizers))
        if sequence is None or sentence is None or sequence.width != self.sequence[0].shape[0] \
                or sentence.width != self.sentence[0].shape[0]:
            return None
        return sequence, sentence

    def predict(self, sequence: Any, sentence: Any, diagnostic: bool) -> dict[str, Any]:
        """What DIET's `run_inference` returns for one message, in numpy."""
        sentence = _dense(sentence, *self.sentence)  # (1, units)
        embedded = sentence @ self.embed[0] + self.embed[1]
        labels = self.labels
        if self.cosine:
            embedded = embedded / np.linalg.norm(embedded, axis=-1, keepdims=True)
            labels = labels / np.linalg.norm(labels, axis=-1, keepdims=True)
        scores = embedded @ labels.T
        if self.softmax:
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
        # The token-level output Rasa reports as diagnostic data: each token's vector, then the
        # sentence's (what DIET's sequence layer outputs without a transformer).
        transformed = np.concatenate([_dense(sequence, *self.sequence), sentence])[None] if diagnostic else None
        return {"diagnostic_data": {"attention_weights": None, "text_transformed": transformed},
                "i_scores": scores.astype(np.float32)}


@dataclass
class _Sparse:
    """A message's sparse features as coordinates: value `values[i]` at (`rows[i]`, `columns[i]`)."""

    rows: np.ndarray
    columns: np.ndarray
    values: np.ndarray
    n_rows: int
    width: int


def _side_by_side(parts: list[Any]) -> _Sparse | None:
    """Several featurizers' sparse features of one kind side by side, in order (Rasa's combination:
    each one's columns after the previous ones'); None if there are none or their rows differ."""
    if not parts or len({part.features.shape[0] for part in parts}) != 1:
        return None
    matrices = [part.features.tocoo() for part in parts]
    offsets = np.cumsum([0] + [matrix.shape[1] for matrix in matrices])
    return _Sparse(np.concatenate([m.row for m in matrices]),
                   np.concatenate([m.col + offset for m, offset in zip(matrices, offsets)]),
                   np.concatenate([m.data for m in matrices]), matrices[0].shape[0], int(offsets[-1]))


def _dense(sparse: _Sparse, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The sparse features times `kernel`, plus `bias`: Rasa's DenseForSparse. Only the kernel's
    rows for the message's non-zero columns are read (about a hundred of 13,600): a sparse-matrix
    product in scipy first converted the whole float32 kernel to the features' float64, 1.3 ms a
    message against 0.02 ms this way. Summed in float64, as that product did."""
    weighted = kernel[sparse.columns].astype(np.float64) * sparse.values[:, None]
    out = np.zeros((sparse.n_rows, kernel.shape[1]), dtype=np.float64)
    np.add.at(out, sparse.rows, weighted)
    return out.astype(np.float32) + bias


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
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier
    from rasa.utils.tensorflow.constants import FEATURIZERS

    in_tensorflow = DIETClassifier._predict
    if getattr(in_tensorflow, "numpy", False):
        return

    def _predict(self: DIETClassifier, message: Any) -> dict[str, Any] | None:
        model = self.model
        usable = model is not None and model.prepared_for_prediction and not model._run_eagerly
        forward = _forward(model) if usable else None
        features = forward.features(message, self.component_config[FEATURIZERS]) if forward else None
        if features is None:
            return in_tensorflow(self, message)
        return forward.predict(*features, diagnostic=self._execution_context.should_add_diagnostic_data)

    _predict.numpy = True  # type: ignore[attr-defined]
    DIETClassifier._predict = _predict  # type: ignore[method-assign]
