"""tools/bench.py's peers: run by their own venv's python, on the benchmark's orders."""
import sys

import numpy as np
import pytest

from tools import bench
from tools.reference import NumpyMLP


@pytest.fixture(scope="module")
def setup():
    start, data = bench.starting_point((256, 64))
    return start, data, bench.batches(data, 12), bench.batches(data, 30)


def test_a_peer_trains_on_orders_as_the_reference_does(setup, tmp_path, monkeypatch):
    start, data, check_rows, timing_rows = setup
    # The NumPy reference as a peer, run by this very python: the same protocol as torch and jax.
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\nexec "%s" "$@"\n' % sys.executable)
    python.chmod(0o755)
    monkeypatch.setattr(bench, "PEERS", [("numpy", "NumPy peer", str(tmp_path / "venv"))])
    peers, absent = bench.start_peers(start, data, check_rows, timing_rows, 10, str(tmp_path))
    assert absent == [] and [peer.name for peer in peers] == ["NumPy peer"]
    peer = peers[0]
    reference = NumpyMLP(start)
    expected = [reference.train_batch(data.train[rows], data.train_targets[rows]) for rows in check_rows]
    np.testing.assert_allclose(peer.check(), expected, rtol=1e-6)
    peer.reset()
    steps, evals = peer.chunk(0, 25)
    assert len(steps) == 25 and len(evals) == 2 and all(seconds > 0 for seconds in steps + evals)
    assert peer.quit() > 10  # its own peak resident memory, in MB
    assert peer.process.returncode == 0


def test_missing_or_broken_peers_are_reported_not_compared(setup, tmp_path, monkeypatch):
    start, data, check_rows, timing_rows = setup
    broken = tmp_path / "broken" / "bin"
    broken.mkdir(parents=True)
    (broken / "python").write_text("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n")
    (broken / "python").chmod(0o755)
    monkeypatch.setattr(bench, "PEERS", [("torch", "PyTorch eager", str(tmp_path / "broken")),
                                         ("jax", "JAX jit", str(tmp_path / "absent"))])
    peers, absent = bench.start_peers(start, data, check_rows, timing_rows, 10, str(tmp_path))
    assert peers == []
    assert absent == ["PyTorch eager (it did not start in %s: ModuleNotFoundError: No module named 'torch')"
                      % (tmp_path / "broken"),
                      "JAX jit (no %s: make peers)" % (tmp_path / "absent")]
