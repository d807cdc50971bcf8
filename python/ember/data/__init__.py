"""Data pipeline: datasets, samplers, the DataLoader (background prefetch in threads), splits,
transforms and the MNIST/FashionMNIST readers. Names and defaults follow torch.utils.data and
torchvision; ``ember.utils.data`` is the same module under PyTorch's path."""

from . import augment, datasets, transforms
from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
    train_val_test_split,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
    "train_val_test_split", "Sampler", "SequentialSampler", "RandomSampler",
    "SubsetRandomSampler", "BatchSampler", "DataLoader", "get_worker_info", "default_collate",
    "default_convert", "augment", "datasets", "transforms",
]
