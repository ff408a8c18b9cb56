"""Instruction counts of the compiled kernel's pass-2 lane loops (the vector loops of the rules).

Compiles ``kernel.run_tile`` afresh (Numba shows no machine code for cached code), takes its
machine code (``inspect_asm``) and prints, for every pass-2 lane loop (a loop that holds 16-lane
divisions, ``vdivps`` on zmm registers, which only pass 2's rules have), its instructions, its
mask-register instructions (``k...``: moves, ands, ors, nots of the AVX-512 masks), the
instructions that read or write a mask register (compares into masks and masked moves too) and
its stack accesses (spills and reloads). Since the sixth pass run_tile is compiled apart for
runs with and without shock levers (``kernel.shock_levers``): world-150 as it is shows the
version without them, ``--levers`` (every lever kind) the version with them; since the seventh
both have every mechanism switch on, the version that holds the switches as a constant
(``kernel.all_switches_on``).

    python benchmarks/kernel_asm.py [--levers] [--save kernel.s]
"""

from __future__ import annotations

import argparse
import re

from spirallab import Scenario, simulate
from spirallab.model import kernel
from spirallab.model.f32math import njit
from spirallab.model.setup import LEVER_KINDS
from spirallab.scenarios.load import load_scenario

Instruction = tuple[str, str]


def parse(asm: str) -> tuple[list[Instruction], dict[str, int]]:
    """The instructions (mnemonic, operands) and where each label points."""
    labels: dict[str, int] = {}
    code: list[Instruction] = []
    for line in asm.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = re.match(r"^(\.?[\w$.]+):", s)
        if m:
            labels[m.group(1)] = len(code)
        elif not s.startswith("."):
            op, _, args = s.partition("\t") if "\t" in s else s.partition(" ")
            code.append((op.strip(), args.strip()))
    return code, labels


def counts(body: list[Instruction]) -> dict[str, int]:
    """What the module docstring lists, for one loop body."""
    return {
        "instructions": len(body),
        "mask_instructions": sum(op.startswith("k") for op, _ in body),
        "touching_masks": sum(op.startswith("k") or bool(re.search(r"%k\d", a)) for op, a in body),
        "stack_accesses": sum("(%rsp)" in a or "(%rbp)" in a for _, a in body),
        "zmm_divisions": sum(op == "vdivps" and "%zmm" in a for op, a in body),
    }


def pass2_loops(code: list[Instruction], labels: dict[str, int]) -> list[tuple[int, int]]:
    """The lane loops: back-edge ranges of at least 200 instructions holding zmm divisions.

    A range that holds another such range (the step loop around both copies) is dropped, and of
    two that overlap (one loop, two back edges) the shorter is kept.
    """
    loops = []
    for i, (op, arg) in enumerate(code):
        if op.startswith("j") and arg in labels and labels[arg] <= i:
            loops.append((labels[arg], i))
    big = [
        (a, b) for a, b in loops if b - a >= 200 and counts(code[a : b + 1])["zmm_divisions"] > 0
    ]
    inner = [
        (a, b) for a, b in big if not any((c, d) != (a, b) and a <= c and d <= b for c, d in big)
    ]
    kept: list[tuple[int, int]] = []
    for a, b in sorted(inner, key=lambda r: r[1] - r[0]):
        if not any(a <= d and c <= b for c, d in kept):
            kept.append((a, b))
    return sorted(kept)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--save", help="also write the kernel's assembly to this file")
    ap.add_argument("--levers", action="store_true", help="the version with the shock levers")
    args = ap.parse_args()
    d = load_scenario("world-150").model_dump(mode="json")
    if args.levers:
        d["levers"] = [{"kind": k, "start": 1960, "end": 2000} for k in LEVER_KINDS]
    # A fresh dispatcher, compiled here: Numba shows no machine code for a cached one.
    fresh = njit(nogil=True, error_model="numpy", _nrt=False)(kernel.run_tile.py_func)
    cached, kernel.run_tile = kernel.run_tile, fresh
    try:
        simulate(Scenario.model_validate(d), replicates=8, seed=0, events=False)
    finally:
        kernel.run_tile = cached
    asm = fresh.inspect_asm(fresh.signatures[0])
    if args.save:
        with open(args.save, "w") as f:
            f.write(asm)
    code, labels = parse(asm)
    for a, b in pass2_loops(code, labels):
        c = counts(code[a : b + 1])
        print(f"loop at instruction {a}: " + ", ".join(f"{k} {v}" for k, v in c.items()))


if __name__ == "__main__":
    main()
