// The elementwise family: one dispatch table per op, each an ElemFn over an ElemIter.
//
// The binding (csrc/python/bind_elementwise.cpp) has already promoted, broadcast and converted
// the inputs, so every kernel sees inputs of ONE dtype, `it.dtype`, which is a compute dtype:
// never float16/bfloat16 (those run in float32 and are rounded once by the binding), except
// in where_kernel, which only moves bytes. Unless a line says otherwise the output dtype
// `it.out_dtype` equals `it.dtype`. "numeric" = int32, int64, float32, float64; "float" =
// float32, float64. Kernels never trap and never throw for a value (integer division by zero
// gives 0; the CPU binding raises ZeroDivisionError before calling).
#pragma once
#include "core/dispatch.h"
#include "core/iter.h"

namespace ember {

// ---- binary arithmetic: out = op(a, b), numeric --------------------------------------------
extern DispatchTable<ElemFn> add_kernel;        // a + alpha * b
extern DispatchTable<ElemFn> sub_kernel;        // a - alpha * b
extern DispatchTable<ElemFn> mul_kernel;        // a * b
extern DispatchTable<ElemFn> div_kernel;        // a / b, float only (true division)
extern DispatchTable<ElemFn> div_trunc_kernel;  // a / b rounded toward zero (C's int division)
extern DispatchTable<ElemFn> div_floor_kernel;  // floor(a / b), Python's //; floor_divide too
extern DispatchTable<ElemFn> remainder_kernel;  // a - floor(a / b) * b: the sign of b, Python's %
extern DispatchTable<ElemFn> pow_kernel;        // a ** b; ints by squaring, b < 0 -> trunc(1/a^|b|)
extern DispatchTable<ElemFn> maximum_kernel;    // max(a, b), NaN propagates; also bool
extern DispatchTable<ElemFn> minimum_kernel;    // min(a, b), NaN propagates; also bool

// ---- comparisons: inputs any compute dtype (bool included), out_dtype bool ------------------
extern DispatchTable<ElemFn> eq_kernel;  // a == b
extern DispatchTable<ElemFn> ne_kernel;  // a != b (true for NaN)
extern DispatchTable<ElemFn> lt_kernel;  // a < b
extern DispatchTable<ElemFn> le_kernel;  // a <= b
extern DispatchTable<ElemFn> gt_kernel;  // a > b
extern DispatchTable<ElemFn> ge_kernel;  // a >= b

// ---- logical: inputs any compute dtype (nonzero = true), out_dtype bool ---------------------
extern DispatchTable<ElemFn> logical_and_kernel;  // a && b
extern DispatchTable<ElemFn> logical_or_kernel;   // a || b
extern DispatchTable<ElemFn> logical_xor_kernel;  // bool(a) != bool(b)
extern DispatchTable<ElemFn> logical_not_kernel;  // unary: !a

// ---- bitwise: bool, int32, int64; out = op(a, b) in the same dtype --------------------------
extern DispatchTable<ElemFn> bitwise_and_kernel;  // a & b
extern DispatchTable<ElemFn> bitwise_or_kernel;   // a | b
extern DispatchTable<ElemFn> bitwise_xor_kernel;  // a ^ b
extern DispatchTable<ElemFn> bitwise_not_kernel;  // unary: ~a (logical not for bool)

// ---- unary, numeric, out = op(x) in the same dtype -------------------------------------------
extern DispatchTable<ElemFn> neg_kernel;     // -x
extern DispatchTable<ElemFn> abs_kernel;     // |x|
extern DispatchTable<ElemFn> sign_kernel;    // -1, 0, 1 (NaN stays NaN); also bool (identity)
extern DispatchTable<ElemFn> square_kernel;  // x * x
extern DispatchTable<ElemFn> relu_kernel;    // max(x, 0), NaN propagates
extern DispatchTable<ElemFn> floor_kernel;   // identity on ints
extern DispatchTable<ElemFn> ceil_kernel;    // identity on ints
extern DispatchTable<ElemFn> trunc_kernel;   // identity on ints
extern DispatchTable<ElemFn> round_kernel;   // half to even; alpha decimals, beta 10^|alpha|
extern DispatchTable<ElemFn> clamp_kernel;   // min(max(x, alpha), beta); +-inf when unbounded

// ---- unary math, float only, out = f(x) in the same dtype -----------------------------------
extern DispatchTable<ElemFn> exp_kernel;
extern DispatchTable<ElemFn> expm1_kernel;       // exp(x) - 1, accurate near 0
extern DispatchTable<ElemFn> log_kernel;
extern DispatchTable<ElemFn> log1p_kernel;       // log(1 + x), accurate near 0
extern DispatchTable<ElemFn> log2_kernel;
extern DispatchTable<ElemFn> sqrt_kernel;
extern DispatchTable<ElemFn> rsqrt_kernel;       // 1 / sqrt(x)
extern DispatchTable<ElemFn> reciprocal_kernel;  // 1 / x
extern DispatchTable<ElemFn> sin_kernel;
extern DispatchTable<ElemFn> cos_kernel;
extern DispatchTable<ElemFn> tanh_kernel;
extern DispatchTable<ElemFn> sigmoid_kernel;     // 1 / (1 + exp(-x))
extern DispatchTable<ElemFn> erf_kernel;
extern DispatchTable<ElemFn> silu_kernel;        // x * sigmoid(x)
extern DispatchTable<ElemFn> gelu_kernel;        // alpha 0: x Phi(x) (erf); alpha 1: tanh form
extern DispatchTable<ElemFn> leaky_relu_kernel;  // x > 0 ? x : alpha * x
extern DispatchTable<ElemFn> elu_kernel;         // beta * (x > 0 ? x : alpha * expm1(x)); selu too
extern DispatchTable<ElemFn> softplus_kernel;    // alpha = beta, beta = threshold (PyTorch's)

// ---- float classification: input float, out_dtype bool (the binding fills ints) ------------
extern DispatchTable<ElemFn> isnan_kernel;
extern DispatchTable<ElemFn> isinf_kernel;
extern DispatchTable<ElemFn> isfinite_kernel;

// Inputs x and a broadcast 0-d tensor holding the -inf replacement (both float);
// alpha = NaN replacement, beta = +inf replacement.
extern DispatchTable<ElemFn> nan_to_num_kernel;

// Inputs cond (bool), a, b (both it.dtype, any dtype incl. float16/bfloat16: bytes are
// moved, not computed); out = cond ? a : b. make_elem_iter sets it.dtype from cond, so the
// binding overwrites it.dtype with a's dtype.
extern DispatchTable<ElemFn> where_kernel;

}  // namespace ember
