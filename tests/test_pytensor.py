"""PyTensor, Theano's successor: the lesson's graph in benchmark/pytensor_peer.py gives Theano's numbers.

The PyTensor side runs in .venv-pytensor (`make peers` or `make pytensor-venv`, on a
Python 3.12 to 3.14) as a process of its own, trained from the Theano model's
starting weights on the same batches; the two exchange arrays through .npz files.
Where that venv is missing the test skips, with one line; in CI (CI=true), on a
Python where CI builds it (3.12 to 3.14), it fails instead. The C back end is
tested always; the Numba back end, whose first compile takes over a minute, where
GENRE_MLP_PYTENSOR_NUMBA=1 (`make bench` checks its losses too). The benchmark's
PyTensor peers start with float32 and Theano's BLAS and train as the NumPy reference
does. docs/pytensor.md must show the peer's model cell exactly.
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, separable

PYTENSOR_VENV = os.path.join(ROOT, ".venv-pytensor")
PEER = os.path.join(ROOT, "benchmark", "pytensor_peer.py")
SUPPORTED = ((3, 12), (3, 13), (3, 14))   # PyTensor 3.3's Pythons
UPDATES, TOLERANCE = 200, 1e-5


@pytest.fixture(scope="module")
def pytensor_python():
    python = os.path.join(PYTENSOR_VENV, "bin", "python")
    if os.path.exists(os.path.join(PYTENSOR_VENV, ".ready")):
        return python
    here = "%d.%d" % sys.version_info[:2]
    if sys.version_info[:2] not in SUPPORTED:
        pytest.skip("PyTensor 3.3 supports Python 3.12 to 3.14, not %s, and there is no .venv-pytensor "
                    "(make pytensor-venv builds it with one of those, if this machine has one)" % here)
    if os.environ.get("CI"):
        pytest.fail("CI must compare PyTensor with Theano on Python %s, but there is no .venv-pytensor "
                    "(make pytensor-venv)" % here)
    pytest.skip("PyTensor is not set up here: no .venv-pytensor (make pytensor-venv)")


def train_both(model, genre_mlp, python, mode, folder):
    """200 updates of Theano's model and of PyTensor's, from the same start on the same batches."""
    rng = np.random.RandomState(11)
    pool = separable(400, 12)
    rows = rng.randint(0, len(pool), size=(UPDATES, genre_mlp.BATCH_SIZE))
    inputs, targets = pool[rows], (rows >= len(pool) // 2).astype(np.float32)
    start = {"param%d" % i: param.get_value() for i, param in enumerate(model.params)}
    np.savez(str(folder / "in.npz"), learning_rate=genre_mlp.LEARNING_RATE, inputs=inputs, targets=targets, **start)
    flags = "floatX=float32,blas__ldflags=" + genre_mlp.theano.config.blas.ldflags
    result = subprocess.run([python, PEER, mode, str(folder / "in.npz"), str(folder / "out.npz")],
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, PYTENSOR_FLAGS=flags))
    assert result.returncode == 0, result.stderr[-3000:]
    theano_losses = np.array([model.train_batch(x, t) for x, t in zip(inputs, targets)])
    with np.load(str(folder / "out.npz")) as seen:
        seen = {key: seen[key] for key in seen.files}
    return start, theano_losses, [param.get_value() for param in model.params], seen


@pytest.mark.parametrize("mode", [
    "CVM",
    pytest.param("NUMBA", marks=pytest.mark.skipif(
        os.environ.get("GENRE_MLP_PYTENSOR_NUMBA") != "1",
        reason="the Numba back end's first compile takes over a minute: GENRE_MLP_PYTENSOR_NUMBA=1 runs it"))])
def test_pytensor_trains_as_theano_does(model, genre_mlp, pytensor_python, mode, tmp_path):
    start, theano_losses, theano_params, seen = train_both(model, genre_mlp, pytensor_python, mode, tmp_path)
    assert str(seen["version"]) == "3.3.7"
    losses = seen["losses"]
    assert losses.shape == (UPDATES,) and np.all(np.isfinite(losses))
    assert abs(theano_losses[-1] - theano_losses[0]) > 100 * TOLERANCE   # it learned: the losses moved
    differences = [float(np.max(np.abs(losses - theano_losses)))]
    for i, theirs in enumerate(theano_params):
        ours = seen["param%d" % i]
        assert ours.dtype == np.float32 and ours.shape == theirs.shape
        assert np.max(np.abs(theirs - start["param%d" % i])) > 100 * TOLERANCE  # every parameter moved
        differences.append(float(np.max(np.abs(ours - theirs))))
    print("PyTensor %s against Theano after %d updates: largest difference %.2g (losses %.2g)"
          % (mode, UPDATES, max(differences), differences[0]))
    assert max(differences) < TOLERANCE, differences
    if mode == "CVM":
        # The C back end ran the products through the BLAS (Gemm, Dot22...), not NumPy's fallback.
        assert any(op.startswith(("Gemm", "Dot22", "Gemv", "Ger")) for op in seen["ops"]), seen["ops"]


def model_cell(text):
    return re.search(r"^# model cell\n(.*?)^# end of model cell\n", text, re.S | re.M).group(1)


def test_docs_show_the_peers_model_cell_exactly():
    with open(PEER) as peer, open(os.path.join(ROOT, "docs", "pytensor.md")) as page:
        cell, shown = model_cell(peer.read()), page.read()
    assert "class Model" in cell and "pytensor.function" in cell
    assert "```python\n" + cell + "```\n" in shown


def test_the_benchmark_runs_both_back_ends_with_float32_and_theanos_blas(pytensor_python, tmp_path, monkeypatch):
    from benchmark import bench
    from benchmark.reference import NumpyMLP
    monkeypatch.setitem(bench.PEER_ENVIRONMENT, "PYTENSOR_FLAGS", "optimizer_verbose=False")
    flags = bench.peer_environment("pytensor-c")["PYTENSOR_FLAGS"]
    assert flags == "floatX=float32,blas__ldflags=%s,optimizer_verbose=False" % bench.genre_mlp.theano.config.blas.ldflags
    assert bench.peer_environment("torch") is bench.PEER_ENVIRONMENT  # the other peers get the user's, untouched
    # The Numba peer too where GENRE_MLP_PYTENSOR_NUMBA=1: its first compile takes over a minute.
    keys = ["pytensor", "pytensor-c"] if os.environ.get("GENRE_MLP_PYTENSOR_NUMBA") == "1" else ["pytensor-c"]
    monkeypatch.setattr(bench, "PEERS", [peer for peer in bench.PEERS if peer[0] in keys])
    start, data = bench.starting_point((256, 64))
    check_rows, timing_rows = bench.batches(data, 20), bench.batches(data, 10)
    peers, absent = bench.start_peers(start, data, check_rows, timing_rows, 5, str(tmp_path))
    assert absent == [] and [peer.name for peer in peers] == ["PyTensor Numba", "PyTensor C"][-len(keys):]
    reference = NumpyMLP(start)
    expected = [reference.train_batch(data.train[rows], data.train_targets[rows]) for rows in check_rows]
    try:
        for peer in peers:
            assert peer.version == "3.3.7"
            np.testing.assert_allclose(peer.check(), expected, rtol=1e-5)
    finally:
        for peer in peers:
            peer.quit()
    assert [peer.threads.split(",")[0] for peer in peers] == ["Numba", "Theano's BLAS"][-len(keys):]
