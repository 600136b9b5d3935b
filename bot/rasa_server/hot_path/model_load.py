"""DIET loads without a training step: the same weights, a few seconds sooner at every start.

Rasa 3.6 loads a TensorFlow model (`RasaModel.load`) by compiling it and fitting it on one
example, only so that Keras creates its variables at the right sizes, then reads the trained
weights over them and runs one prediction to trace the prediction graph. Tracing the training
step (forward, loss, gradients, the optimizer) was 3.7 of the Rasa server's 11 s start (py-spy,
docs/benchmarks.md). Here the weights are read first and the one prediction creates the
variables: TensorFlow's checkpoint restores each variable as it is created, so the model holds
the same trained values without a training step ever being traced
(tests/integration/test_model_load.py compares every intent ranking with Rasa's own load).

Only for loading to predict: fine-tuning (`rasa train --finetune`), and a load without an example
to predict on, keep Rasa's own path.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Load RasaModel subclasses (DIET) through `_load_for_prediction` when only predicting."""
    from rasa.utils.tensorflow.models import RasaModel

    rasa_load = RasaModel.load.__func__  # type: ignore[attr-defined]
    if getattr(rasa_load, "replaced", False):
        return

    def load(cls: type[RasaModel], model_file_name: str, model_data_example: Any,
             predict_data_example: Any = None, finetune_mode: bool = False, *args: Any, **kwargs: Any) -> RasaModel:
        if finetune_mode or not predict_data_example:
            return rasa_load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                             *args, **kwargs)
        return _load_for_prediction(cls, model_file_name, predict_data_example, *args, **kwargs)

    load.replaced = True  # type: ignore[attr-defined]
    RasaModel.load = classmethod(load)  # type: ignore[method-assign, assignment]


def _load_for_prediction(cls: type, model_file_name: str, predict_data_example: Any, *args: Any,
                         **kwargs: Any) -> Any:
    """The model with its trained weights, restored as the first prediction creates its variables."""
    model = cls(*args, **kwargs)
    restored = model.load_weights(model_file_name)  # deferred: applied to each variable on creation
    model.run_inference(predict_data_example)  # creates every variable a prediction uses
    restored.assert_existing_objects_matched()  # each variable created got its trained value
    restored.expect_partial()  # the optimizer's slots and training-only layers stay unread
    return model
