"""recexp: an experiment runner for neural rating-prediction recommenders."""

__version__ = "0.1.0"

import os as _os

# Quiet TensorFlow's C++ start-up banners unless the user asked for them.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
