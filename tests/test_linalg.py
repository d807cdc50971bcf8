"""The matmul family (matmul/@, mm, bmm, addmm, baddbmm, mv, dot, outer, linear, tensordot,
einsum) against NumPy float64 references.

Float errors are normalised by alpha * |A| @ |B| (+ |beta * input|), the scale a GEMM's
rounding error is bounded by: |C - ref| <= (k + 4) * u * (|A| @ |B|) for unit roundoff u."""

from __future__ import annotations

from typing import Any

import ember
import numpy as np
import pytest
from conftest import to_numpy
from hypothesis import given, settings
from hypothesis import strategies as st

SIZES = [0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 127, 255, 257, 511, 1000, 1031]
# Every size in every role (m, n, k), plus cubes of the small sizes and two larger problems.
SHAPES = [(s, SIZES[(i + 5) % 19], SIZES[(i + 11) % 19]) for i, s in enumerate(SIZES)]
SHAPES += [(s, s, s) for s in SIZES if 0 < s <= 65] + [(257, 255, 511), (1031, 1000, 65)]

UNIT = {"float32": 2.0**-24, "float64": 2.0**-53, "float16": 2.0**-24, "bfloat16": 2.0**-24}
OUT_ROUND = {"float32": 0.0, "float64": 0.0, "float16": 2.0**-11, "bfloat16": 2.0**-8}


def rand(rng: np.random.Generator, shape: Any, dtype: str = "float32") -> ember.Tensor:
    if dtype in ("int32", "int64"):
        return ember.tensor(rng.integers(-9, 10, size=shape), dtype=dtype)
    return ember.tensor(rng.standard_normal(shape), dtype=dtype)


def f64(t: ember.Tensor) -> np.ndarray:
    return to_numpy(t).astype(np.float64)


def check_gemm(got: ember.Tensor, ref: np.ndarray, scale: np.ndarray, k: int,
               dtype: str = "float32") -> None:
    """|got - ref| within the GEMM rounding bound for an inner dim k (scale = |A| @ |B|...)."""
    g = f64(got)
    assert g.shape == ref.shape, (g.shape, ref.shape)
    assert str(got.dtype).endswith(dtype), got.dtype
    bound = (k + 4) * UNIT[dtype] * scale + OUT_ROUND[dtype] * np.abs(ref) + 1e-300
    err = np.abs(g - ref)
    bad = ~(err <= bound)
    assert not bad.any(), f"{bad.sum()} of {bad.size} beyond the bound; worst " \
        f"{np.max(err / bound)} x bound"


def operand(rng: np.random.Generator, rows: int, cols: int, transposed: bool,
            dtype: str = "float32") -> ember.Tensor:
    """A rows x cols operand, as a transposed view of a cols x rows tensor when asked."""
    if transposed:
        return rand(rng, (cols, rows), dtype).T
    return rand(rng, (rows, cols), dtype)


@pytest.mark.parametrize("ta", [False, True], ids=["A", "At"])
@pytest.mark.parametrize("tb", [False, True], ids=["B", "Bt"])
def test_matmul_sizes(capability: str, ta: bool, tb: bool, rng: np.random.Generator) -> None:
    for m, n, k in SHAPES:
        a, b = operand(rng, m, k, ta), operand(rng, k, n, tb)
        an, bn = f64(a), f64(b)
        check_gemm(a @ b, an @ bn, np.abs(an) @ np.abs(bn), k)


@pytest.mark.parametrize("beta", [0, 1, -0.5, 2])
@pytest.mark.parametrize("alpha", [0, 1, -0.5, 2])
def test_addmm_alpha_beta(capability: str, alpha: float, beta: float,
                          rng: np.random.Generator) -> None:
    for (m, n, k), ishape in [((7, 33, 17), (7, 33)), ((65, 17, 64), (17,)),
                              ((31, 16, 3), (31, 1)), ((16, 15, 1), (1, 15)), ((3, 2, 63), ()),
                              ((64, 65, 0), (64, 65)), ((0, 5, 4), (5,))]:
        a, b = rand(rng, (k, m)).T, rand(rng, (k, n)).T.T
        inp = rand(rng, ishape)
        an, bn, inn = f64(a), f64(b), f64(inp)
        got = ember.addmm(inp, a, b, beta=beta, alpha=alpha)
        ref = alpha * (an @ bn) + beta * inn
        scale = abs(alpha) * (np.abs(an) @ np.abs(bn)) + np.abs(beta * inn)
        check_gemm(got, np.broadcast_to(ref, (m, n)), scale, k)


def test_beta_zero_ignores_nan(capability: str, rng: np.random.Generator) -> None:
    a, b = rand(rng, (9, 5)), rand(rng, (5, 70))
    for shape in [(9, 70), (70,), (9, 1), ()]:
        inp = ember.full(shape, float("nan"))
        got = to_numpy(ember.addmm(inp, a, b, beta=0))
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, f64(a) @ f64(b), rtol=1e-5, atol=1e-5)
    got = ember.baddbmm(ember.full((2, 9, 70), float("nan")), a.expand(2, 9, 5),
                        b.expand(2, 5, 70), beta=0, alpha=2)
    assert np.isfinite(to_numpy(got)).all()


def strided_views(rng: np.random.Generator) -> list[tuple[ember.Tensor, ember.Tensor]]:
    base = rand(rng, (40, 50))
    col = rand(rng, (13,))
    return [
        (base[::2, 1::3], base[3:20, ::-2]),                  # steps, negative step
        (base[::-3, :7], base[5:12, 10:40:3]),                 # negative rows
        (col.expand(11, 13), base[:13, :9]),                    # 0-stride rows
        (base[:6, :13], col[:, None].expand(13, 8)),           # 0-stride columns
        (base[::5, ::5].T, base[:8, ::7]),                     # transposed and stepped
        (ember.tensor(3.0).expand(4, 6), ember.tensor(2.0).expand(6, 5)),  # all 0-strides
    ]


def test_matmul_strided(capability: str, rng: np.random.Generator) -> None:
    for a, b in strided_views(rng):
        an, bn = f64(a), f64(b)
        got = a @ b
        assert got.is_contiguous()
        check_gemm(got, an @ bn, np.abs(an) @ np.abs(bn), an.shape[1])


BATCH_PAIRS = [
    ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)), ((5, 1, 3, 4), (2, 4, 6)),
    ((1, 3, 4), (7, 4, 2)), ((2, 1, 3, 4), (1, 5, 4, 2)), ((3,), (3,)), ((0, 3, 4), (4, 5)),
    ((2, 3, 0), (0, 5)), ((2, 3, 4), (2, 4, 5)), ((3, 4), (6, 4, 2)), ((2, 0, 4), (4, 3)),
    ((7,), (7, 3)), ((3, 7), (7,)), ((1, 1, 65, 33), (33, 17)), ((4, 17, 9), (1, 9, 31)),
]


@pytest.mark.parametrize("sa,sb", BATCH_PAIRS)
def test_matmul_batched(sa: tuple[int, ...], sb: tuple[int, ...],
                        rng: np.random.Generator) -> None:
    a, b = rand(rng, sa, "float64"), rand(rng, sb, "float64")
    ref = np.matmul(f64(a), f64(b))
    got = ember.matmul(a, b)
    assert got.shape == ref.shape and got.is_contiguous()
    np.testing.assert_allclose(to_numpy(got), ref, rtol=1e-12, atol=1e-12)


def test_matmul_batched_layouts(capability: str, rng: np.random.Generator) -> None:
    """Batch layouts that fold into M and ones that need per-matrix offsets."""
    base = rand(rng, (6, 10, 33))
    w = rand(rng, (17, 33))
    cases = [
        (base, w.T),                           # (B, T, K) @ (K, N): folds into one GEMM
        (base[:, ::2], w.T),                   # rows stepped: batch and rows do not merge
        (base.transpose(0, 1), w.T),           # batch stride < row stride
        (base[:1].expand(4, 10, 33), w.T),     # 0-stride batch
        (base[:, :1], w.T),                    # one row per batch: merges with any stride
        (base, w.T.expand(6, 33, 17)),         # B expanded: shared, still folds
        (base[:, :, :17].transpose(1, 2), base[:, :, 3:20]),   # batched, transposed A
        (base[:3, None], rand(rng, (4, 33, 5))),               # broadcast both ways
        (base[::-1], w[:, None, :].T.squeeze(1)),              # negative batch stride
    ]
    for a, b in cases:
        an, bn = f64(a), f64(b)
        got = a @ b
        assert got.is_contiguous()
        check_gemm(got, np.matmul(an, bn), np.matmul(np.abs(an), np.abs(bn)), an.shape[-1])


def strided_operand(draw: Any, batch: list[int], rows: int, cols: int) -> ember.Tensor:
    """A float64 batch + (rows, cols) view: maybe transposed, stepped or batch-expanded."""
    transposed, step = draw(st.booleans()), draw(st.sampled_from([1, 2, -1]))
    inner = (cols, rows) if transposed else (rows, cols)
    base = np.arange(np.prod(batch + [inner[0], inner[1] * abs(step)]), dtype=np.float64)
    t = ember.tensor(np.sin(base).reshape(batch + [inner[0], inner[1] * abs(step)]))
    t = t[..., ::step]
    if transposed:
        t = t.transpose(-1, -2)
    if batch and draw(st.booleans()):  # a 0-stride batch dim
        t = t[:1].expand(*t.shape)
    return t


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(st.data())
def test_matmul_random_layouts(data: Any) -> None:
    draw = data.draw
    dims = st.lists(st.sampled_from([0, 1, 1, 2, 3]), max_size=3)
    ba, bb = draw(dims), draw(dims)
    m, n, k = (draw(st.integers(0, 20)) for _ in range(3))
    a = strided_operand(draw, ba, m, k)
    b = strided_operand(draw, bb, k, n)
    if not ba and draw(st.booleans()):
        a = a[0] if m else a.sum(0)
    if not bb and draw(st.booleans()):
        b = b[:, 0] if n else b.sum(1)
    an, bn = f64(a), f64(b)
    try:
        want = np.matmul(an, bn)
    except ValueError:
        with pytest.raises(ValueError, match=r"^\[matmul\]"):
            ember.matmul(a, b)
        return
    got = ember.matmul(a, b)
    assert got.shape == want.shape and got.is_contiguous()
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_matmul_float_dtypes(capability: str, dtype: str, rng: np.random.Generator) -> None:
    for m, n, k in [(1, 1, 1), (7, 17, 33), (65, 63, 127), (3, 257, 16), (0, 4, 5)]:
        a, b = operand(rng, m, k, True, dtype), operand(rng, k, n, False, dtype)
        an, bn = f64(a), f64(b)
        got = a @ b
        assert got.dtype == getattr(ember, dtype)
        check_gemm(got, an @ bn, np.abs(an) @ np.abs(bn), k, dtype)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_matmul_integers_wrap(capability: str, dtype: str, rng: np.random.Generator) -> None:
    info = np.iinfo(dtype)
    for m, n, k in [(5, 3, 4), (17, 33, 65), (64, 9, 1)]:
        an = rng.integers(info.min, info.max, size=(m, k), dtype=dtype, endpoint=True)
        bn = rng.integers(info.min, info.max, size=(k, n), dtype=dtype, endpoint=True)
        got = ember.tensor(an) @ ember.tensor(bn.T.copy()).T
        assert got.dtype == getattr(ember, dtype)
        np.testing.assert_array_equal(to_numpy(got), an @ bn)  # NumPy wraps too
    a, b = rand(rng, (4, 6), dtype), rand(rng, (6, 3), dtype)
    inp = rand(rng, (3,), dtype)
    got = ember.addmm(inp, a, b, beta=2, alpha=-3)
    np.testing.assert_array_equal(to_numpy(got), 2 * to_numpy(inp) - 3 * to_numpy(a) @ to_numpy(b))
    with pytest.raises(TypeError, match=r"\[addmm\].*beta"):
        ember.addmm(inp, a, b, beta=0.5)


def test_vector_ops(capability: str, rng: np.random.Generator) -> None:
    a, v = rand(rng, (33, 17), "float64"), rand(rng, (40,), "float64")[::2][:17]
    u = rand(rng, (33,), "float64")
    an, vn, un = f64(a), f64(v), f64(u)
    np.testing.assert_allclose(to_numpy(ember.mv(a, v)), an @ vn, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(a.mv(v)), an @ vn, rtol=1e-12)
    got = ember.dot(u, u)
    assert got.shape == () and abs(got.item() - un @ un) < 1e-10
    np.testing.assert_allclose(to_numpy(ember.outer(u, v)), np.outer(un, vn), rtol=1e-15)
    np.testing.assert_allclose(to_numpy(u.ger(v)), np.outer(un, vn), rtol=1e-15)
    np.testing.assert_allclose(to_numpy(u @ a), un @ an, rtol=1e-12)
    assert ember.dot(rand(rng, (0,)), rand(rng, (0,))).item() == 0
    assert ember.mv(rand(rng, (3, 0)), rand(rng, (0,))).tolist() == [0, 0, 0]


def test_mm_bmm_methods(rng: np.random.Generator) -> None:
    a, b = rand(rng, (5, 3, 4), "float64"), rand(rng, (5, 4, 6), "float64")
    np.testing.assert_allclose(to_numpy(a.bmm(b)), np.matmul(f64(a), f64(b)), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(a[0].mm(b[1])), f64(a)[0] @ f64(b)[1], rtol=1e-12)
    np.testing.assert_allclose(to_numpy(a.matmul(b)), np.matmul(f64(a), f64(b)), rtol=1e-12)
    # ndarray @ Tensor goes to Tensor.__rmatmul__
    got = f64(a)[0] @ b[0]
    assert isinstance(got, ember.Tensor)
    np.testing.assert_allclose(to_numpy(got), f64(a)[0] @ f64(b)[0], rtol=1e-12)


@pytest.mark.parametrize("ishape", [(17,), (5, 17), (3, 4, 17), (2, 1, 3, 17), (0, 17),
                                    (4, 0, 17)])
@pytest.mark.parametrize("bias", ["none", "vector", "strided", "scalar"])
def test_linear(capability: str, ishape: tuple[int, ...], bias: str,
                rng: np.random.Generator) -> None:
    x = rand(rng, ishape)
    w = rand(rng, (9, 17))
    b = {"none": None, "vector": rand(rng, (9,)), "strided": rand(rng, (27,))[::3],
         "scalar": rand(rng, ())}[bias]
    xn, wn = f64(x), f64(w)
    ref = xn @ wn.T + (0 if b is None else f64(b))
    got = ember.linear(x, w, b)
    assert got.shape == ref.shape
    scale = np.abs(xn) @ np.abs(wn.T) + (0 if b is None else np.abs(f64(b)))
    check_gemm(got, ref, scale, 17)


def test_linear_shapes(rng: np.random.Generator) -> None:
    x, w = rand(rng, (3, 5, 6), "float64"), rand(rng, (6,), "float64")
    got = ember.linear(x, w, ember.tensor(0.5, dtype=ember.float64))
    np.testing.assert_allclose(to_numpy(got), f64(x) @ f64(w) + 0.5, rtol=1e-12)
    # a transposed input and a weight that is itself a transposed view
    x = rand(rng, (6, 4, 3), "float64").transpose(0, 2)
    w = rand(rng, (6, 2), "float64").T
    np.testing.assert_allclose(to_numpy(ember.linear(x, w)), f64(x) @ f64(w).T, rtol=1e-12)


@pytest.mark.parametrize("ishape", [(4, 7, 9), (7, 9), (9,), (1, 1, 9), (4, 1, 1), (7, 1),
                                    (4, 7, 1), (), (1, 7, 9)])
@pytest.mark.parametrize("beta", [0, 1, 2])
def test_baddbmm(ishape: tuple[int, ...], beta: float, rng: np.random.Generator) -> None:
    inp = rand(rng, ishape)
    a, b = rand(rng, (4, 5, 7)).transpose(1, 2), rand(rng, (4, 5, 9))
    an, bn, inn = f64(a), f64(b), f64(inp)
    got = ember.baddbmm(inp, a, b, beta=beta, alpha=-0.5)
    ref = np.broadcast_to(beta * inn - 0.5 * np.matmul(an, bn), (4, 7, 9))
    scale = 0.5 * np.matmul(np.abs(an), np.abs(bn)) + np.abs(beta * inn)
    check_gemm(got, ref, scale, 5)
    check_gemm(inp.baddbmm(a, b, beta=beta, alpha=-0.5), ref, scale, 5)


def test_no_copy_of_transposed_operands(rng: np.random.Generator) -> None:
    """A transposed or stepped operand reaches the kernel by its strides, never copied: the
    peak allocation stays far below the operand's size."""
    a = rand(rng, (2048, 2048))
    x = rand(rng, (2048, 8))
    for op in (lambda: a.T @ x, lambda: a[:, ::2].T @ x,
               lambda: ember.linear(x.T, a[:8]), lambda: ember.addmm(x[:8, 0], a.T, x)):
        ember._C.cpu_reset_peak_stats()
        before = ember._C.cpu_memory_stats()["allocated_bytes"]
        out = op()
        peak = ember._C.cpu_memory_stats()["peak_allocated_bytes"] - before
        assert peak < 4 * 2048 * 1024, peak
        del out


def test_tensordot(rng: np.random.Generator) -> None:
    a = rand(rng, (3, 4, 5), "float64")
    for bshape, dims in [((4, 5, 6), 2), ((4, 5, 6), 0), ((5, 2), 1), ((2, 5, 7), ([2], [1])),
                         ((4, 6, 3), ([1, 0], [0, 2]))]:
        b = rand(rng, bshape, "float64")
        want = np.tensordot(f64(a), f64(b), dims)
        np.testing.assert_allclose(to_numpy(ember.tensordot(a, b, dims)), want, rtol=1e-12)
    with pytest.raises(ValueError, match=r"^\[tensordot\].*\(3, 4, 5\)"):
        ember.tensordot(a, a, 4)


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ii->i", [(4, 4)]), ("ii->", [(4, 4)]),
    ("ii", [(4, 4)]), ("ij->ji", [(3, 4)]), ("ba", [(3, 4)]), ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]), ("i,i->", [(5,), (5,)]), ("i,j->ij", [(3,), (4,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]), ("ij,ij->", [(3, 4), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),
    ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]), ("iij->j", [(3, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("i,i,i->i", [(4,), (4,), (4,)]),
    ("...i->...", [(2, 3, 4)]), ("i...->...", [(2, 3, 4)]), ("ab...,b->a...", [(2, 3, 4), (3,)]),
    ("iJ,Jk->ik", [(2, 3), (3, 4)]), ("ij,kj", [(2, 3), (4, 3)]), ("ij,j", [(2, 3), (3,)]),
    ("ii,i->i", [(3, 3), (3,)]), ("ij,jk->", [(2, 3), (3, 4)]), ("ijk->kji", [(2, 3, 4)]),
    ("ij,kl->ijkl", [(2, 3), (4, 5)]), ("i j , j k -> i k", [(2, 3), (3, 4)]),
    ("ij,jk->ik", [(0, 3), (3, 4)]), ("ij,jk->ik", [(2, 0), (0, 4)]), (",->", [(), ()]),
    ("i,->i", [(3,), ()]), ("bij,jk->bik", [(3, 4, 5), (5, 2)]),
    ("abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 2)]), ("...,...->...", [(2, 3), (3,)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum(eq: str, shapes: list[tuple[int, ...]], rng: np.random.Generator) -> None:
    ops = [rand(rng, s, "float64") for s in shapes]
    want = np.einsum(eq, *[f64(t) for t in ops])
    got = ember.einsum(eq, *ops)
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12, atol=1e-12)
    if len(ops) > 1:  # the list form
        np.testing.assert_allclose(to_numpy(ember.einsum(eq, ops)), want, rtol=1e-12,
                                   atol=1e-12)


def test_einsum_dtypes(rng: np.random.Generator) -> None:
    a, b = rand(rng, (3, 4), "int32"), rand(rng, (4, 5), "int32")
    got = ember.einsum("ij,jk->k", a, b)
    assert got.dtype == ember.int32
    np.testing.assert_array_equal(to_numpy(got), np.einsum("ij,jk->k", to_numpy(a), to_numpy(b)))
    a16 = rand(rng, (3, 4), "float16")
    assert ember.einsum("ij,kj->ik", a16, a16).dtype == ember.float16


@pytest.mark.parametrize("eq,shapes,why", [
    ("ij,jk->ik", [(2, 3)], "2 input subscripts for 1"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "'j' of sizes 3 and 4"),
    ("ijk", [(2, 3)], "3 dims for a 2-d"),
    ("i.j->", [(2, 3)], "malformed"),
    ("ij->k", [(2, 3)], "'k' appears in no input"),
    ("ij->ii", [(2, 3)], "'i' repeated"),
    ("i1->i", [(2, 3)], "invalid subscript"),
    ("...ij->", [(2,)], "need more dims"),
    ("ii->i", [(2, 3)], "'i' of sizes 2 and 3"),
    ("ii->i", [(1, 3)], "'i' of sizes 1 and 3"),
])
def test_einsum_errors(eq: str, shapes: list[tuple[int, ...]], why: str,
                       rng: np.random.Generator) -> None:
    ops = [rand(rng, s) for s in shapes]
    with pytest.raises(ValueError, match=r"\[einsum\]") as e:
        ember.einsum(eq, *ops)
    msg = str(e.value)
    assert why in msg and repr(eq) in msg and all(str(s) in msg for s in shapes), msg


ERRORS = [
    (ember.matmul, [(2, 3), (4, 5)], ValueError, r"^\[matmul\] shapes \(2, 3\) and \(4, 5\) "
     r"cannot be multiplied \(3 != 4\)"),
    (ember.matmul, [(3,), (4,)], ValueError, r"^\[matmul\].*\(3,\) and \(4,\)"),
    (ember.matmul, [(2, 3, 4), (5, 4, 6)], ValueError, r"^\[matmul\].*\(2, 3, 4\) and \(5, 4, 6\)"),
    (ember.matmul, [(), (3,)], ValueError, r"^\[matmul\].*\(\) and \(3,\)"),
    (ember.mm, [(2, 3), (4, 5)], ValueError, r"^\[mm\].*\(2, 3\) and \(4, 5\)"),
    (ember.mm, [(2, 3, 4), (4, 5)], ValueError, r"^\[mm\].*\(2, 3, 4\) and \(4, 5\)"),
    (ember.bmm, [(2, 3, 4), (3, 4, 5)], ValueError, r"^\[bmm\].*\(2, 3, 4\) and \(3, 4, 5\)"),
    (ember.bmm, [(2, 3, 4), (2, 5, 5)], ValueError, r"^\[bmm\].*\(2, 3, 4\) and \(2, 5, 5\)"),
    (ember.bmm, [(3, 4), (4, 5)], ValueError, r"^\[bmm\].*\(3, 4\) and \(4, 5\)"),
    (ember.mv, [(2, 3), (4,)], ValueError, r"^\[mv\].*\(2, 3\) and \(4,\)"),
    (ember.mv, [(2, 3), (3, 1)], ValueError, r"^\[mv\].*\(2, 3\) and \(3, 1\)"),
    (ember.dot, [(3,), (4,)], ValueError, r"^\[dot\].*\(3,\) and \(4,\)"),
    (ember.dot, [(3, 1), (3,)], ValueError, r"^\[dot\].*\(3, 1\) and \(3,\)"),
    (ember.outer, [(3, 1), (3,)], ValueError, r"^\[outer\].*\(3, 1\) and \(3,\)"),
    (ember.linear, [(2, 3), (4, 5)], ValueError, r"^\[linear\].*\(2, 3\).*\(4, 5\)"),
    (ember.linear, [(), (4, 5)], ValueError, r"^\[linear\].*\(\).*\(4, 5\)"),
    (lambda a, b: ember.linear(a, b, ember.zeros(3)), [(2, 5), (4, 5)], ValueError,
     r"^\[linear\] bias of shape \(3,\).*4"),
    (lambda a, b: ember.addmm(ember.zeros(3, 1), a, b), [(2, 3), (3, 5)], ValueError,
     r"^\[addmm\].*\(3, 1\).*\(2, 5\).*\(2, 3\) and \(3, 5\)"),
    (lambda a, b: ember.addmm(ember.zeros(5), a, b), [(2, 3), (4, 5)], ValueError,
     r"^\[addmm\].*\(2, 3\) and \(4, 5\)"),
    (lambda a, b: ember.baddbmm(ember.zeros(3, 2, 5), a, b), [(2, 2, 3), (2, 3, 5)],
     ValueError, r"^\[baddbmm\].*\(3, 2, 5\)"),
]


@pytest.mark.parametrize("fn,shapes,exc,pattern", ERRORS)
def test_errors(fn: Any, shapes: list[tuple[int, ...]], exc: type, pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        fn(*[ember.zeros(s) for s in shapes])


def test_dtype_errors() -> None:
    a, b = ember.zeros(2, 3), ember.zeros(3, 4, dtype=ember.float64)
    for fn in (ember.matmul, ember.mm, lambda x, y: x @ y):
        with pytest.raises(TypeError, match=r"same dtype.*float32 and float64"):
            fn(a, b)
    with pytest.raises(TypeError, match=r"^\[matmul\].*bool"):
        ember.zeros(2, 2, dtype=ember.bool) @ ember.zeros(2, 2, dtype=ember.bool)
    with pytest.raises(TypeError, match=r"^\[addmm\].*float64 and float32"):
        ember.addmm(ember.zeros(4, dtype=ember.float64), a, a.T)
    with pytest.raises(TypeError, match=r"^\[linear\]"):
        ember.linear(a, a, ember.zeros(2, dtype=ember.float64))
    with pytest.raises(TypeError, match=r"^\[einsum\].*float32.*float64"):
        ember.einsum("ij,jk", a, b)


@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a CUDA device")
def test_device_mismatch() -> None:
    with pytest.raises(RuntimeError, match=r"^\[matmul\].*device"):
        ember.zeros(2, 3) @ ember.zeros(3, 4).cuda()


def test_zero_sizes() -> None:
    for sa, sb in [((3, 0), (0, 4)), ((0, 3), (3, 4)), ((3, 4), (4, 0)), ((2, 0, 3), (3, 4))]:
        got = ember.zeros(sa) @ ember.ones(sb)
        assert got.shape == np.matmul(np.zeros(sa), np.ones(sb)).shape
        assert not to_numpy(got).any()
    inp = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    got = ember.addmm(inp, ember.ones(2, 0), ember.ones(0, 2), beta=-0.5)
    np.testing.assert_array_equal(to_numpy(got), -0.5 * to_numpy(inp))


def test_torch_parity(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")

    def both(shape: tuple[int, ...]) -> tuple[ember.Tensor, Any]:
        x = rng.standard_normal(shape)
        return ember.tensor(x, dtype=ember.float64), torch.tensor(x)

    def same(got: ember.Tensor, want: Any) -> None:
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(to_numpy(got), want.numpy(), rtol=1e-12, atol=1e-12)

    for sa, sb in BATCH_PAIRS:
        (a, ta), (b, tb) = both(sa), both(sb)
        same(ember.matmul(a, b), torch.matmul(ta, tb))
    (i, ti), (a, ta), (b, tb) = both((5,)), both((3, 4)), both((4, 5))
    same(ember.addmm(i, a, b, beta=2, alpha=0.5), torch.addmm(ti, ta, tb, beta=2, alpha=0.5))
    (i, ti), (a, ta), (b, tb) = both((3, 1)), both((2, 3, 4)), both((2, 4, 5))
    same(ember.baddbmm(i, a, b, beta=-1), torch.baddbmm(ti, ta, tb, beta=-1))
    (x, tx), (w, tw), (bias, tbias) = both((2, 3, 4)), both((6, 4)), both((6,))
    same(ember.linear(x, w, bias), torch.nn.functional.linear(tx, tw, tbias))
    same(ember.linear(x[0, 0], w), torch.nn.functional.linear(tx[0, 0], tw))
    (u, tu), (v, tv) = both((4,)), both((6,))
    same(ember.outer(u, v), torch.outer(tu, tv))
    same(ember.dot(u, u), torch.dot(tu, tu))
    same(ember.mv(w, u), torch.mv(tw, tu))
    for eq, shapes in EINSUM:
        pairs = [both(s) for s in shapes]
        same(ember.einsum(eq, *[p[0] for p in pairs]), torch.einsum(eq, *[p[1] for p in pairs]))
    # torch also broadcasts size-1 dims of a repeated label
    (a, ta), (b, tb) = both((3, 1)), both((4, 5))
    same(ember.einsum("ij,jk->ik", a, b), torch.einsum("ij,jk->ik", ta, tb))
    (a, ta), (b, tb) = both((3, 1, 2)), both((4, 5, 2))
    same(ember.einsum("bij,cjk->bcik", a, b[:, :, :2].transpose(1, 2)[:, :, :1]),
         torch.einsum("bij,cjk->bcik", ta, tb[:, :, :2].transpose(1, 2)[:, :, :1]))
