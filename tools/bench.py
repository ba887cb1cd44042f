#!/usr/bin/env python3
"""How fast does the lesson train? Theano against this machine's floor and other frameworks.

    python tools/bench.py              # the full run, a few minutes
    python tools/bench.py --quick      # about 30 s
    python tools/bench.py --hidden 512 128 --updates 2000

It times, interleaved (each framework trains a chunk of updates in turn, so a
noisy neighbour slows all alike):
- the lesson's Theano graph, imported from genre_mlp.py (not copied);
- the same network in plain NumPy (tools/reference.py), in this process;
- the same network in PyTorch (eager) and JAX (jit), each in a process of its
  own, run by the Python of its own venv: `make peers` makes .venv-torch and
  .venv-jax (tools/requirements-torch.txt, tools/requirements-jax.txt). They are
  never installed into the lesson's venv, where they would lift NumPy to 2.x and
  setuptools past pkg_resources, which Theano 1.0.5 needs. A peer whose venv is
  missing is reported as not compared. tools/bench_peer.py trains them, on this
  process's orders, from the same start on the same batches.
Each framework must first match Theano's losses over 200 updates from the same
start and batches to 1e-4, or it is reported as wrong and not timed;
- the floor: the matrix products of one update alone, through the same OpenBLAS
  that Theano links, and this machine's single-precision GEMM peak;
- the data path (DataServer.get_train_sample) against an update;
- `python genre_mlp.py` end to end with an empty and a warm compile cache.
Peak memory is each framework's own process training the network (for a peer,
its process, which has also run the correctness check).
Every framework runs its BLAS on one thread, as genre_mlp.py does.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS: same for all
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse
import ctypes
import json
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np

import genre_mlp
from tools.reference import NumpyMLP

CHUNK = 250          # updates each framework trains before the next takes its turn
CHECK_UPDATES = 200  # updates over which every framework must match Theano's losses
TOLERANCE = 1e-4


# ---------------------------------------------------------------------------
# The same network in each framework: train_batch(x, t) -> loss, evaluate(x, t)
# ---------------------------------------------------------------------------
class Trainer(object):
    def __init__(self, name, train_batch, evaluate, compile_seconds=0.0):
        self.name, self.train_batch, self.evaluate = name, train_batch, evaluate
        self.compile_seconds = compile_seconds


def theano_trainer(start, hidden, learning_rate):
    model = genre_mlp.Model(hidden, learning_rate)
    for param, value in zip(model.params, start):
        param.set_value(value.copy())
    return Trainer("Theano", model.train_batch, model.evaluate, model.compile_seconds)


def numpy_trainer(start, hidden, learning_rate):
    net = NumpyMLP(start, learning_rate)
    return Trainer("NumPy", net.train_batch, lambda x, t: (net.predict(x)[0], net.cost(x, t)))


FRAMEWORKS = [("theano", theano_trainer), ("numpy", numpy_trainer)]   # in this process
PEERS = [("torch", "PyTorch eager", ".venv-torch"), ("jax", "JAX jit", ".venv-jax")]  # in their own venvs
PEER_SCRIPT = os.path.join(ROOT, "tools", "bench_peer.py")


class PeerError(Exception):
    pass


class Peer(object):
    """A framework trained by tools/bench_peer.py in its own venv's Python, on this process's orders."""

    def __init__(self, key, name, python, setup_path, log_path):
        self.name = name
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.process = subprocess.Popen([python, PEER_SCRIPT, key, setup_path], cwd=ROOT, text=True,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        ready = self.ask(None)
        self.version, self.compile_seconds = ready["version"], ready["compile_seconds"]

    def ask(self, order):
        if order is not None:
            self.process.stdin.write(order + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            with open(self.log_path) as log:
                said = [text for text in log.read().splitlines() if text.strip()]
            raise PeerError(said[-1] if said else "it exited with status %s" % self.process.wait())
        return json.loads(line)

    def check(self):
        return np.array(self.ask("check")["losses"])

    def reset(self):
        self.compile_seconds = self.ask("reset")["compile_seconds"]

    def chunk(self, first, last):
        answer = self.ask("chunk %d %d" % (first, last))
        return answer["steps"], answer["evals"]

    def quit(self):
        peak_mb = self.ask("quit")["peak_kB"] / 1024.0
        self.process.wait()
        return peak_mb


def start_peers(start, data, check_rows, timing_rows, eval_step, folder):
    """The peers whose venv exists, started and ready; and a line on each one that is not."""
    setup_path = os.path.join(folder, "setup.npz")
    arrays = {"param%d" % i: value for i, value in enumerate(start)}
    np.savez(setup_path, num_params=len(start), learning_rate=genre_mlp.LEARNING_RATE, eval_step=eval_step,
             train=data.train, train_targets=data.train_targets, test=data.test, test_targets=data.test_targets,
             check_rows=check_rows, timing_rows=timing_rows, **arrays)
    peers, absent = [], []
    for key, name, venv in PEERS:
        python = os.path.join(ROOT, venv, "bin", "python")
        if not os.path.exists(python):
            absent.append("%s (no %s: make peers)" % (name, venv))
            continue
        try:
            peers.append(Peer(key, name, python, setup_path, os.path.join(folder, key + ".log")))
        except PeerError as error:
            absent.append("%s (it did not start in %s: %s)" % (name, venv, error))
    return peers, absent


# ---------------------------------------------------------------------------
# The floor: one update's matrix products, through the BLAS Theano links
# ---------------------------------------------------------------------------
def blas_sgemm():
    """Row-major C = A @ B through scipy-openblas32's sgemm (the library genre_mlp.py links)."""
    import scipy_openblas32
    library = ctypes.CDLL(os.path.join(scipy_openblas32.get_lib_dir(),
                                       "lib%s.so" % scipy_openblas32.get_library()))
    sgemm = library.scipy_sgemm_
    one, zero, no = ctypes.c_float(1), ctypes.c_float(0), ctypes.c_char(b"N")

    def prepared(A, B, C):
        # Column-major BLAS sees row-major arrays transposed: C^T = B^T A^T.
        m, k = A.shape
        n = B.shape[1]
        ints = [ctypes.c_int(v) for v in (n, m, k, n, k, n)]
        pointers = [array.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for array in (B, A, C)]
        args = (ctypes.byref(no), ctypes.byref(no), ctypes.byref(ints[0]), ctypes.byref(ints[1]),
                ctypes.byref(ints[2]), ctypes.byref(one), pointers[0], ctypes.byref(ints[3]),
                pointers[1], ctypes.byref(ints[4]), ctypes.byref(zero), pointers[2], ctypes.byref(ints[5]))
        return lambda: sgemm(*args)
    return prepared


def update_products(batch, sizes):
    """(A, B) for every matrix product of one SGD update: forward, and backward to each weight."""
    rng = np.random.RandomState(0)

    def matrix(*shape):
        return rng.standard_normal(shape).astype(np.float32)
    products = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        products.append((matrix(batch, fan_in), matrix(fan_in, fan_out)))   # activations @ W
        products.append((matrix(fan_in, batch), matrix(batch, fan_out)))    # the gradient of W
    for fan_in, fan_out in zip(sizes[1:-1], sizes[2:]):
        products.append((matrix(batch, fan_out), matrix(fan_out, fan_in)))  # the error sent back
    return products


def median_seconds(call, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def measure_floor(batch, sizes, repeats):
    prepared = blas_sgemm()
    calls = [prepared(A, B, np.empty((A.shape[0], B.shape[1]), np.float32))
             for A, B in update_products(batch, sizes)]
    flops = sum(2.0 * A.shape[0] * A.shape[1] * B.shape[1] for A, B in update_products(batch, sizes))

    def all_products():
        for call in calls:
            call()
    for _ in range(50):
        all_products()
    products_seconds = median_seconds(all_products, repeats)
    big = np.ones((1024, 1024), np.float32)
    big_call = prepared(big, big, np.empty_like(big))
    big_call()
    peak = 2.0 * 1024 ** 3 / median_seconds(big_call, 10)
    return flops, products_seconds, peak


# ---------------------------------------------------------------------------
# Whole processes: the script end to end, and each framework's peak memory
# ---------------------------------------------------------------------------
# Runs a script and reports its own peak memory (VmHWM). A child's rusage would not do:
# Linux carries the forking parent's resident size, this whole benchmark's, over exec.
PEAK_REPORTER = """import runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    peak = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")]
    print("peak-kB", peak[0], file=sys.stderr)
"""


def run_measured(script_and_args, env=None):
    """Run a Python script; returns (seconds, its peak resident MB, its output)."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK_REPORTER] + script_and_args, capture_output=True,
                            text=True, env=dict(os.environ, **(env or {})), cwd=ROOT)
    seconds = time.perf_counter() - started
    peak = re.search(r"peak-kB (\d+)", result.stderr)
    if result.returncode != 0 or not peak:
        sys.exit("error: %s failed:\n%s" % (" ".join(script_and_args), (result.stdout + result.stderr)[-2000:]))
    return seconds, int(peak.group(1)) / 1024.0, result.stdout


def end_to_end(updates, cold):
    """`python genre_mlp.py` on the stand-in: with an empty compile cache, then a warm one.

    Without `cold`, only the warm run, in the usual cache (this process has just filled it).
    """
    command = [os.path.join(ROOT, "genre_mlp.py"), "--updates", str(updates),
               "--eval-step", str(max(updates // 10, 1))]
    results = {}
    with tempfile.TemporaryDirectory(prefix="theano-cache-") as cache:
        flags = ",".join(filter(None, [os.environ.get("THEANO_FLAGS", ""), "base_compiledir=" + cache]))
        for label in (["cold", "warm"] if cold else ["warm"]):
            seconds, peak_mb, output = run_measured(command, {"THEANO_FLAGS": flags} if cold else None)
            compile_seconds = float(re.search(r"compiling took ([\d.]+) s", output).group(1))
            results[label] = (seconds, peak_mb, compile_seconds)
    return results


def worker(name, hidden, updates):
    """Train one framework alone (for its peak memory): `bench.py --worker NAME`."""
    make = dict(FRAMEWORKS)[name]
    start, data = starting_point(hidden)
    trainer = make(start, hidden, genre_mlp.LEARNING_RATE)
    test_x, test_t = data.get_test()
    for update in range(1, updates + 1):
        trainer.train_batch(*data.get_train_sample(genre_mlp.BATCH_SIZE))
        if update % genre_mlp.EVAL_STEP == 0:
            trainer.evaluate(test_x, test_t)


# ---------------------------------------------------------------------------
# The interleaved timing
# ---------------------------------------------------------------------------
def starting_point(hidden):
    """The lesson's initial weights and a data set of the lesson's shape (random rows: speed only)."""
    sizes = (genre_mlp.SAMPLE_WIDTH,) + tuple(hidden) + (1,)
    random = np.random.RandomState(genre_mlp.SEED)
    start = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        start += [genre_mlp.init_values((fan_in, fan_out), random), genre_mlp.init_values((fan_out,), random)]
    rows = np.random.RandomState(1)
    arrays = tuple((0.1 * rows.standard_normal((n, genre_mlp.SAMPLE_WIDTH))).astype(np.float32)
                   for n in (8000, 2000))
    return start, genre_mlp.DataServer(arrays=arrays, seed=genre_mlp.SEED)


def batches(data, count):
    """The rows of `count` batches, drawn as DataServer draws them, so every framework gets the same."""
    return data.random.randint(0, len(data.train), size=(count, genre_mlp.BATCH_SIZE))


def check_losses(trainers, data, rows, reference):
    """Each trainer's losses over the check's batches; returns the largest difference from the reference."""
    losses = {}
    for trainer in trainers:
        if isinstance(trainer, Peer):
            losses[trainer.name] = trainer.check()
        else:
            losses[trainer.name] = np.array([trainer.train_batch(data.train[r], data.train_targets[r])
                                             for r in rows])
    return {name: float(np.max(np.abs(value - losses[reference]))) for name, value in losses.items()}


def chunk_here(trainer, data, rows, first, last, eval_step):
    """Updates first..last-1 of a trainer in this process; their seconds, and the evaluations'."""
    test_x, test_t = data.get_test()
    steps, evals = [], []
    for update in range(first, last):
        x, t = data.train[rows[update]], data.train_targets[rows[update]]
        started = time.perf_counter()
        trainer.train_batch(x, t)
        steps.append(time.perf_counter() - started)
        if (update + 1) % eval_step == 0:
            started = time.perf_counter()
            trainer.evaluate(test_x, test_t)
            evals.append(time.perf_counter() - started)
    return steps, evals


def timed_run(trainers, data, rows, eval_step):
    updates = len(rows)
    step_times = {t.name: [] for t in trainers}
    eval_times = {t.name: [] for t in trainers}
    for first in range(0, updates, CHUNK):
        last = min(first + CHUNK, updates)
        for trainer in trainers:
            if isinstance(trainer, Peer):
                steps, evals = trainer.chunk(first, last)
            else:
                steps, evals = chunk_here(trainer, data, rows, first, last, eval_step)
            step_times[trainer.name] += steps
            eval_times[trainer.name] += evals
    return step_times, eval_times


def main():
    parser = argparse.ArgumentParser(description="Benchmark the lesson's training (see the docstring).")
    parser.add_argument("--hidden", type=int, nargs="+", default=[genre_mlp.HIDDEN_1, genre_mlp.HIDDEN_2],
                        help="hidden layer sizes (default %(default)s)")
    parser.add_argument("--updates", type=int, default=genre_mlp.NUM_UPDATES, help="default %(default)s")
    parser.add_argument("--quick", action="store_true",
                        help="about 30 s: 1000 updates, a warm cache only, no memory runs")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    hidden = tuple(args.hidden)
    updates = 1000 if args.quick else args.updates
    eval_step = max(updates // 10, 1)
    if args.worker:
        return worker(args.worker, hidden, updates)

    start, data = starting_point(hidden)
    print("Benchmark: %d-%s-1 network, batch %d, %d updates, %d evaluations on %d rows; Theano on %s, BLAS: %s"
          % (genre_mlp.SAMPLE_WIDTH, "-".join(map(str, hidden)), genre_mlp.BATCH_SIZE, updates,
             updates // eval_step, len(data.test), genre_mlp.device_name(), genre_mlp.BLAS_NAME))
    check_rows, timing_rows = batches(starting_point(hidden)[1], CHECK_UPDATES), batches(data, updates)
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as folder:
        peers, absent = start_peers(start, data, check_rows, timing_rows, eval_step, folder)
        if absent:
            print("Not compared: %s" % "; ".join(absent))
        try:
            results = measure(args, hidden, start, data, peers, check_rows, timing_rows, eval_step)
        finally:
            for peer in peers:
                peer.process.kill()
    show(results, hidden, updates, data)


def measure(args, hidden, start, data, peers, check_rows, timing_rows, eval_step):
    """Every number of the table, in a dict."""
    # 1. Correctness first: the same losses from the same start and batches.
    checked = [maker(start, hidden, genre_mlp.LEARNING_RATE) for _, maker in FRAMEWORKS] + peers
    differences = check_losses(checked, data, check_rows, "Theano")
    # Fresh trainers from the same start for the timing: the check has moved these ones' weights.
    for peer in peers:
        peer.reset()
    trainers = [maker(start, hidden, genre_mlp.LEARNING_RATE) for _, maker in FRAMEWORKS] + peers
    wrong = {name for name, difference in differences.items() if difference > TOLERANCE}
    timed = [trainer for trainer in trainers if trainer.name not in wrong]

    # 2. Interleaved timing, 3. the floor, 4. the data path.
    step_times, eval_times = timed_run(timed, data, timing_rows, eval_step)
    flops, products_seconds, peak = measure_floor(genre_mlp.BATCH_SIZE, (genre_mlp.SAMPLE_WIDTH,) + hidden + (1,),
                                                  2000)
    sample_seconds = median_seconds(lambda: data.get_train_sample(genre_mlp.BATCH_SIZE), 2000)

    # 5. Whole processes.
    memory = {peer.name: peer.quit() for peer in peers}
    e2e = end_to_end(len(timing_rows), cold=not args.quick)
    if not args.quick:
        for (key, _), trainer in zip(FRAMEWORKS, trainers):
            memory[trainer.name] = run_measured([os.path.abspath(__file__), "--worker", key, "--updates",
                                                 str(len(timing_rows)), "--hidden"] + [str(n) for n in hidden])[1]
    return dict(names=[trainer.name for trainer in trainers], wrong=wrong, differences=differences,
                compile_seconds={trainer.name: trainer.compile_seconds for trainer in trainers},
                step_times=step_times, eval_times=eval_times, flops=flops, products_seconds=products_seconds,
                peak=peak, sample_seconds=sample_seconds, e2e=e2e, memory=memory)


def show(results, hidden, updates, data):
    """The table, and the lines below it."""
    names, wrong, differences = results["names"], results["wrong"], results["differences"]
    step_times, eval_times, memory = results["step_times"], results["eval_times"], results["memory"]
    flops, products_seconds, peak = results["flops"], results["products_seconds"], results["peak"]
    sample_seconds, e2e = results["sample_seconds"], results["e2e"]
    # The table.
    theano_us = 1e6 * np.median(step_times["Theano"])
    print("\nOne update: %.1f MFLOP; its matrix products alone take %.0f us (%.0f GFLOP/s);"
          " this machine's SGEMM peak is %.0f GFLOP/s (so %.0f us at best)"
          % (flops / 1e6, 1e6 * products_seconds, flops / products_seconds / 1e9, peak / 1e9, 1e6 * flops / peak))
    header = "%-14s %10s %15s %9s %10s %9s %9s %10s" % (
        "framework", "us/update", "p10-p90 us", "total s", "compile s", "peak MB", "x Theano", "x floor")
    print(header)
    print("-" * len(header))
    for name in names:
        if name in wrong:
            print("%-14s wrong: its losses differ from Theano's by %.2g (> %g) over %d updates; not timed"
                  % (name, differences[name], TOLERANCE, CHECK_UPDATES))
            continue
        steps = 1e6 * np.array(step_times[name])
        total = (np.sum(step_times[name]) + np.sum(eval_times[name]))
        print("%-14s %10.0f %15s %9.2f %10.2f %9s %9.2f %10.2f" % (
            name, np.median(steps), "%.0f-%.0f" % tuple(np.percentile(steps, [10, 90])), total,
            results["compile_seconds"][name], "%.0f" % memory[name] if name in memory else "-",
            np.median(steps) / theano_us,
            np.median(steps) / (1e6 * products_seconds)))
    print("%-14s %10.0f %15s %9.2f %10s %9s %9.2f %10.2f" % (
        "floor (BLAS)", 1e6 * products_seconds, "-", updates * products_seconds, "-", "-",
        1e6 * products_seconds / theano_us, 1.0))
    print("\nTheano: one evaluation on %d rows takes %.1f ms; drawing a batch takes %.1f us (%.1f%% of an update)"
          % (len(data.test), 1e3 * np.median(eval_times["Theano"]), 1e6 * sample_seconds,
             100 * 1e6 * sample_seconds / theano_us))
    others = [1e6 * np.median(step_times[name]) for name in names if name != "Theano" and name not in wrong]
    if others:
        print("Theano is %.2fx faster than the fastest other framework here." % (min(others) / theano_us))
    for label, (seconds, peak_mb, compile_seconds) in e2e.items():
        print("python genre_mlp.py --updates %d, %s compile cache: %.1f s in all (compiling %.1f s), peak %.0f MB"
              % (updates, label, seconds, compile_seconds, peak_mb))
    print("Losses over the first %d updates, largest difference from Theano's: %s"
          % (CHECK_UPDATES, ", ".join("%s %.1g" % item for item in differences.items() if item[0] != "Theano")))


if __name__ == "__main__":
    main()
