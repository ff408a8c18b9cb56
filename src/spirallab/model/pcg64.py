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

from spirallab.model.f32math import at, intrinsic, ir, njit, put, types

_MULT_HI = np.uint64(0x2360ED051FC65DA4)
_MULT_LO = np.uint64(0x4385DF649FCCF645)
_MASK32 = np.uint64(0xFFFFFFFF)
_TO_UNIT = np.float32(1.0 / 16777216.0)
_U32_BITS = np.uint64(32)

# Ways of the vectorised generator (:func:`fill_ways`): 16 consecutive positions of the one
# stream, each stepped 16 at a time, so one pass over the ways is one country's 32 float32.
WAYS = 16
# Words of a block's generator array: the state and the increment (2 + 2 words), then the
# ways' states (high words, then low words).
STATE_WORDS = 4 + 2 * WAYS
_WAY_HI = 4
_WAY_LO = 4 + WAYS


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
    """Block ``block``'s generator: state high, state low, increment high, increment low.

    Then work space for the vectorised generator (:func:`start_ways`), zeros here.
    """
    state = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))).state["state"]
    s, inc = int(state["state"]), int(state["inc"])
    mask = (1 << 64) - 1
    words = np.zeros(STATE_WORDS, dtype=np.uint64)
    words[:4] = [s >> 64, s & mask, inc >> 64, inc & mask]
    return words


@njit(inline="always", error_model="numpy")
def mul128(a_hi: Any, a_lo: Any, b_hi: Any, b_lo: Any) -> Any:
    """(high, low) of the product of two 128-bit numbers, modulo 2**128."""
    return _mulhi(a_lo, b_lo) + a_lo * b_hi + a_hi * b_lo, a_lo * b_lo


@njit(inline="always", error_model="numpy")
def add128(a_hi: Any, a_lo: Any, b_hi: Any, b_lo: Any) -> Any:
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
        a_hi, a_lo = mul128(a_hi, a_lo, _MULT_HI, _MULT_LO)
        c_hi, c_lo = mul128(c_hi, c_lo, _MULT_HI, _MULT_LO)
        c_hi, c_lo = add128(c_hi, c_lo, rng[2], rng[3])
    return a_hi, a_lo, c_hi, c_lo


@njit(inline="always", error_model="numpy")
def jump_table(jumps: Any, a_hi: Any, a_lo: Any, c_hi: Any, c_lo: Any) -> None:
    """Jump ``k`` (words ``4 k`` to ``4 k + 3``): ``k`` jumps of (``a``, ``c``) composed.

    ``s -> a s + c`` applied ``k + 1`` times is ``a (a_k s + c_k) + c``: ``a_(k+1) = a a_k``,
    ``c_(k+1) = a c_k + c``, modulo 2**128; jump 0 leaves the state as it is.
    """
    k_hi, k_lo, m_hi, m_lo = np.uint64(0), np.uint64(1), np.uint64(0), np.uint64(0)
    for k in range(jumps.shape[0] // 4):
        jumps[4 * k], jumps[4 * k + 1], jumps[4 * k + 2], jumps[4 * k + 3] = k_hi, k_lo, m_hi, m_lo
        k_hi, k_lo = mul128(a_hi, a_lo, k_hi, k_lo)
        m_hi, m_lo = mul128(a_hi, a_lo, m_hi, m_lo)
        m_hi, m_lo = add128(m_hi, m_lo, c_hi, c_lo)


@njit(inline="always", error_model="numpy")
def jump(rng: Any, a_hi: Any, a_lo: Any, c_hi: Any, c_lo: Any) -> None:
    """Advance ``rng`` by the steps that :func:`jump_constants` composed, without their outputs.

    What skipping :func:`fill_uniform` of ``2 n`` float32 does to the stream: NumPy's float32
    draws of an even count use whole 64-bit outputs, one per step, so the next fill starts
    exactly where NumPy's would.
    """
    hi, lo = mul128(rng[0], rng[1], a_hi, a_lo)
    rng[0], rng[1] = add128(hi, lo, c_hi, c_lo)


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


@njit(inline="always", error_model="numpy")
def _mul128_limbs(a_hi: Any, a_lo: Any, b_hi: Any, b_lo: Any) -> Any:
    """As :func:`mul128`, the high word of ``a_lo * b_lo`` from 32-bit halves.

    A 128-bit product does not vectorise (x86 has no vector 64 x 64 -> 128 multiply); four
    32 x 32 -> 64 products do, 8 lanes to an AVX-512 register.
    """
    a0, a1 = a_lo & _MASK32, a_lo >> _U32_BITS
    b0, b1 = b_lo & _MASK32, b_lo >> _U32_BITS
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> _U32_BITS) + (p01 & _MASK32) + (p10 & _MASK32)
    hi = p11 + (p01 >> _U32_BITS) + (p10 >> _U32_BITS) + (mid >> _U32_BITS)
    hi = hi + a_lo * b_hi + a_hi * b_lo
    return hi, (mid << _U32_BITS) | (p00 & _MASK32)


@njit(inline="always", error_model="numpy")
def start_ways(rng: Any) -> None:
    """Put the next :data:`WAYS` states of ``rng``'s stream into its ways (the state stays)."""
    hi, lo = rng[0], rng[1]
    for i in range(WAYS):
        hi, lo = mul128(hi, lo, _MULT_HI, _MULT_LO)
        hi, lo = add128(hi, lo, rng[2], rng[3])
        rng[_WAY_HI + i] = hi
        rng[_WAY_LO + i] = lo


@njit(inline="always", error_model="numpy")
def fill_ways(
    rng: Any, n_ways: int, out: Any, start: int, a_hi: Any, a_lo: Any, c_hi: Any, c_lo: Any
) -> None:
    """``2 * n_ways`` float32 uniforms into ``out[start:]``: the ways' outputs, then a jump.

    Way ``i`` holds the state whose output is the stream's next ``i``-th, so the outputs in way
    order are the stream in order, each split as :func:`fill_uniform` splits it; then every way
    moves on by ``n_ways`` steps (``a``, ``c`` from :func:`jump_constants`). ``n_ways`` is
    :data:`WAYS`, passed at run time so that LLVM vectorises the loop instead of unrolling it.
    """
    for i in range(n_ways):
        hi, lo = at(rng, _WAY_HI + i), at(rng, _WAY_LO + i)
        rot = hi >> np.uint64(58)
        x = hi ^ lo
        bits = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
        put(out, start + 2 * i, np.float32((bits & _MASK32) >> np.uint64(8)) * _TO_UNIT)
        put(out, start + 2 * i + 1, np.float32(bits >> np.uint64(40)) * _TO_UNIT)
        hi, lo = _mul128_limbs(hi, lo, a_hi, a_lo)
        lo2 = lo + c_lo
        carry = np.uint64(1) if lo2 < lo else np.uint64(0)
        put(rng, _WAY_HI + i, hi + c_hi + carry)
        put(rng, _WAY_LO + i, lo2)


@njit(inline="always", error_model="numpy")
def jump_ways(rng: Any, n_ways: int, a_hi: Any, a_lo: Any, c_hi: Any, c_lo: Any) -> None:
    """Every way moves on as after :func:`fill_ways`, without the outputs (skipped draws)."""
    for i in range(n_ways):
        hi, lo = _mul128_limbs(at(rng, _WAY_HI + i), at(rng, _WAY_LO + i), a_hi, a_lo)
        lo2 = lo + c_lo
        carry = np.uint64(1) if lo2 < lo else np.uint64(0)
        put(rng, _WAY_HI + i, hi + c_hi + carry)
        put(rng, _WAY_LO + i, lo2)
