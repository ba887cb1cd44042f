#!/usr/bin/env python3
"""How fast does the lesson train? Theano against this machine's floor and other frameworks.

    python tools/bench.py              # the full run, a few minutes
    python tools/bench.py --quick      # about 30 s
    python tools/bench.py --hidden 512 128 --updates 2000
    python tools/bench.py --json figures.json   # also every figure, for comparing runs

It times, in one process and interleaved (each framework trains a chunk of
updates in turn, so a noisy neighbour slows all alike):
- the lesson's Theano graph, imported from genre_mlp.py (not copied);
- the same network in plain NumPy (tools/reference.py), and in PyTorch (eager)
  and JAX (jit) when they are installed (they are not project dependencies:
  pip install torch==2.13.0 jax==0.4.30 jaxlib==0.4.30). Each must first match
  Theano's losses over 200 updates from the same start and batches to 1e-4, or it
  is reported as wrong and not timed;
- the floor: an update's FLOPs at this machine's single-thread SGEMM peak, and
  the update's 8 matrix products alone, both measured by tools/sgemm_floor.c,
  which gcc builds with Theano's blas.ldflags (the very BLAS Theano links) and
  which runs between rounds of chunks;
- the data path (DataServer.get_train_sample) against an update;
- `python genre_mlp.py` end to end with an empty and a warm compile cache.
Peak memory is each framework's own process training the network.
Every framework runs its BLAS on one thread, as genre_mlp.py does.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS: same for all
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse
import importlib.util
import re
import shlex
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


def torch_trainer(start, hidden, learning_rate):
    import torch
    torch.set_num_threads(1)
    params = [torch.tensor(value, requires_grad=True) for value in start]

    def logits(x):
        for W, B in zip(params[0:-2:2], params[1:-2:2]):
            x = torch.relu(x @ W + B)
        return (x @ params[-2] + params[-1])[:, 0]

    def cost(z, t):
        return (torch.nn.functional.softplus(z) - t * z).mean()

    def train_batch(x, t):
        loss = cost(logits(torch.from_numpy(x)), torch.from_numpy(t))
        gradients = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for param, gradient in zip(params, gradients):
                param -= learning_rate * gradient
        return loss.item()

    def evaluate(x, t):
        with torch.no_grad():
            z = logits(torch.from_numpy(x))
            return torch.sigmoid(z).numpy(), cost(z, torch.from_numpy(t)).item()
    return Trainer("PyTorch eager", train_batch, evaluate)


def jax_trainer(start, hidden, learning_rate):
    import jax
    import jax.numpy as jnp

    def logits(params, x):
        for W, B in zip(params[0:-2:2], params[1:-2:2]):
            x = jax.nn.relu(x @ W + B)
        return (x @ params[-2] + params[-1])[:, 0]

    def cost(params, x, t):
        z = logits(params, x)
        return jnp.mean(jax.nn.softplus(z) - t * z)

    @jax.jit
    def step(params, x, t):
        loss, gradients = jax.value_and_grad(cost)(params, x, t)
        return [p - learning_rate * g for p, g in zip(params, gradients)], loss

    @jax.jit
    def predict(params, x, t):
        return jax.nn.sigmoid(logits(params, x)), cost(params, x, t)

    state = {"params": [jnp.asarray(value) for value in start]}

    def train_batch(x, t):
        state["params"], loss = step(state["params"], x, t)
        return float(loss)  # waits for the result, as the other frameworks do

    def evaluate(x, t):
        predictions, loss = predict(state["params"], x, t)
        return np.asarray(predictions), float(loss)

    # jit compiles on the first call of each shape; time that as JAX's compile.
    started = time.perf_counter()
    probe = [jnp.asarray(value) for value in start]
    step(probe, np.zeros((genre_mlp.BATCH_SIZE, start[0].shape[0]), np.float32),
         np.zeros(genre_mlp.BATCH_SIZE, np.float32))[1].block_until_ready()
    return Trainer("JAX jit", train_batch, evaluate, time.perf_counter() - started)


FRAMEWORKS = [("theano", None, theano_trainer), ("numpy", None, numpy_trainer),
              ("torch", "torch", torch_trainer), ("jax", "jax", jax_trainer)]


# ---------------------------------------------------------------------------
# The floor: one update's matrix products, in C, through the BLAS Theano links
# ---------------------------------------------------------------------------
def build_floor(directory):
    """tools/sgemm_floor.c compiled with Theano's blas.ldflags; None (and why) if it cannot be."""
    ldflags = genre_mlp.theano.config.blas.ldflags
    if not ldflags:
        return None, "Theano links no BLAS"
    executable = os.path.join(directory, "sgemm_floor")
    command = ["gcc", "-O2", os.path.join(ROOT, "tools", "sgemm_floor.c"), "-o", executable] + shlex.split(ldflags)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return None, "gcc could not build tools/sgemm_floor.c: %s" % (result.stderr.strip().splitlines() or ["?"])[-1]
    return executable, None


def measure_floor(executable, batch, sizes, repeats):
    """(FLOPs of an update, seconds its products take, peak GFLOP/s), from one run of the C floor."""
    output = subprocess.run([executable, str(repeats), str(batch)] + [str(n) for n in sizes],
                            capture_output=True, text=True, check=True).stdout
    figures = dict(item.split("=") for item in output.split())
    return float(figures["flops"]), float(figures["products_us"]) * 1e-6, float(figures["peak_gflops"]) * 1e9


def median_seconds(call, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


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
    make = {key: maker for key, _, maker in FRAMEWORKS}[name]
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


def check_losses(trainers, data, reference):
    """Each trainer's losses over CHECK_UPDATES updates; returns the largest difference from the reference."""
    rows = batches(data, CHECK_UPDATES)
    losses = {}
    for trainer in trainers:
        losses[trainer.name] = np.array([trainer.train_batch(data.train[r], data.train_targets[r]) for r in rows])
    return {name: float(np.max(np.abs(value - losses[reference]))) for name, value in losses.items()}


def timed_run(trainers, data, updates, eval_step, between_rounds=None):
    """Each trainer's step and evaluation times; `between_rounds()` runs after every round of chunks."""
    rows = batches(data, updates)
    test_x, test_t = data.get_test()
    step_times = {t.name: [] for t in trainers}
    eval_times = {t.name: [] for t in trainers}
    for first in range(0, updates, CHUNK):
        for trainer in trainers:
            for update in range(first, min(first + CHUNK, updates)):
                x, t = data.train[rows[update]], data.train_targets[rows[update]]
                started = time.perf_counter()
                trainer.train_batch(x, t)
                step_times[trainer.name].append(time.perf_counter() - started)
                if (update + 1) % eval_step == 0:
                    started = time.perf_counter()
                    trainer.evaluate(test_x, test_t)
                    eval_times[trainer.name].append(time.perf_counter() - started)
        if between_rounds:
            between_rounds()
    return step_times, eval_times


def main():
    parser = argparse.ArgumentParser(description="Benchmark the lesson's training (see the docstring).")
    parser.add_argument("--hidden", type=int, nargs="+", default=[genre_mlp.HIDDEN_1, genre_mlp.HIDDEN_2],
                        help="hidden layer sizes (default %(default)s)")
    parser.add_argument("--updates", type=int, default=genre_mlp.NUM_UPDATES, help="default %(default)s")
    parser.add_argument("--quick", action="store_true",
                        help="about 30 s: 1000 updates, a warm cache only, no memory runs")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        parser.error("--json %s: its folder does not exist; create it first" % args.json)
    hidden = tuple(args.hidden)
    updates = 1000 if args.quick else args.updates
    eval_step = max(updates // 10, 1)
    if args.worker:
        return worker(args.worker, hidden, updates)

    available = [(key, maker) for key, module, maker in FRAMEWORKS
                 if module is None or importlib.util.find_spec(module) is not None]
    start, data = starting_point(hidden)
    print("Benchmark: %d-%s-1 network, batch %d, %d updates, %d evaluations on %d rows; Theano on %s, BLAS: %s"
          % (genre_mlp.SAMPLE_WIDTH, "-".join(map(str, hidden)), genre_mlp.BATCH_SIZE, updates,
             updates // eval_step, len(data.test), genre_mlp.device_name(), genre_mlp.BLAS_NAME))
    absent = [module for _, module, _ in FRAMEWORKS if module and importlib.util.find_spec(module) is None]
    if absent:
        print("Not installed, so not compared: %s (pip install torch==2.13.0 jax==0.4.30 jaxlib==0.4.30)"
              % ", ".join(absent))

    # 1. Correctness first: the same losses from the same start and batches.
    checked = [maker(start, hidden, genre_mlp.LEARNING_RATE) for _, maker in available]
    check_data = starting_point(hidden)[1]
    differences = check_losses(checked, check_data, "Theano")
    # Fresh trainers from the same start for the timing: the check has moved these ones' weights.
    trainers = [maker(start, hidden, genre_mlp.LEARNING_RATE) for _, maker in available]
    wrong = {name for name, difference in differences.items() if difference > TOLERANCE}
    trainers = [trainer for trainer in trainers if trainer.name not in wrong]

    # 2. Interleaved timing, with 3. the floor in C between rounds (a noisy neighbour slows both), 4. the data path.
    sizes = (genre_mlp.SAMPLE_WIDTH,) + hidden + (1,)
    floors = []
    with tempfile.TemporaryDirectory(prefix="sgemm-floor-") as build:
        floor_program, no_floor = build_floor(build)
        between = (lambda: floors.append(measure_floor(floor_program, genre_mlp.BATCH_SIZE, sizes, CHUNK))
                   if floor_program else None)
        step_times, eval_times = timed_run(trainers, data, updates, eval_step, between)
    if floors:
        flops = floors[0][0]
        products_seconds = float(np.median([floor[1] for floor in floors]))
        peak = max(floor[2] for floor in floors)  # a peak is the best the machine did, busy neighbours or not
    sample_seconds = median_seconds(lambda: data.get_train_sample(genre_mlp.BATCH_SIZE), 2000)

    # 5. Whole processes.
    e2e = end_to_end(updates, cold=not args.quick)
    memory = {}
    if not args.quick:
        for key, _ in available:
            memory[key] = run_measured([os.path.abspath(__file__), "--worker", key,
                                        "--updates", str(updates), "--hidden"] + [str(n) for n in hidden])[1]

    # The table. The floor is the issue's: an update's FLOPs at this machine's single-thread SGEMM peak.
    theano_us = 1e6 * np.median(step_times["Theano"])
    floor_us = 1e6 * flops / peak if floors else float("nan")
    if floors:
        print("\nOne update: %.1f MFLOP. This machine's single-thread SGEMM peak is %.0f GFLOP/s, so the floor is"
              " %.0f us; the update's 8 matrix products alone, in C through Theano's BLAS, take %.0f us (%.0f GFLOP/s)."
              % (flops / 1e6, peak / 1e9, floor_us, 1e6 * products_seconds, flops / products_seconds / 1e9))
    else:
        print("\nNo floor: %s." % no_floor)
    header = "%-14s %10s %15s %9s %10s %9s %9s %10s" % (
        "framework", "us/update", "p10-p90 us", "total s", "compile s", "peak MB", "x Theano", "x floor")
    print(header)
    print("-" * len(header))
    figures = {}
    for (key, _), name in zip(available, [trainer.name for trainer in checked]):
        if name in wrong:
            print("%-14s wrong: its losses differ from Theano's by %.2g (> %g) over %d updates; not timed"
                  % (name, differences[name], TOLERANCE, CHECK_UPDATES))
            continue
        steps = 1e6 * np.array(step_times[name])
        total = (np.sum(step_times[name]) + np.sum(eval_times[name]))
        compile_s = [t.compile_seconds for t in trainers if t.name == name][0]
        figures[name] = {"us_per_update": float(np.median(steps)), "p10_us": float(np.percentile(steps, 10)),
                         "p90_us": float(np.percentile(steps, 90)), "total_s": float(total),
                         "compile_s": compile_s, "peak_mb": memory.get(key), "x_floor": np.median(steps) / floor_us}
        print("%-14s %10.0f %15s %9.2f %10.2f %9s %9.2f %10.2f" % (
            name, np.median(steps), "%.0f-%.0f" % tuple(np.percentile(steps, [10, 90])), total, compile_s,
            "%.0f" % memory[key] if key in memory else "-", np.median(steps) / theano_us,
            np.median(steps) / floor_us))
    if floors:
        print("%-14s %10.0f %15s %9.2f %10s %9s %9.2f %10.2f" % (
            "products (C)", 1e6 * products_seconds, "-", updates * products_seconds, "-", "-",
            1e6 * products_seconds / theano_us, 1e6 * products_seconds / floor_us))
        print("%-14s %10.0f %15s %9.2f %10s %9s %9.2f %10.2f" % (
            "floor (peak)", floor_us, "-", updates * floor_us / 1e6, "-", "-", floor_us / theano_us, 1.0))
    print("\nTheano: one evaluation on %d rows takes %.1f ms; drawing a batch takes %.1f us (%.1f%% of an update)"
          % (len(data.test), 1e3 * np.median(eval_times["Theano"]), 1e6 * sample_seconds,
             100 * 1e6 * sample_seconds / theano_us))
    others = [1e6 * np.median(step_times[t.name]) for t in trainers if t.name != "Theano"]
    if others:
        print("Theano is %.2fx faster than the fastest other framework here." % (min(others) / theano_us))
    for label, (seconds, peak_mb, compile_seconds) in e2e.items():
        print("python genre_mlp.py --updates %d, %s compile cache: %.1f s in all (compiling %.1f s), peak %.0f MB"
              % (updates, label, seconds, compile_seconds, peak_mb))
    print("Losses over the first %d updates, largest difference from Theano's: %s"
          % (CHECK_UPDATES, ", ".join("%s %.1g" % item for item in differences.items() if item[0] != "Theano")))
    if args.json:
        write_json(args.json, {
            "network": list(sizes), "batch": genre_mlp.BATCH_SIZE, "updates": updates,
            "device": genre_mlp.device_name(), "blas": genre_mlp.BLAS_NAME, "load_average": list(os.getloadavg()),
            "flops_per_update": flops if floors else None, "peak_gflops": peak / 1e9 if floors else None,
            "floor_us": floor_us if floors else None,
            "products_us": 1e6 * products_seconds if floors else None,
            "theano_us_per_update": theano_us, "theano_x_floor": theano_us / floor_us if floors else None,
            "frameworks": figures,
            "end_to_end": {label: {"seconds": seconds, "compile_seconds": compile_seconds, "peak_mb": peak_mb}
                           for label, (seconds, peak_mb, compile_seconds) in e2e.items()},
            "loss_differences": differences})
        print("Wrote every figure to %s." % args.json)


def write_json(path, figures):
    """Through a temporary file beside `path`, so that a failed run never leaves half a file."""
    import json
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".part")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(figures, stream, indent=2, default=float)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


if __name__ == "__main__":
    main()
