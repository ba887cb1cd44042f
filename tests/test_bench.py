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


# ---------------------------------------------------------------------------
# The arithmetic behind every derived column, from made-up timings worked out by hand
# ---------------------------------------------------------------------------
MADE_UP = dict(
    names=["Theano", "NumPy", "PyTorch eager", "JAX jit"], wrong={"JAX jit"},
    differences={"Theano": 0.0, "NumPy": 1e-7, "PyTorch eager": 2e-6, "JAX jit": 0.5},
    threads={"Theano": "one BLAS thread", "NumPy": "one BLAS thread", "PyTorch eager": "2 threads",
             "JAX jit": "2 threads"},
    compile_seconds={"Theano": 1.5, "NumPy": 0.0, "PyTorch eager": 0.25, "JAX jit": 3.0},
    step_times={"Theano": [100e-6, 120e-6, 110e-6, 300e-6, 90e-6], "NumPy": [200e-6, 220e-6, 240e-6, 260e-6, 280e-6],
                "PyTorch eager": [400e-6] * 5},
    eval_times={"Theano": [1.0, 4.0, 2.0], "NumPy": [0.5, 0.5, 0.75], "PyTorch eager": [0.25] * 3},
    floor=(21.2e6, 150e-6, 169.6e9),   # FLOPs, the products' seconds, the peak FLOP/s
    no_floor=None, sample_seconds=5.5e-6,
    e2e={"cold": (20.0, 300.0, 11.7), "warm": (2.25, 250.0, 0.25)},  # seconds, peak MB, compiling
    memory={"Theano": 180.0, "NumPy": 90.0})


@pytest.fixture
def made_up_table():
    class Data:
        test = np.zeros((2000, 1200), np.float32)
    return bench.figures(MADE_UP, (256, 64), 2000, Data())


def test_each_figure_from_made_up_timings(made_up_table):
    table = made_up_table
    assert table["theano_us_per_update"] == pytest.approx(110)          # the median of 90..300
    assert table["floor_us"] == pytest.approx(125)                      # 21.2 MFLOP at 169.6 GFLOP/s
    assert table["peak_gflops"] == pytest.approx(169.6) and table["products_us"] == pytest.approx(150)
    assert table["theano_x_floor"] == pytest.approx(0.88)               # 110 / 125
    theano, numpy, torch = (table["frameworks"][name] for name in ("Theano", "NumPy", "PyTorch eager"))
    assert table["frameworks"]["JAX jit"] == {"wrong": True}
    # Percentiles by linear interpolation: 10% of the way is 0.4 of a step past the smallest.
    assert (theano["p10_us"], theano["p90_us"]) == (pytest.approx(94), pytest.approx(228))
    assert (numpy["p10_us"], numpy["p90_us"]) == (pytest.approx(208), pytest.approx(272))
    assert theano["total_s"] == pytest.approx(7.00072)                  # 720 us of steps and 7 s of evaluations
    assert numpy["total_s"] == pytest.approx(1.7512) and torch["total_s"] == pytest.approx(0.752)
    assert numpy["x_theano"] == pytest.approx(240 / 110) and torch["x_theano"] == pytest.approx(400 / 110)
    assert numpy["x_floor"] == pytest.approx(1.92) and torch["x_floor"] == pytest.approx(3.2)
    assert theano["x_theano"] == 1 and theano["x_floor"] == pytest.approx(0.88)
    assert (theano["peak_mb"], numpy["peak_mb"], torch["peak_mb"]) == (180.0, 90.0, None)
    assert torch["compile_s"] == 0.25 and torch["threads"] == "2 threads"
    assert table["theano_lead_over_fastest_other"] == pytest.approx(240 / 110)  # NumPy, JAX being wrong
    assert table["evaluation_ms"] == pytest.approx(2000) and table["sample_us"] == pytest.approx(5.5)
    assert table["end_to_end"] == {"cold": {"seconds": 20.0, "compile_seconds": 11.7, "peak_mb": 300.0},
                                   "warm": {"seconds": 2.25, "compile_seconds": 0.25, "peak_mb": 250.0}}


def test_the_table_prints_the_figures_in_their_units(made_up_table, capsys):
    bench.show(made_up_table)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == ("One update: 21.2 MFLOP. This machine's single-thread SGEMM peak is 170 GFLOP/s, so the floor "
                        "is 125 us; the update's 8 matrix products alone, in C through Theano's BLAS, take 150 us "
                        "(141 GFLOP/s).")
    rows = {line[:14].strip(): line[14:].split() for line in lines[4:10]}
    assert rows["Theano"] == ["110", "94-228", "7.00", "1.50", "180", "1.00", "0.88"]
    assert rows["NumPy"] == ["240", "208-272", "1.75", "0.00", "90", "2.18", "1.92"]
    assert rows["PyTorch eager"] == ["400", "400-400", "0.75", "0.25", "-", "3.64", "3.20"]
    assert lines[4 + 3].startswith("JAX jit        wrong: its losses differ from Theano's by 0.5 (> 0.0001) over 200")
    # The floor's rows: 2000 updates at 150 and at 125 us.
    assert rows["products (C)"] == ["150", "-", "0.30", "-", "-", "1.36", "1.20"]
    assert rows["floor (peak)"] == ["125", "-", "0.25", "-", "-", "1.14", "1.00"]
    assert lines[10] == ""
    assert lines[11] == ("Theano: one evaluation on 2000 rows takes 2000.0 ms; drawing a batch takes 5.5 us "
                         "(5.0% of an update)")
    assert lines[12] == "Theano is 2.18x faster than the fastest other framework here."
    assert lines[13:] == [
        "python genre_mlp.py --updates 2000, cold compile cache: 20.0 s in all (compiling 11.7 s), peak 300 MB",
        "python genre_mlp.py --updates 2000, warm compile cache: 2.2 s in all (compiling 0.2 s), peak 250 MB",
        "Losses over the first 200 updates, largest difference from Theano's: NumPy 1e-07, PyTorch eager 2e-06, "
        "JAX jit 0.5"]


# ---------------------------------------------------------------------------
# --lesson cnn: genre_cnn.py's network, its peers and its floor
# ---------------------------------------------------------------------------
CNN = ((32, 31, 4), (32, 31, 3), (48, 15, 2), (48, 15, 2))  # genre_cnn.LAYERS, written out


def test_the_cnn_floor_counts_the_updates_products_worked_out_by_hand(tmp_path):
    # Each convolution after im2col: filters x (channels * width) by (channels * width) x (16 * steps out),
    # forwards, for the kernels' gradient and (not the first layer) for its input's; steps 300, 100, 50, 25.
    assert bench.cnn_products(CNN, 16, 1200) == [(32, 16 * 300, 1 * 31, 2), (32, 16 * 100, 32 * 31, 3),
                                                 (48, 16 * 50, 32 * 15, 3), (48, 16 * 25, 48 * 15, 3),
                                                 (16, 64, 48 * 25, 3), (16, 1, 64, 3)]
    by_hand = (2 * 2 * 4761600        # 16 * 300 * 32 * 31 multiply-adds, twice
               + 3 * 2 * 50790400     # 16 * 100 * 32 * 32 * 31
               + 3 * 2 * 18432000     # 16 * 50 * 48 * 32 * 15
               + 3 * 2 * 13824000     # 16 * 25 * 48 * 48 * 15
               + 3 * 2 * (16 * 1200 * 64 + 16 * 64))
    assert by_hand == 524703744
    floor = bench.Floor(str(tmp_path), 16, bench.floor_sizes(CNN, 16), repeats=2)
    floor()
    assert floor.error is None and floor.figures()[0] == by_hand  # the C program counts the same
    assert floor.figures()[1] > 0 and floor.figures()[2] > 0


def test_cnn_peers_train_as_genre_cnns_theano_graph(tmp_path):
    """PyTorch's conv1d and JAX's conv_general_dilated, with Adam, from Theano's start on its batches."""
    present = [(key, name, venv) for key, name, venv in bench.PEERS
               if key in bench.CNN_PEERS and (bench.os.path.exists(bench.os.path.join(bench.ROOT, venv, "bin", "python")))]
    if not present:
        pytest.skip("no .venv-torch or .venv-jax (make peers)")
    network = tuple(bench.genre_cnn().LAYERS)
    assert network == CNN
    start, data = bench.starting_point(network)
    rows = bench.batches(data, 5)
    theano = bench.theano_trainer(start, network, bench.learning_rate_of(network))
    expected = [theano.train_batch(data.train[r], data.train_targets[r]) for r in rows]
    peers, absent = bench.start_peers(start, data, rows, rows, 10, str(tmp_path), network)
    try:
        assert [peer.name for peer in peers] == [name for _, name, _ in present] and len(absent) == 2 - len(present)
        for peer in peers:
            np.testing.assert_allclose(peer.check(), expected, atol=1e-5, err_msg=peer.name)
    finally:
        for peer in peers:
            peer.process.kill()


def test_the_cnn_has_no_numpy_or_pytensor_peer_and_no_hidden_sizes(capsys):
    assert [name for name, _ in bench.frameworks(CNN)] == ["theano"]
    assert [key for key, _, _ in bench.peers_for(CNN)] == ["torch", "jax"]
    assert [key for key, _, _ in bench.peers_for((256, 64))] == ["torch", "jax", "pytensor", "pytensor-c"]
    with pytest.raises(SystemExit):
        bench.main(["--lesson", "cnn", "--hidden", "64"])
    assert "--hidden is the MLP's" in capsys.readouterr().err
