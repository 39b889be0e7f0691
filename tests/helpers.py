"""Helpers shared by the test modules (import them as ``from tests.helpers import ...``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def assert_save_reload_same(
    model_or_layer: Any,
    inputs: Any,
    tmp_path: Path,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
) -> np.ndarray:
    """Save with ``keras.saving``, load back, and assert the outputs on ``inputs`` are unchanged.

    Modelled on keras-rs ``TestCase.run_model_saving_test``. A layer that is not a model is
    wrapped in a functional model first, its input shaped and typed like ``inputs`` (an
    array of shape ``(batch, ...)``); a model takes ``inputs`` as it is (an array or a dict
    of them). Both are called directly (``model(inputs)``, not ``predict``). The default
    tolerance is none: a saved model must give the very same numbers.

    Args:
        model_or_layer: keras.Model or keras.layers.Layer. What to save.
        inputs: array or dict of arrays. One batch to compare the outputs on.
        tmp_path: Path. A directory for ``model.keras`` (pytest's ``tmp_path``).
        rtol: float. Relative tolerance. Defaults to `0.0`.
        atol: float. Absolute tolerance. Defaults to `0.0`.

    Returns:
        The outputs before saving, as a numpy array (for further checks).
    """
    import keras

    model = model_or_layer
    if not isinstance(model, keras.Model):
        array = np.asarray(inputs)
        wrapped = keras.Input(shape=array.shape[1:], dtype=array.dtype.name)
        model = keras.Model(wrapped, model_or_layer(wrapped))
    before = keras.ops.convert_to_numpy(model(inputs))
    path = Path(tmp_path) / "model.keras"
    keras.saving.save_model(model, path)
    reloaded = keras.saving.load_model(path)
    after = keras.ops.convert_to_numpy(reloaded(inputs))
    np.testing.assert_allclose(after, before, rtol=rtol, atol=atol, err_msg="after save/reload")
    return before


def assert_recommender_round_trip(
    model: Any, user: np.ndarray, item: np.ndarray, tmp_path: Path
) -> np.ndarray:
    """Save a Recommender into ``tmp_path``, load it back whatever its family, and assert
    the same class and the very same predictions for ``(user, item)``."""
    from recexp.models.protocol import Recommender

    before = model.predict(user, item)
    directory = Path(tmp_path) / "saved"
    directory.mkdir()
    model.save(directory)
    reloaded = Recommender.load(directory)
    assert type(reloaded) is type(model)
    np.testing.assert_array_equal(reloaded.predict(user, item), before)
    return before
