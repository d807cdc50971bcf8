"""MNIST/FashionMNIST: the real files (via $EMBER_DATA or /work/shared/data, skipped when
absent), malformed files written to tmp_path, and the download logic against a local HTTP
server."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import ember
import numpy as np
import pytest
from conftest import MNIST_FILES, mnist_data_root
from ember.data import DataLoader
from ember.data.datasets import MNIST, FashionMNIST, IDXError, read_idx
from ember.data.transforms import Compose, Normalize, Standardize, ToTensor

FILES = MNIST_FILES
_ROOT = mnist_data_root()
REAL = None if _ROOT is None else _ROOT / "mnist"
needs_real = pytest.mark.skipif(REAL is None, reason="MNIST files not found ($EMBER_DATA/mnist)")


@pytest.fixture(scope="module")
def train():
    return MNIST(REAL, train=True)


@needs_real
def test_real_shapes_and_labels(train):
    test = MNIST(REAL, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert tuple(train.raw.shape) == (60000, 28, 28) and train.raw.dtype == np.uint8
    assert train.targets.dtype is ember.int64 and int(train.targets[0]) == 5
    hist = np.bincount(train.targets.numpy(), minlength=10)
    assert hist.sum() == 60000 and hist.min() > 5000 and hist.max() < 7000
    img, label = train[0]
    assert tuple(img.shape) == (1, 28, 28) and img.dtype is ember.float32 and label == 5
    arr = img.numpy()
    assert arr.min() == 0.0 and arr.max() == 1.0
    assert len(train.classes) == 10


@needs_real
def test_real_as_tensors_and_loader(train):
    x, y = train.as_tensors()
    assert tuple(x.shape) == (60000, 1, 28, 28) and x.dtype is ember.float32
    np.testing.assert_array_equal(x[123].numpy(), train[123][0].numpy())
    xb, yb = next(iter(DataLoader(train, batch_size=64, shuffle=True)))
    assert tuple(xb.shape) == (64, 1, 28, 28) and yb.dtype is ember.int64
    idx = [int(np.where((x.numpy() == xb[0].numpy()).all(axis=(1, 2, 3)))[0][0])]
    assert int(y[idx[0]]) == int(yb[0])


@needs_real
def test_real_transform_and_standardize(train):
    tf = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    ds = MNIST(REAL, train=False, transform=tf, target_transform=lambda t: t + 100)
    img, label = ds[0]
    assert tuple(img.shape) == (1, 28, 28) and label == ds.targets[0].item() + 100
    np.testing.assert_allclose(img.numpy(), (ds.raw[0] / 255.0 - 0.1307)[None] / 0.3081,
                               rtol=1e-5, atol=1e-5)
    s = Standardize().fit(train, dim=(0, 2, 3))
    assert abs(float(s.mean.reshape(-1)[0]) - 0.1307) < 1e-3
    assert abs(float(s.std.reshape(-1)[0]) - 0.3081) < 1e-3


@needs_real
def test_torchvision_layout_root(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in FILES:
        (raw / f).symlink_to(REAL / f)
    assert len(MNIST(tmp_path, train=False)) == 10000


@needs_real
def test_env_default_root(monkeypatch):
    monkeypatch.setenv("EMBER_DATA", str(REAL.parent))
    assert len(MNIST(train=False)) == 10000


# ---- malformed files --------------------------------------------------------------------


def _idx(magic: int, dims: tuple[int, ...], payload: bytes | None = None) -> bytes:
    head = np.array([magic, *dims], dtype=">u4").tobytes()
    n = int(np.prod(dims))
    return head + (payload if payload is not None else bytes(range(256)) * (n // 256)
                   + bytes(n % 256))


def _write(folder: Path, images: bytes, labels: bytes, prefix: str = "train") -> None:
    (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
    (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))


def test_small_valid_files(tmp_path):
    _write(tmp_path, _idx(2051, (3, 28, 28)), _idx(2049, (3,), bytes([4, 0, 9])))
    ds = MNIST(tmp_path)
    assert len(ds) == 3 and ds.targets.tolist() == [4, 0, 9]
    assert ds.data.dtype is ember.int32 and tuple(ds.data.shape) == (3, 28, 28)
    np.testing.assert_array_equal(ds.data.numpy(), ds.raw)


def test_missing_file_names_it_and_says_how(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\.gz.*download=True"):
        MNIST(tmp_path)


def test_wrong_magic(tmp_path):
    _write(tmp_path, _idx(2049, (3, 28, 28)), _idx(2049, (3,)))
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte\.gz: wrong magic number 2049"):
        MNIST(tmp_path)


def test_truncated_payload(tmp_path):
    _write(tmp_path, _idx(2051, (3, 28, 28))[:-10], _idx(2049, (3,)))
    with pytest.raises(IDXError, match=r"images-idx3-ubyte\.gz: header dims \(3, 28, 28\).*trunc"):
        MNIST(tmp_path)


def test_truncated_gzip_and_corrupt_gzip(tmp_path):
    _write(tmp_path, _idx(2051, (3, 28, 28)), _idx(2049, (3,)))
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:40])
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte\.gz: corrupt or truncated"):
        MNIST(tmp_path)
    p.write_bytes(b"this is not gzip at all")
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte\.gz: corrupt"):
        MNIST(tmp_path)


def test_short_header_and_count_mismatch(tmp_path):
    _write(tmp_path, _idx(2051, (3, 28, 28)), b"\x00\x00")
    with pytest.raises(IDXError, match="labels-idx1-ubyte.gz: truncated"):
        MNIST(tmp_path)
    _write(tmp_path, _idx(2051, (3, 28, 28)), _idx(2049, (2,)))
    with pytest.raises(IDXError, match="3 images but .* 2 labels"):
        MNIST(tmp_path)


def test_read_idx_extra_bytes(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(_idx(2049, (3,), b"\x01\x02\x03\x04")))
    with pytest.raises(IDXError, match="need 3 bytes of data, the file has 4"):
        read_idx(p, 1)


# ---- download ---------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over tmp_path/srv; yields (folder, base URL)."""
    srv = tmp_path / "srv"
    srv.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(srv))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield srv, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    t.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve_small_set(srv: Path) -> dict[str, tuple[str, None]]:
    _write(srv, _idx(2051, (2, 28, 28)), _idx(2049, (2,), b"\x03\x07"), "train")
    _write(srv, _idx(2051, (1, 28, 28)), _idx(2049, (1,), b"\x01"), "t10k")
    return {f: (hashlib.sha256((srv / f).read_bytes()).hexdigest(), None) for f in FILES}


def test_download_from_fake_mirror(tmp_path, server, monkeypatch):
    srv, url = server
    monkeypatch.setattr(MNIST, "resources", _serve_small_set(srv))
    monkeypatch.setattr(MNIST, "mirrors", [url + "missing/", url])  # first mirror 404s
    ds = MNIST(tmp_path / "data", download=True)
    assert ds.root == tmp_path / "data" / "MNIST" / "raw"  # torchvision's layout
    assert ds.targets.tolist() == [3, 7]
    assert sorted(p.name for p in ds.root.iterdir()) == sorted(FILES)  # no .part left
    assert len(MNIST(tmp_path / "data", train=False)) == 1  # found again without download


def test_download_sha_mismatch_leaves_nothing(tmp_path, server, monkeypatch):
    srv, url = server
    res = _serve_small_set(srv)
    res["train-labels-idx1-ubyte.gz"] = ("0" * 64, None)
    monkeypatch.setattr(MNIST, "resources", res)
    monkeypatch.setattr(MNIST, "mirrors", [url])
    with pytest.raises(RuntimeError, match="train-labels-idx1-ubyte.gz.*sha256 mismatch"):
        MNIST(tmp_path, download=True)
    left = {p.name for p in (tmp_path / "MNIST" / "raw").iterdir()}
    assert "train-labels-idx1-ubyte.gz" not in left and not any(".part" in n for n in left)


def test_download_accepts_recompressed_payload(tmp_path, server, monkeypatch):
    srv, url = server
    res = _serve_small_set(srv)
    raw = gzip.decompress((srv / FILES[0]).read_bytes())
    res[FILES[0]] = ("f" * 64, hashlib.sha256(raw).hexdigest())
    monkeypatch.setattr(FashionMNIST, "resources", res)
    monkeypatch.setattr(FashionMNIST, "mirrors", [url])
    ds = FashionMNIST(tmp_path, download=True)
    assert ds.root.parts[-2:] == ("FashionMNIST", "raw") and len(ds) == 2
    assert ds.classes[0] == "T-shirt/top"


def test_download_no_network_is_clear(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])  # discard port: refused
    with pytest.raises(RuntimeError, match=r"could not download train-images.*by hand"):
        MNIST(tmp_path, download=True)


@needs_real
def test_pinned_digests_match_real_files():
    for name, (_, raw_sha) in MNIST.resources.items():
        data = gzip.decompress((REAL / name).read_bytes())
        assert hashlib.sha256(data).hexdigest() == raw_sha, name
