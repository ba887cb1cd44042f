"""The benchmark behind docs/speed.md (`make bench`): bench.py times the lesson's update
against its floor (sgemm_floor.c, the BLAS's own single-thread SGEMM), the same network in
plain NumPy (reference.py, also the tests' independent oracle), and PyTorch and JAX in
venvs of their own (bench_peer.py, requirements-torch.txt, requirements-jax.txt: `make
peers`). Speed is reported as ratios measured in one run, never asserted in tests.
"""
