"""Error paths of the core: each raises the documented Python exception type with a message
that starts with "[op]" and names the shapes / dtypes / values at fault; nothing crashes."""

from __future__ import annotations

import re

import ember
import numpy as np
import pytest
from conftest import CUDA


def _raises(exc, op, *parts):
    """pytest.raises for `exc` whose message starts with [op] and contains every part."""
    pattern = "^" + re.escape(f"[{op}]") + "".join(".*" + re.escape(p) for p in parts)
    return pytest.raises(exc, match=re.compile(pattern, re.S))


# ---- broadcasting / shapes ------------------------------------------------------------------
def test_incompatible_broadcast():
    a, b = ember.zeros(2, 3), ember.zeros(4)
    with _raises(ValueError, "add", "(2, 3)", "(4,)"):
        a + b
    with _raises(ValueError, "mul", "(2, 3)", "(4,)"):
        a * b
    with _raises(ValueError, "where", "(2, 3)", "(4,)"):
        ember.where(ember.zeros(2, 3, dtype=ember.bool), a, b)
    with _raises(ValueError, "expand", "(2, 3)", "(2, 4)"):
        a.expand(2, 4)
    with _raises(ValueError, "broadcast_to", "(2, 3)", "(3,)"):
        a.broadcast_to(3)


@pytest.mark.parametrize("new", [(5,), (2, 2), (-1, 4), (0,), (-1, -1), (3, -2)])
def test_reshape_to_wrong_size(new):
    t = ember.zeros(2, 3)
    with _raises(ValueError, "reshape", str(new).replace(",)", ",)")):
        t.reshape(new)
    with _raises(ValueError, "view"):
        t.view(new)


def test_reshape_message_names_input_shape():
    with _raises(ValueError, "reshape", "(4, 2)", "(2, 3)", "6 elements"):
        ember.zeros(2, 3).reshape(4, 2)


def test_view_of_non_viewable_layout():
    t = ember.zeros(4, 6)[:, ::2].T
    with _raises(ValueError, "view", "(3, 4)", "(12,)", "reshape"):
        t.view(12)
    with _raises(ValueError, "view", "(2, 3)", "(6,)"):
        ember.zeros(3, 2).T.view(-1)


# ---- indices --------------------------------------------------------------------------------
def test_int_index_out_of_range():
    t = ember.zeros(3, 4)
    with _raises(IndexError, "select", "index 3", "size 3"):
        t[3]
    with _raises(IndexError, "select", "index -5", "size 4"):
        t[0, -5]
    with _raises(IndexError, "select", "index 4"):
        t[1, 4] = 1.0
    with pytest.raises(IndexError, match="too many indices"):
        t[0, 0, 0]


def test_slices_out_of_range_are_fine():
    t = ember.arange(5)
    assert t[3:100].tolist() == [3, 4]
    assert t[-100:2].tolist() == [0, 1]
    assert t[10:].tolist() == []
    assert t[100:-100:-2].tolist() == [4, 2, 0]
    with _raises(ValueError, "slice", "zero"):
        t[::0]


def test_index_tensor_out_of_range():
    t = ember.zeros(3, 4)
    with pytest.raises(IndexError, match=r"^\[\w+\].*\b5\b.*\b3\b"):
        t[ember.tensor([0, 5])]
    with pytest.raises(IndexError, match=r"^\[\w+\].*-5"):
        t[:, ember.tensor([-5])]
    with pytest.raises(IndexError, match=r"^\[\w+\]"):
        t[[0, 3]] = 1.0


def test_bool_mask_shape_mismatch():
    t = ember.zeros(3, 4)
    with pytest.raises(IndexError, match=r"^\[\w+\].*\(2,\)"):
        t[ember.tensor([True, False])]


def test_invalid_index_type():
    with pytest.raises(TypeError, match=r"^\[getitem\].*str"):
        ember.zeros(3)["a"]
    with pytest.raises(TypeError, match=r"^\[getitem\].*float"):
        ember.zeros(3)[1.5]


# ---- in-place rules -------------------------------------------------------------------------
def test_inplace_that_would_broadcast_destination():
    a = ember.zeros(3, 1)
    with _raises(ValueError, "add_", "(3, 1)", "(3, 4)"):
        a += ember.zeros(1, 4)
    with _raises(ValueError, "mul_", "(3, 1)", "(3, 4)"):
        a *= ember.zeros(4)
    with _raises(ValueError, "copy_", "(4,)", "(3, 1)"):
        a.copy_(ember.zeros(4))


def test_inplace_that_would_change_dtype():
    i = ember.zeros(3, dtype=ember.int64)
    with _raises(TypeError, "div_", "float32", "int64"):
        i /= 2
    with _raises(TypeError, "add_", "float32", "int64"):
        i += ember.ones(3)
    with _raises(TypeError, "mul_", "float", "int64"):
        i *= 1.5
    b = ember.zeros(3, dtype=ember.bool)
    with _raises(TypeError, "add_", "int64", "bool"):
        b += 1
    i += 2  # same category: fine
    assert i.tolist() == [2, 2, 2]


# ---- dims -----------------------------------------------------------------------------------
@pytest.mark.parametrize("call, op", [
    (lambda t: t.transpose(0, 3), "transpose"),
    (lambda t: t.sum(2), "sum"),
    (lambda t: t.mean(-3), "mean"),
    (lambda t: t.squeeze(5), "squeeze"),
    (lambda t: t.unsqueeze(4), "unsqueeze"),
    (lambda t: t.select(-3, 0), "select"),
    (lambda t: t.narrow(2, 0, 1), "narrow"),
    (lambda t: t.size(2), "size"),
    (lambda t: t.stride(-3), "stride"),
    (lambda t: t.flatten(0, 2), "flatten"),
    (lambda t: t.split(1, 2), "split"),
    (lambda t: t.unbind(2), "unbind"),
    (lambda t: t.movedim(2, 0), "movedim"),
    (lambda t: t.diagonal(0, 0, 2), "diagonal"),
    (lambda t: t.permute(0, 2), "permute"),
    (lambda t: t.argmax(2), "argmax"),
    (lambda t: t.cumsum(-3), "cumsum"),
    (lambda t: ember.cat([t, t], 2), "cat"),
])
def test_dim_out_of_range(call, op):
    t = ember.zeros(2, 3)
    with pytest.raises(IndexError, match=r"^\[" + op + r"\].*dim -?\d.*\(2, 3\)"):
        call(t)


def test_dim_of_0d_tensor():
    z = ember.tensor(1.0)
    assert z.sum(0).shape == () and z.sum(-1).shape == ()
    with _raises(IndexError, "sum", "dim 1", "()"):
        z.sum(1)


# ---- devices --------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["tpu", "cuda:x", "cuda:", "CPU", "cpu:0x", "", "cuda:-1"])
def test_unsupported_device_string(spec):
    with pytest.raises(ValueError, match=r"^\[device\].*" + re.escape(repr(spec))):
        ember.zeros(2, device=spec)
    with pytest.raises(ValueError, match=r"^\[device\]"):
        ember.device(spec)


def test_device_of_wrong_type():
    with pytest.raises(TypeError, match=r"^\[device\]"):
        ember.device(3.5)


@pytest.mark.skipif(CUDA, reason="needs a machine without CUDA")
@pytest.mark.parametrize("make", [
    lambda: ember.zeros(2, device="cuda"),
    lambda: ember.empty(2, device="cuda:0"),
    lambda: ember.tensor([1.0], device="cuda"),
    lambda: ember.ones(2).cuda(),
    lambda: ember.ones(2).to("cuda:1"),
    lambda: ember.randn(2, device="cuda"),
])
def test_cuda_without_cuda_raises_runtime_error(make):
    with pytest.raises(RuntimeError, match=r"^\[\w+\].*(CUDA|cuda)"):
        make()


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_mixing_devices():
    a, b = ember.zeros(3), ember.zeros(3, device="cuda")
    with pytest.raises(RuntimeError, match=r"^\[add\].*cpu.*cuda:0"):
        a + b


# ---- sizes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, op", [
    (lambda: ember.empty(2, -1), "empty"),
    (lambda: ember.zeros(-3), "full"),
    (lambda: ember.ones((1, -2)), "full"),
    (lambda: ember.full((-1,), 2.0), "full"),
    (lambda: ember.rand(-1), "rand"),
])
def test_negative_sizes(make, op):
    with pytest.raises(ValueError, match=r"^\[\w+\].*negative.*-"):
        make()


@pytest.mark.parametrize("sizes", [(2**62,), (2**40, 2**40), (2**31, 2**31, 4), (2**63 - 1,),
                                   (1 << 62, 0, 1 << 62, 8)])
def test_huge_sizes_raise_memory_error_or_are_empty(sizes):
    if 0 in sizes:
        assert ember.empty(*sizes).numel() == 0
        return
    with pytest.raises(MemoryError):
        ember.empty(*sizes)
    with pytest.raises(MemoryError):
        ember.zeros(sizes, dtype=ember.float64)


def test_size_beyond_int64():
    with _raises(ValueError, "empty", str(2**64), "int64"):
        ember.empty(2**64)
    with _raises(ValueError, "view", str(-(2**70))):
        ember.zeros(4).view(-(2**70))


def test_bad_size_types():
    with pytest.raises(TypeError, match=r"^\[empty\].*float"):
        ember.empty(2, 3.0)
    with pytest.raises(TypeError, match=r"^\[(zeros|full)\].*str"):
        ember.zeros("abc")
    assert ember.zeros(np.int64(2), np.int32(3)).shape == (2, 3)


# ---- dtypes / operands ----------------------------------------------------------------------
def test_unsupported_operand_type():
    with _raises(TypeError, "add", "str"):
        ember.zeros(2) + "a"
    with _raises(TypeError, "mul", "NoneType"):
        ember.zeros(2) * None


def test_dtype_specific_errors_name_the_dtype():
    with _raises(TypeError, "bitwise_and", "float32"):
        ember.zeros(2) & ember.zeros(2)
    with pytest.raises(TypeError, match=r"^\[\w+\].*bool"):
        -ember.zeros(2, dtype=ember.bool)


def test_direct_construction_is_refused():
    with pytest.raises(TypeError, match=r"^\[Tensor\]"):
        ember.Tensor([1, 2])
