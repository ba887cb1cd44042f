"""benchmark/bench.py: its peers, run by their own venv's python on its orders; its floor; its --json figures.

Nothing here asserts a time: only that figures exist, are positive and agree with one another."""
import json
import sys

import numpy as np
import pytest

from benchmark import bench
from benchmark.reference import NumpyMLP


@pytest.fixture(scope="module")
def setup():
    start, data = bench.starting_point((256, 64))
    return start, data, bench.batches(data, 12), bench.batches(data, 30)


def numpy_peer_venv(folder):
    """A 'venv' whose python is this one, so that the NumPy reference runs as a peer."""
    python = folder / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\nexec "%s" "$@"\n' % sys.executable)
    python.chmod(0o755)
    return str(folder / "venv")


def test_a_peer_trains_on_orders_as_the_reference_does(setup, tmp_path, monkeypatch):
    start, data, check_rows, timing_rows = setup
    # The NumPy reference as a peer: the same protocol as torch and jax.
    monkeypatch.setattr(bench, "PEERS", [("numpy", "NumPy peer", numpy_peer_venv(tmp_path))])
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


def test_json_holds_every_figure_the_table_prints(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "PEERS", [("numpy", "NumPy peer", numpy_peer_venv(tmp_path))])
    path = tmp_path / "figures.json"
    path.write_text("an older run's figures")
    bench.main(["--quick", "--updates", "30", "--json", str(path)])
    printed = capsys.readouterr().out
    figures = json.loads(path.read_text())
    assert [name for name in figures["frameworks"]] == ["Theano", "NumPy", "NumPy peer"]
    for name, row in figures["frameworks"].items():
        for key in ("us_per_update", "p10_us", "p90_us", "total_s", "x_theano", "x_floor"):
            assert row[key] > 0, (name, key)
        assert row["x_floor"] == pytest.approx(row["us_per_update"] / figures["floor_us"])
        assert "thread" in row["threads"], name
    assert figures["frameworks"]["Theano"]["threads"] == "one BLAS thread"
    assert "Peers, each with its default threads on" in printed
    assert figures["frameworks"]["NumPy peer"]["peak_mb"] > 10  # --quick measures only the peers' memory
    for key in ("theano_us_per_update", "floor_us", "peak_gflops", "products_us", "sample_us", "evaluation_ms"):
        assert figures[key] > 0, key
    # An update of 1200-256-64-1 on 16 rows: three products per layer (forward, gradient, error sent
    # back), but no error sent back to the input.
    sizes, batch = [1200, 256, 64, 1], 16
    layers = [m * n for m, n in zip(sizes[:-1], sizes[1:])]
    assert figures["flops_per_update"] == 2 * batch * (2 * sum(layers) + sum(layers[1:]))
    assert figures["floor_us"] == pytest.approx(figures["flops_per_update"] / figures["peak_gflops"] / 1e3)
    assert figures["theano_x_floor"] == pytest.approx(figures["theano_us_per_update"] / figures["floor_us"])
    assert figures["theano_lead_over_fastest_other"] == pytest.approx(
        min(figures["frameworks"][name]["us_per_update"] for name in ("NumPy", "NumPy peer"))
        / figures["theano_us_per_update"])
    assert list(figures["end_to_end"]) == ["warm"]  # --quick: no cold compile
    assert figures["end_to_end"]["warm"]["seconds"] > 0 and figures["end_to_end"]["warm"]["peak_mb"] > 10
    assert max(figures["loss_differences"].values()) < bench.TOLERANCE
    assert figures["updates"] == 30 and figures["network"] == sizes
    # The table prints the same figures.
    rows = {line[:14].strip(): line[14:].split() for line in printed.splitlines()}
    assert float(rows["Theano"][0]) == round(figures["theano_us_per_update"])
    assert float(rows["products (C)"][0]) == round(figures["products_us"])
    assert rows["floor (peak)"][0] == "%.0f" % figures["floor_us"] and rows["floor (peak)"][-1] == "1.00"
    assert "Wrote every figure to %s." % path in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures.json", "venv"]  # no temporary file left


def test_json_into_a_missing_folder_fails_before_timing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        bench.main(["--json", str(tmp_path / "absent" / "figures.json")])
    assert exit.value.code == "error: --json %s: its folder does not exist; create it first" \
        % (tmp_path / "absent" / "figures.json")
    assert capsys.readouterr().out == ""  # nothing timed, nothing printed


def test_a_floor_that_cannot_be_built_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(bench.genre_mlp.theano.config.blas, "ldflags", "-lno_such_blas")
    floor = bench.Floor(str(tmp_path), 16, (1200, 256, 64, 1))
    floor()
    assert floor.figures() is None
    assert floor.error.startswith("gcc could not build benchmark/sgemm_floor.c: ") and "no_such_blas" in floor.error
