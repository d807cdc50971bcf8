"""``ember.utils.data``: torch.utils.data's path to ember.data, so that
``from ember.utils.data import DataLoader, TensorDataset, Dataset, random_split`` works."""

from ..data import *  # noqa: F403
from ..data import __all__  # noqa: F401
