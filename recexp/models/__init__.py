"""Model families. Importing this package fills the model registry."""

from recexp.models import (  # noqa: F401  (register)
    autorec,
    closed_form,
    ease,
    ensemble_model,
    glocal_k,
    gmf,
    item_knn,
    mf,
    mlp,
    neumf,
    popularity,
    svdpp,
    two_tower,
)
from recexp.models.base import MODELS, BuildContext, ModelOptions

__all__ = ["MODELS", "BuildContext", "ModelOptions"]
