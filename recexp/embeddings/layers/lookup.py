"""Row lookup that reads only the rows it needs.

``keras.ops.take(variable, ids)`` first converts the whole variable to a tensor. On the
TensorFlow backend that read keeps the full table alive through the backward pass, so the
optimizer's in-place row update then has to copy the table (copy-on-write): every step
costs O(vocabulary), and a lazy optimizer cannot pay off on large tables. A resource
gather (``tf.nn.embedding_lookup`` on the ``tf.Variable``) reads only the batch's rows.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


def lookup(variable: Any, ids: Any) -> Any:
    """``variable[ids]``: a resource gather on TensorFlow, ``ops.take`` elsewhere."""
    if keras.backend.backend() == "tensorflow" and isinstance(variable, keras.Variable):
        import tensorflow as tf

        return tf.nn.embedding_lookup(variable.value, ids)
    return ops.take(variable, ids, axis=0)
