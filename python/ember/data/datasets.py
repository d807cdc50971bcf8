"""MNIST and FashionMNIST from their four IDX gzip files, as torchvision's datasets.

``root`` is the directory holding the ``.gz`` files, or torchvision's layout
(``root/MNIST/raw/``); ``None`` means ``$EMBER_DATA/mnist`` (``.../fashion_mnist``), with
``EMBER_DATA`` defaulting to ``~/.cache/ember/data``.
``.data`` / ``.targets`` are tensors like torchvision's, except that ember has no uint8, so
``.data`` is int32 (values 0..255, built on first access; the bytes stay in ``.raw``, a uint8
NumPy array). With no transform a sample is ``(float32 1x28x28 tensor in [0, 1], int label)``:
torchvision returns a PIL image there, which ember does not depend on; a `transform` gets the
28x28 uint8 NumPy array instead, so torchvision's ``Compose([ToTensor(), Normalize(...)])``
works unchanged. ``as_tensors()`` gives
the whole split at once for training loops that don't need per-sample access, and a DataLoader
over a dataset without transforms gathers each batch in one step (no per-sample getitem).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes
from ..creation import from_numpy, tensor
from ..tensor import Tensor
from .dataset import Dataset

__all__ = ["MNIST", "FashionMNIST", "read_idx", "IDXError"]

_DEFAULT_HOME = Path("~/.cache/ember/data").expanduser()
_MAGIC = {1: 2049, 3: 2051}  # IDX magic for unsigned-byte data of rank 1 (labels), 3 (images)


class IDXError(ValueError):
    """A missing, truncated or malformed IDX file; the message names the file."""


def read_idx(path: str | os.PathLike, ndim: int) -> np.ndarray:
    """The uint8 array in a gzipped IDX file of rank `ndim` (3: images, 1: labels). The big-
    endian header (magic, then one uint32 per dim) must match the byte count exactly."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            buf = f.read()
    except FileNotFoundError:
        raise IDXError(f"[read_idx] {path}: file not found") from None
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise IDXError(f"[read_idx] {path}: corrupt or truncated gzip data ({e})") from None
    head = 4 * (1 + ndim)
    if len(buf) < head:
        raise IDXError(f"[read_idx] {path}: truncated: {len(buf)} bytes, shorter than the "
                       f"{head}-byte IDX header")
    magic, *dims = (int(v) for v in np.frombuffer(buf, dtype=">u4", count=1 + ndim))
    if magic != _MAGIC[ndim]:
        raise IDXError(f"[read_idx] {path}: wrong magic number {magic}, expected "
                       f"{_MAGIC[ndim]} (a rank-{ndim} unsigned-byte IDX file)")
    want = int(np.prod(dims, dtype=np.int64))
    if len(buf) - head != want:
        raise IDXError(f"[read_idx] {path}: header dims {tuple(dims)} need {want} bytes of "
                       f"data, the file has {len(buf) - head}"
                       + (" (truncated)" if len(buf) - head < want else ""))
    return np.frombuffer(buf, dtype=np.uint8, offset=head).reshape(dims)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class MNIST(Dataset):
    """Handwritten digits: 60000 training and 10000 test 28x28 images, labels 0..9."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    # file -> (sha256 of the published .gz, sha256 of the decompressed IDX bytes). Either
    # matching is accepted, so a mirror that recompressed the same bytes is fine.
    resources = {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    _env_subdir = "mnist"

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None,
                 download: bool = False) -> None:
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.root = self._resolve_root(root, download)
        if download:
            self.download()
        prefix = "train" if train else "t10k"
        img_path = self.root / f"{prefix}-images-idx3-ubyte.gz"
        lbl_path = self.root / f"{prefix}-labels-idx1-ubyte.gz"
        for p in (img_path, lbl_path):
            if not p.is_file():
                raise FileNotFoundError(self._missing_message(p))
        self.raw = read_idx(img_path, 3)
        labels = read_idx(lbl_path, 1)
        if labels.shape[0] != self.raw.shape[0]:
            raise IDXError(f"[{self._name}] {img_path.name} has {self.raw.shape[0]} images but "
                           f"{lbl_path.name} has {labels.shape[0]} labels")
        self.targets = from_numpy(labels.astype(np.int64))
        self._labels = labels
        self._data: Tensor | None = None

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _resolve_root(self, root: str | os.PathLike | None, download: bool) -> Path:
        """The folder with the .gz files: `root` itself or root/<Name>/raw (torchvision)."""
        if root is None:
            root = Path(os.environ.get("EMBER_DATA", _DEFAULT_HOME)) / self._env_subdir
            candidates = [Path(root)]
        else:
            root = Path(root).expanduser()
            candidates = [root, root / self._name / "raw"]
        probe = next(iter(self.resources))
        for folder in candidates:
            if (folder / probe).is_file():
                return folder
        # Nothing there: a download goes to the last candidate (torchvision's layout for an
        # explicit root, so torchvision finds the files too).
        return candidates[-1] if download else candidates[0]

    def _missing_message(self, p: Path) -> str:
        return (f"[{self._name}] missing file {p}; pass download=True to fetch it, or point "
                f"root= (a folder holding the four .gz files, or torchvision's root with "
                f"{self._name}/raw/ inside) or $EMBER_DATA (read from "
                f"$EMBER_DATA/{self._env_subdir}) at it")

    @property
    def data(self) -> Tensor:
        """The images, N x 28 x 28, int32 0..255 (ember has no uint8)."""
        if self._data is None:
            self._data = tensor(self.raw)
        return self._data

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return self.raw.shape[0]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img: Any = self.raw[index]
        target: Any = int(self._labels[index])
        img = self.transform(img) if self.transform is not None else _to_float(img[None])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    @property
    def _get_batch(self) -> Callable[[list[int]], Any] | None:
        """The DataLoader's one-gather batches; None (per-sample path) with transforms."""
        if self.transform is not None or self.target_transform is not None:
            return None
        return self._gather

    def _gather(self, indices: list[int]) -> list[Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        return [_to_float(self.raw[idx][:, None]), from_numpy(self._labels[idx].astype(np.int64))]

    def as_tensors(self) -> tuple[Tensor, Tensor]:
        """(images N x 1 x 28 x 28 float32 in [0, 1], labels N int64), no transforms."""
        return _to_float(self.raw[:, None]), self.targets

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (f"Dataset {self._name}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {split}")

    def _check_exists(self) -> bool:
        return all((self.root / name).is_file() for name in self.resources)

    def download(self) -> None:
        """Fetches the missing .gz files into `root`, trying each mirror; each file is checked
        against its sha256 and written atomically (temporary file, then rename)."""
        if self._check_exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        for name, digests in self.resources.items():
            if not (self.root / name).is_file():
                atomic_write_bytes(self.root / name, self._fetch_verified(name, digests))

    def _fetch_verified(self, name: str, digests: tuple[str, str | None]) -> bytes:
        errors = []
        for mirror in self.mirrors:
            url = mirror + name
            try:
                with urllib.request.urlopen(url, timeout=60) as r:
                    data = r.read()
            except (urllib.error.URLError, OSError) as e:
                errors.append(f"{url}: {getattr(e, 'reason', e)}")
                continue
            if _digest_ok(data, digests):
                return data
            errors.append(f"{url}: sha256 mismatch (got {_sha256(data)}, expected "
                          f"{digests[0]})")
        raise RuntimeError(
            f"[{self._name}] could not download {name}: " + "; ".join(errors) + ". Without "
            f"network access, copy the four .gz files into {self.root} by hand (or set root= / "
            "$EMBER_DATA)")


def _digest_ok(data: bytes, digests: tuple[str, str | None]) -> bool:
    gz_sha, raw_sha = digests
    if _sha256(data) == gz_sha:
        return True
    if raw_sha is None:
        return False
    try:
        return _sha256(gzip.decompress(data)) == raw_sha
    except (OSError, EOFError, zlib.error):
        return False


def _to_float(u8: np.ndarray) -> Tensor:
    """uint8 pixels -> float32 in [0, 1] (one NumPy pass; ember has no uint8 to convert)."""
    return from_numpy(np.multiply(u8, np.float32(1 / 255), dtype=np.float32))


class FashionMNIST(MNIST):
    """Zalando's clothing images, in MNIST's format and sizes."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/"
               "data/fashion/"]
    # Published sha256 of each .gz (their md5s match torchvision's list); the decompressed
    # digests are not pinned, since no copy was at hand to compute them.
    resources = {
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", None),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", None),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", None),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", None),
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    _env_subdir = "fashion_mnist"
