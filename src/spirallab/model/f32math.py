"""The model's own float32 exp, log and pow, shared by the compiled kernel and the reference engine.

Why not NumPy's or libm's: NumPy's float32 exp and libm's ``expf`` differ by up to 2 ulp on about
one input in eight, and NumPy picks its implementation by CPU (AVX-512, AVX2 or plain C), so the
same seed could give different runs on different machines. These functions are plain float32
arithmetic (Cody-Waite range reduction and the Cephes minimax polynomials), compiled without
fastmath or FMA contraction, so they round the same way wherever they run, scalar or vectorised,
inside the kernel or through the NumPy wrappers below (:func:`exp_array`, :func:`pow_array`).
Accuracy: exp within 1 ulp of the true value over its normal range (results below the smallest
normal float32, about 1.2e-38, are flushed to zero); log within 2 ulp; pow as ``exp(y log x)``,
within a few ulp for the exponents the model uses (step lengths of at most one year).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from spirallab.errors import SpiralLabError


class CompiledEngineError(SpiralLabError):
    """The compiled engine (Numba) could not be loaded or compiled; there is no slow fallback."""

    exit_code = 1


def _unavailable(reason: str) -> Any:
    """Stands in for Numba's decorators: what they decorate raises when called."""

    def decorator(*args: Any, **kwargs: Any) -> Any:
        def refuse(*a: Any, **k: Any) -> Any:
            raise CompiledEngineError(
                "the compiled engine needs numba (pinned in pyproject.toml), which failed to "
                f"load: {reason}"
            )

        if len(args) == 1 and callable(args[0]) and not kwargs:
            return refuse
        return lambda fn: refuse

    return decorator


try:
    import numba
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic as _intrinsic

    # Typed loosely: Numba's stubs do not describe compiled calls (intrinsics, njit options).
    njit: Any = numba.njit
    vectorize: Any = numba.vectorize
    intrinsic: Any = _intrinsic
    NUMBA_VERSION: str = numba.__version__
except Exception as exc:  # pragma: no cover - exercised in a subprocess by the tests
    # Import still succeeds so that the command line can report this as one line when a run
    # starts; every compiled function raises CompiledEngineError instead of running.
    njit = vectorize = intrinsic = _unavailable(str(exc))
    ir = types = None  # type: ignore[assignment]
    NUMBA_VERSION = "unavailable"

F32 = np.float32
I32 = np.int32

# Range of exp whose result is a normal, finite float32.
_EXP_HI = F32(88.72283)
_EXP_LO = F32(-87.33654)
_LOG2E = F32(1.442695040888963)
# ln 2 split so that n * _LN2_HI is exact for the n that occur.
_LN2_HI = F32(0.693359375)
_LN2_LO = F32(-2.12194440e-4)
_HALF = F32(0.5)
_ONE = F32(1.0)
_ZERO = F32(0.0)
_INF = F32(np.inf)
# Cephes expf polynomial for exp(r) on |r| <= ln(2)/2.
_E0 = F32(1.9875691500e-4)
_E1 = F32(1.3981999507e-3)
_E2 = F32(8.3334519073e-3)
_E3 = F32(4.1665795894e-2)
_E4 = F32(1.6666665459e-1)
_E5 = F32(5.0000001201e-1)
# Cephes logf polynomial for log(1 + m) on sqrt(1/2) - 1 <= m < sqrt(2) - 1.
_L0 = F32(7.0376836292e-2)
_L1 = F32(-1.1514610310e-1)
_L2 = F32(1.1676998740e-1)
_L3 = F32(-1.2420140846e-1)
_L4 = F32(1.4249322787e-1)
_L5 = F32(-1.6668057665e-1)
_L6 = F32(2.0000714765e-1)
_L7 = F32(-2.4999993993e-1)
_L8 = F32(3.3333331174e-1)
_SQRT_HALF = F32(0.70710677)


@intrinsic
def _bits_to_f32_intrinsic(typingctx: Any, bits: Any) -> Any:
    """Reinterpret an int32 as the float32 with the same bits (no conversion)."""
    sig = types.float32(types.int32)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


@intrinsic
def _f32_to_bits_intrinsic(typingctx: Any, value: Any) -> Any:
    """Reinterpret a float32 as the int32 with the same bits."""
    sig = types.int32(types.float32)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(32))

    return sig, codegen


@intrinsic
def _at_intrinsic(typingctx: Any, array: Any, index: Any) -> Any:
    """``array[index]`` for a 1-D array, without the negative-index wraparound.

    Numba's indexing turns ``a[i]`` into ``a[i + n if i < 0 else i]``; with many arrays in one
    loop that select hides the plain ``base + i`` address from LLVM's loop vectoriser. The
    kernel's indices are never negative, so it reads and writes its flat tiles through these.
    """
    sig = array.dtype(array, types.intp)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.load(builder.gep(data, [args[1]], inbounds=True))

    return sig, codegen


@intrinsic
def _put_intrinsic(typingctx: Any, array: Any, index: Any, value: Any) -> Any:
    """``array[index] = value`` for a 1-D array, without wraparound (see :func:`at`).

    For an array of more dimensions (or a view), ``index`` counts elements from its first
    element's address: the caller computes it from the strides.
    """
    sig = types.void(array, types.intp, array.dtype)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        builder.store(args[2], builder.gep(data, [args[1]], inbounds=True))
        return context.get_dummy_value()

    return sig, codegen


_bits_to_f32: Any = _bits_to_f32_intrinsic
_f32_to_bits: Any = _f32_to_bits_intrinsic
at: Any = _at_intrinsic
put: Any = _put_intrinsic


@njit(inline="always", error_model="numpy")
def _pow2(n: Any) -> Any:
    """2**n as float32 for -126 <= n <= 127, built from its exponent bits."""
    return _bits_to_f32(I32((n + I32(127)) << I32(23)))


@njit(inline="always", error_model="numpy")
def exp32(x: Any) -> Any:
    """exp(x) in float32 (see the module docstring for accuracy)."""
    xc = min(max(x, _EXP_LO), _EXP_HI)
    n = np.floor(xc * _LOG2E + _HALF)
    r = xc - n * _LN2_HI
    r = r - n * _LN2_LO
    p = _E0 * r + _E1
    p = p * r + _E2
    p = p * r + _E3
    p = p * r + _E4
    p = p * r + _E5
    y = p * (r * r) + r + _ONE
    ni = I32(n)
    half = ni >> I32(1)
    # Two factors so that n = 128 (just below overflow) still has a normal power of two.
    y = y * _pow2(half) * _pow2(ni - half)
    y = _INF if x > _EXP_HI else y
    y = _ZERO if x < _EXP_LO else y
    return y if x == x else x


@njit(inline="always", error_model="numpy")
def log32(x: Any) -> Any:
    """Natural log of x in float32 for x >= 0 (log 0 is -inf; negative x gives nan)."""
    bits = _f32_to_bits(x)
    e = (bits >> I32(23)) - I32(126)
    m = _bits_to_f32((bits & I32(0x007FFFFF)) | I32(0x3F000000))  # mantissa in [0.5, 1)
    small = m < _SQRT_HALF
    e = e - I32(1) if small else e
    m = (m + m) - _ONE if small else m - _ONE
    ef = F32(e)
    z = m * m
    p = _L0 * m + _L1
    p = p * m + _L2
    p = p * m + _L3
    p = p * m + _L4
    p = p * m + _L5
    p = p * m + _L6
    p = p * m + _L7
    p = p * m + _L8
    y = m * z * p
    y = y + ef * _LN2_LO
    y = y - _HALF * z
    y = m + y
    y = y + ef * _LN2_HI
    y = -_INF if x == _ZERO else y
    y = _INF if x == _INF else y
    return F32(np.nan) if x < _ZERO else y


@njit(inline="always", error_model="numpy")
def pow32(x: Any, y: Any) -> Any:
    """x**y in float32 for x >= 0 and y >= 0, as exp(y log x); 0**0 is 1."""
    out = exp32(y * log32(x)) if x > _ZERO else _ZERO
    return _ONE if y == _ZERO else out


@vectorize(["float32(float32)"], cache=True)
def _exp_ufunc(x: Any) -> Any:
    return exp32(x)


@vectorize(["float32(float32, float32)"], cache=True)
def _pow_ufunc(x: Any, y: Any) -> Any:
    return pow32(x, y)


def exp_array(x: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """:func:`exp32` element by element over a float32 array (for the reference engine)."""
    out: npt.NDArray[np.float32] = _exp_ufunc(np.asarray(x, dtype=np.float32))
    return out


def pow_array(x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """:func:`pow32` element by element, broadcasting like ``x ** y``."""
    out: npt.NDArray[np.float32] = _pow_ufunc(
        np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
    )
    return out
