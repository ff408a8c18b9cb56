"""The NumPy reference engine: the model as whole-array NumPy operations, for tests only.

This is the engine Spiral Lab ran before the compiled kernel (:mod:`spirallab.model.kernel`),
kept as an independent second writing of the same rules. Its only changes since are that it
uses the model's own float32 exp and pow (:mod:`spirallab.model.f32math`) and adds the
network's attention demand country by country, as the kernel does. Tests check that the two
agree bit for bit over a matrix of seeds, switches, levers, step lengths, chunkings and workers
(``tests/model/test_kernel.py``), so a change to a rule in one that is not made in the other
fails there. Users never run it.
"""
