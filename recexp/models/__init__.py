"""Model families. Importing this package fills the model registry."""

from recexp.models import closed_form, gmf, mf, mlp, neumf, two_tower  # noqa: F401  (register)
from recexp.models.base import MODELS, BuildContext, ModelOptions

__all__ = ["MODELS", "BuildContext", "ModelOptions"]
