"""NumPy's PCG64 float32 stream, generated inside the compiled kernel, bit for bit.

``engine.block_draws`` gives each block of replicates its own ``numpy.random.PCG64`` generator
and asks it for float32 uniforms. Drawing them in NumPy costs about as much as the model step
itself, so the kernel draws them itself from the same generator state, with the same steps:
a 128-bit linear congruential step, the XSL-RR output of 64 bits, split into two 32-bit halves
(low half first, as NumPy's ``next_uint32`` buffers them), and ``(u32 >> 8) * 2**-24`` as the
float32 (NumPy's ``random(dtype=np.float32)``). ``tests/model/test_kernel.py`` checks the
stream against NumPy's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from spirallab.model.f32math import intrinsic, ir, njit, put, types

_MULT_HI = np.uint64(0x2360ED051FC65DA4)
_MULT_LO = np.uint64(0x4385DF649FCCF645)
_MASK32 = np.uint64(0xFFFFFFFF)
_TO_UNIT = np.float32(1.0 / 16777216.0)


@intrinsic
def _mulhi_intrinsic(typingctx: Any, a: Any, b: Any) -> Any:
    """The high 64 bits of the 128-bit product of two uint64."""
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

    return sig, codegen


_mulhi: Any = _mulhi_intrinsic


def initial_state(seed: int, block: int) -> npt.NDArray[np.uint64]:
    """(state high, state low, increment high, increment low) of block ``block``'s generator."""
    state = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))).state["state"]
    s, inc = int(state["state"]), int(state["inc"])
    mask = (1 << 64) - 1
    return np.array([s >> 64, s & mask, inc >> 64, inc & mask], dtype=np.uint64)


@njit(inline="always", error_model="numpy")
def _mul128(a_hi: Any, a_lo: Any, b_hi: Any, b_lo: Any) -> Any:
    """(high, low) of the product of two 128-bit numbers, modulo 2**128."""
    return _mulhi(a_lo, b_lo) + a_lo * b_hi + a_hi * b_lo, a_lo * b_lo


@njit(inline="always", error_model="numpy")
def _add128(a_hi: Any, a_lo: Any, b_hi: Any, b_lo: Any) -> Any:
    """(high, low) of the sum of two 128-bit numbers, modulo 2**128."""
    lo = a_lo + b_lo
    carry = np.uint64(1) if lo < a_lo else np.uint64(0)
    return a_hi + b_hi + carry, lo


@njit(inline="always", error_model="numpy")
def jump_constants(rng: Any, n: int) -> Any:
    """(A high, A low, C high, C low) such that ``n`` steps of the generator are ``A s + C``.

    The generator's step is ``s -> M s + inc`` modulo 2**128; ``n`` of them compose to
    ``M**n s + inc (M**(n-1) + ... + 1)``, built here one step at a time (``n`` is small).
    """
    a_hi, a_lo = np.uint64(0), np.uint64(1)
    c_hi, c_lo = np.uint64(0), np.uint64(0)
    for _ in range(n):
        a_hi, a_lo = _mul128(a_hi, a_lo, _MULT_HI, _MULT_LO)
        c_hi, c_lo = _mul128(c_hi, c_lo, _MULT_HI, _MULT_LO)
        c_hi, c_lo = _add128(c_hi, c_lo, rng[2], rng[3])
    return a_hi, a_lo, c_hi, c_lo


@njit(inline="always", error_model="numpy")
def jump(rng: Any, a_hi: Any, a_lo: Any, c_hi: Any, c_lo: Any) -> None:
    """Advance ``rng`` by the steps that :func:`jump_constants` composed, without their outputs.

    What skipping :func:`fill_uniform` of ``2 n`` float32 does to the stream: NumPy's float32
    draws of an even count use whole 64-bit outputs, one per step, so the next fill starts
    exactly where NumPy's would.
    """
    hi, lo = _mul128(rng[0], rng[1], a_hi, a_lo)
    rng[0], rng[1] = _add128(hi, lo, c_hi, c_lo)


@njit(inline="always", error_model="numpy")
def next64(rng: Any) -> Any:
    """Advance the generator held in ``rng`` (as :func:`initial_state`) and return 64 bits."""
    hi, lo = rng[0], rng[1]
    new_lo = lo * _MULT_LO
    new_hi = _mulhi(lo, _MULT_LO) + lo * _MULT_HI + hi * _MULT_LO
    out_lo = new_lo + rng[3]
    carry = np.uint64(1) if out_lo < new_lo else np.uint64(0)
    out_hi = new_hi + rng[2] + carry
    rng[0], rng[1] = out_hi, out_lo
    rot = out_hi >> np.uint64(58)
    x = out_hi ^ out_lo
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(inline="always", error_model="numpy")
def fill_uniform(rng: Any, out: Any, start: int, count: int) -> None:
    """``count`` float32 uniforms into ``out[start:]``, an even count, two per 64 bits.

    The same steps as :func:`next64`, with the state held in locals for the whole fill: stored
    to ``rng`` at each step it went through memory (``out`` might alias it, as far as the
    compiler knows), which lengthened the serial chain of the generator.
    """
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    for i in range(count // 2):
        new_lo = lo * _MULT_LO
        new_hi = _mulhi(lo, _MULT_LO) + lo * _MULT_HI + hi * _MULT_LO
        lo = new_lo + inc_lo
        carry = np.uint64(1) if lo < new_lo else np.uint64(0)
        hi = new_hi + inc_hi + carry
        rot = hi >> np.uint64(58)
        x = hi ^ lo
        bits = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
        put(out, start + 2 * i, np.float32((bits & _MASK32) >> np.uint64(8)) * _TO_UNIT)
        put(out, start + 2 * i + 1, np.float32(bits >> np.uint64(40)) * _TO_UNIT)
    rng[0], rng[1] = hi, lo
