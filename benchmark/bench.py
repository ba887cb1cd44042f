#!/usr/bin/env python3
"""How fast does the lesson train? Theano against this machine's floor and other frameworks.

    python benchmark/bench.py              # the full run, a few minutes
    python benchmark/bench.py --quick      # about 30 s
    python benchmark/bench.py --hidden 512 128 --updates 2000
    python benchmark/bench.py --json figures.json   # also every figure, for comparing runs
    python benchmark/bench.py --lesson cnn # the second lesson's convolutional network instead

With --lesson cnn it times genre_cnn.py's network (four 1-D convolutions, Adam)
the same way, against PyTorch (conv1d) and JAX (lax.conv_general_dilated) only: no
NumPy or PyTensor peer; its floor counts each convolution's products as im2col
makes them (the batch's columns in one matrix).

It times, interleaved (each framework trains a chunk of updates in turn, so a
noisy neighbour slows all alike):
- the lesson's Theano graph, imported from genre_mlp.py (not copied);
- the same network in plain NumPy (benchmark/reference.py), in this process;
- the same network in PyTorch (eager) and JAX (jit), each in a process of its
  own, run by the Python of its own venv: `make peers` makes .venv-torch and
  .venv-jax (benchmark/requirements-torch.txt, benchmark/requirements-jax.txt). They are
  never installed into the lesson's venv, where they would move NumPy off its pin
  and setuptools past pkg_resources, which Theano 1.0.5 needs. A peer whose venv is
  missing is reported as not compared. benchmark/bench_peer.py trains them, on this
  process's orders, from the same start on the same batches.
- the same network in PyTensor (benchmark/pytensor_peer.py, in .venv-pytensor, on a
  Python 3.12 to 3.14), twice: with its default back end (Numba) and with its C
  back end linked to Theano's blas.ldflags; float32 through PYTENSOR_FLAGS.
Each framework must first match Theano's losses over 200 updates from the same
start and batches to 1e-4, or it is reported as wrong and not timed;
- the floor: an update's FLOPs at this machine's single-thread SGEMM peak, and
  the update's 8 matrix products alone, both measured by benchmark/sgemm_floor.c,
  which gcc builds with Theano's blas.ldflags (the very BLAS Theano links) and
  which runs between rounds of chunks, so that it sees the same neighbours;
- the data path (DataServer.get_train_sample) against an update;
- `python genre_mlp.py` end to end with an empty and a warm compile cache.
Peak memory is each framework's own process training the network (for a peer,
its process, which has also run the correctness check).
Theano and NumPy run their BLAS on one thread, as genre_mlp.py does; the peers
run with their own default threads, as a learner would get them.
`--json FILE` also writes every figure (written whole or not at all).
"""
import os

PEER_ENVIRONMENT = dict(os.environ)  # the user's, for the peers: their own default threads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS, as genre_mlp.py does

import argparse
import json
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
from theano_today import lesson_start
from lesson_helpers.command_line import cli
from lesson_helpers.data.aligned import aligned
from lesson_helpers.files import WriteError, check_writable, write_atomically
from benchmark.reference import NumpyMLP

CHUNK = 250          # updates each framework trains before the next takes its turn
CHECK_UPDATES = 200  # updates over which every framework must match Theano's losses
# The CNN's check is shorter: Adam moves every weight by about its learning rate whatever the
# size of its gradient, so where a gradient is nearly zero, float32 rounding (another order of
# the same sums) decides the sign of a whole step, and runs that agree to 1e-7 drift apart
# from about the 25th update on (PyTorch and JAX first differ from Theano by 1e-4 at updates
# 45-54 on the benchmark's random rows). The first 30 updates tell a wrong network from rounding.
CNN_CHECK_UPDATES = 20
TOLERANCE = 1e-4


# ---------------------------------------------------------------------------
# The same network in each framework: train_batch(x, t) -> loss, evaluate(x, t)
# ---------------------------------------------------------------------------
class Trainer(object):
    def __init__(self, name, train_batch, evaluate, compile_seconds=0.0):
        self.name, self.train_batch, self.evaluate = name, train_batch, evaluate
        self.compile_seconds = compile_seconds


def is_cnn(network):
    """`network`: the MLP's hidden sizes, or the CNN's (filters, width, stride) layers."""
    return bool(network) and isinstance(network[0], tuple)


def genre_cnn():
    import genre_cnn as lesson  # only for --lesson cnn; its import runs none of its steps
    return lesson


def theano_trainer(start, hidden, learning_rate):
    if is_cnn(hidden):
        model = genre_cnn().Model(filters=[layer[0] for layer in hidden], strides=[layer[2] for layer in hidden],
                                  learning_rate=learning_rate)
    else:
        model = genre_mlp.Model(hidden, learning_rate)
    for param, value in zip(model.params, start):
        param.set_value(aligned(value), borrow=True)
    return Trainer("Theano", model.train_batch, model.evaluate, model.compile_seconds)


def numpy_trainer(start, hidden, learning_rate):
    net = NumpyMLP(start, learning_rate)
    return Trainer("NumPy", net.train_batch, lambda x, t: (net.predict(x)[0], net.cost(x, t)))


FRAMEWORKS = [("theano", theano_trainer), ("numpy", numpy_trainer)]   # in this process
PEERS = [("torch", "PyTorch eager", ".venv-torch"), ("jax", "JAX jit", ".venv-jax"),  # in their own venvs
         ("pytensor", "PyTensor Numba", ".venv-pytensor"), ("pytensor-c", "PyTensor C", ".venv-pytensor")]
CNN_PEERS = ("torch", "jax")  # the peers that have the convolutional network (benchmark/bench_peer.py)


def frameworks(network):
    """The frameworks this process trains: the CNN has no NumPy reference."""
    return FRAMEWORKS[:1] if is_cnn(network) else FRAMEWORKS


def peers_for(network):
    return [peer for peer in PEERS if peer[0] in CNN_PEERS] if is_cnn(network) else PEERS


def learning_rate_of(network):
    return genre_cnn().LEARNING_RATE if is_cnn(network) else genre_mlp.LEARNING_RATE
PEER_SCRIPT = os.path.join(ROOT, "benchmark", "bench_peer.py")


class PeerError(Exception):
    pass


class Peer(object):
    """A framework trained by benchmark/bench_peer.py in its own venv's Python, on this process's orders."""

    def __init__(self, key, name, python, setup_path, log_path):
        self.name = name
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.process = subprocess.Popen([python, PEER_SCRIPT, key, setup_path], cwd=ROOT, text=True,
                                            env=peer_environment(key), stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log)
        ready = self.ask(None)
        self.version, self.compile_seconds = ready["version"], ready["compile_seconds"]
        self.threads = ready["threads"]

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


def peer_environment(key):
    """The user's environment; for PyTensor, with the flags it reads at import in front of the user's own:
    float32 (its default is float64) and, for its C back end, the very BLAS Theano links."""
    if not key.startswith("pytensor"):
        return PEER_ENVIRONMENT
    flags = ["floatX=float32", "blas__ldflags=" + genre_mlp.theano.config.blas.ldflags]
    return dict(PEER_ENVIRONMENT, PYTENSOR_FLAGS=",".join(flags + [PEER_ENVIRONMENT.get("PYTENSOR_FLAGS", "")]).strip(","))


def start_peers(start, data, check_rows, timing_rows, eval_step, folder, network=None):
    """The peers whose venv exists, started and ready; and a line on each one that is not."""
    setup_path = os.path.join(folder, "setup.npz")
    arrays = {"param%d" % i: value for i, value in enumerate(start)}
    cnn = is_cnn(network)
    np.savez(setup_path, num_params=len(start), learning_rate=learning_rate_of(network), eval_step=eval_step,
             train=data.train, train_targets=data.train_targets, test=data.test, test_targets=data.test_targets,
             check_rows=check_rows, timing_rows=timing_rows, lesson="cnn" if cnn else "mlp",
             strides=[layer[2] for layer in network] if cnn else [], **arrays)
    peers, absent = [], []
    for key, name, venv in peers_for(network):
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
# The floor: one update's matrix products, in C, through the BLAS Theano links
# ---------------------------------------------------------------------------
class FloorError(Exception):
    pass


def build_floor(directory):
    """benchmark/sgemm_floor.c compiled with Theano's blas.ldflags, in `directory`; its path."""
    ldflags = genre_mlp.theano.config.blas.ldflags
    if not ldflags:
        raise FloorError("Theano links no BLAS")
    executable = os.path.join(directory, "sgemm_floor")
    command = ["gcc", "-O2", os.path.join(ROOT, "benchmark", "sgemm_floor.c"), "-o", executable] + shlex.split(ldflags)
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except OSError as error:
        raise FloorError("gcc could not be run: %s" % error) from None
    if result.returncode != 0:
        # The linker's own complaint, not collect2's "ld returned 1 exit status" after it.
        said = [line for line in result.stderr.strip().splitlines() if not line.startswith("collect2:")]
        raise FloorError("gcc could not build benchmark/sgemm_floor.c: %s" % (said[-1] if said else "?"))
    return executable


def cnn_products(network, batch, width):
    """The products of one update of the CNN, as benchmark/sgemm_floor.c's `gemms` takes them (M,N,K,P).

    A convolution is, after im2col, one product: its kernels (filters x channels*width) by its
    input's columns (channels*width x batch*steps out); forwards, for the kernels' gradient, and
    for its input's (but not the first layer's, whose input is the data). The dense layers after
    it: batch x inputs by inputs x outputs, three products each (the first sends its error back
    to the convolutions)."""
    products, channels, steps = [], 1, width
    for number, (filters, kernel_width, stride) in enumerate(network):
        steps = -(-steps // stride)  # 'same' padding: ceil(steps / stride) come out
        products.append((filters, batch * steps, channels * kernel_width, 3 if number else 2))
        channels = filters
    dense = genre_cnn().DENSE
    products += [(batch, dense, channels * steps, 3), (batch, 1, dense, 3)]
    return products


def floor_sizes(network, batch):
    """sgemm_floor's arguments after BATCH: the MLP's layer sizes, or `gemms` and the CNN's products."""
    if is_cnn(network):
        return ["gemms"] + ["%d,%d,%d,%d" % product
                            for product in cnn_products(network, batch, genre_mlp.SAMPLE_WIDTH)]
    return (genre_mlp.SAMPLE_WIDTH,) + tuple(network) + (1,)


def measure_floor(executable, batch, sizes, repeats):
    """(FLOPs of an update, seconds its products take, peak FLOP/s), from one run of the C floor.

    `sizes`: the MLP's layer sizes, or a list of sgemm_floor's arguments after BATCH (`gemms` ...)."""
    result = subprocess.run([executable, str(repeats), str(batch)] + [str(n) for n in sizes],
                            capture_output=True, text=True)
    try:
        figures = dict(item.split("=") for item in result.stdout.split())
        return float(figures["flops"]), float(figures["products_us"]) * 1e-6, float(figures["peak_gflops"]) * 1e9
    except (ValueError, KeyError):
        raise FloorError("benchmark/sgemm_floor.c failed (status %d): %s"
                         % (result.returncode, (result.stdout + result.stderr).strip()[-300:])) from None


class Floor(object):
    """The C floor, run between rounds of chunks; its figures, or why there are none."""

    def __init__(self, directory, batch, sizes, repeats=CHUNK):
        self.batch, self.sizes, self.repeats = batch, sizes, repeats
        self.runs, self.error = [], None
        try:
            self.executable = build_floor(directory)
        except FloorError as error:
            self.executable, self.error = None, str(error)

    def __call__(self):
        if self.executable and not self.error:
            try:
                self.runs.append(measure_floor(self.executable, self.batch, self.sizes, self.repeats))
            except FloorError as error:
                self.error = str(error)

    def figures(self):
        """(FLOPs, the median products' seconds, the best peak FLOP/s), or None."""
        if not self.runs:
            return None
        # A peak is the best the machine did, busy neighbours or not; the products, a typical run.
        return (self.runs[0][0], float(np.median([run[1] for run in self.runs])),
                max(run[2] for run in self.runs))


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


def end_to_end(updates, cold, script="genre_mlp.py"):
    """`python genre_mlp.py` (or `script`) on the stand-in: with an empty compile cache, then a warm one.

    Without `cold`, only the warm run, in the usual cache (this process has just filled it).
    """
    command = [os.path.join(ROOT, script), "--stand-in", "--updates", str(updates),
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
    trainer = make(start, hidden, learning_rate_of(hidden))
    test_x, test_t = data.get_test()
    for update in range(1, updates + 1):
        trainer.train_batch(*data.get_train_sample(genre_mlp.BATCH_SIZE))
        if update % genre_mlp.EVAL_STEP == 0:
            trainer.evaluate(test_x, test_t)


# ---------------------------------------------------------------------------
# The interleaved timing
# ---------------------------------------------------------------------------
def starting_point(hidden):
    """The lesson's initial weights and a data set of the lesson's shape (random rows: speed only).

    For the CNN, the very arrays genre_cnn.make_parameters starts its Model from."""
    if is_cnn(hidden):
        lesson = genre_cnn()
        start = [param.get_value() for param in lesson.make_parameters(
            [layer[0] for layer in hidden], [layer[2] for layer in hidden], lesson.SEED,
            widths=[layer[1] for layer in hidden])]
    else:
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


def timed_run(trainers, data, rows, eval_step, between_rounds=None):
    """Each trainer's step and evaluation times; `between_rounds()` runs after every round of chunks."""
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
        if between_rounds:
            between_rounds()
    return step_times, eval_times


def main(argv=None):
    parser = cli.Parser(description="Benchmark the lesson's training (see the docstring).")
    parser.add_argument("--lesson", choices=["mlp", "cnn"], default="mlp",
                        help="the first lesson's MLP (genre_mlp.py, the default) or the second's CNN (genre_cnn.py)")
    parser.add_argument("--hidden", type=int, nargs="+",
                        help="the MLP's hidden layer sizes (default %d %d)" % (genre_mlp.HIDDEN_1, genre_mlp.HIDDEN_2))
    parser.add_argument("--updates", type=int,
                        help="default %d, or 1000 with --quick" % genre_mlp.NUM_UPDATES)
    parser.add_argument("--quick", action="store_true",
                        help="about 30 s: 1000 updates, a warm cache only, no memory runs")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.lesson == "cnn":
        if args.hidden:
            parser.error("--hidden is the MLP's: --lesson cnn times genre_cnn.py's layers")
        hidden = tuple(genre_cnn().LAYERS)
    else:
        hidden = tuple(args.hidden or (genre_mlp.HIDDEN_1, genre_mlp.HIDDEN_2))
    updates = args.updates or (1000 if args.quick else genre_mlp.NUM_UPDATES)
    if updates < 1 or (not is_cnn(hidden) and min(hidden) < 1):
        parser.error("--updates and --hidden must be positive")
    eval_step = max(updates // 10, 1)
    if args.worker:
        return worker(args.worker, hidden, updates)
    if args.json:
        try:
            check_writable(args.json)  # now, rather than after minutes of timing
        except WriteError as error:
            sys.exit("error: --json %s" % error)

    start, data = starting_point(hidden)
    print("Benchmark: %s network, batch %d, %d updates, %d evaluations on %d rows; Theano on %s, BLAS: %s"
          % (describe(hidden), genre_mlp.BATCH_SIZE, updates,
             updates // eval_step, len(data.test), lesson_start.device_name(), lesson_start.BLAS_NAME))
    check_updates = CNN_CHECK_UPDATES if is_cnn(hidden) else CHECK_UPDATES
    check_rows, timing_rows = batches(starting_point(hidden)[1], check_updates), batches(data, updates)
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        peers, absent = start_peers(start, data, check_rows, timing_rows, eval_step, folder, hidden)
        if absent:
            print("Not compared: %s" % "; ".join(absent))
        if peers:
            print("Peers, each with its default threads on %d cores: %s" % (os.cpu_count(), ", ".join(
                "%s %s (%s)" % (peer.name, peer.version, peer.threads) for peer in peers)))
        try:
            results = measure(args.quick, hidden, start, data, peers, check_rows, timing_rows, eval_step, folder)
        finally:
            for peer in peers:
                peer.process.kill()
    table = figures(results, hidden, updates, data)
    show(table)
    if args.json:
        try:
            write_atomically(args.json, lambda stream: stream.write(
                (json.dumps(table, indent=2, allow_nan=False) + "\n").encode()))
        except WriteError as error:
            sys.exit("error: --json %s" % error)
        print("Wrote every figure to %s." % args.json)


def measure(quick, hidden, start, data, peers, check_rows, timing_rows, eval_step, folder):
    """Every measurement, raw, in a dict; `folder` is for the C floor's build."""
    # 1. Correctness first: the same losses from the same start and batches.
    checked = [maker(start, hidden, learning_rate_of(hidden)) for _, maker in frameworks(hidden)] + peers
    differences = check_losses(checked, data, check_rows, "Theano")
    # Fresh trainers from the same start for the timing: the check has moved these ones' weights.
    for peer in peers:
        peer.reset()
    trainers = [maker(start, hidden, learning_rate_of(hidden)) for _, maker in frameworks(hidden)] + peers
    wrong = {name for name, difference in differences.items() if difference > TOLERANCE}
    timed = [trainer for trainer in trainers if trainer.name not in wrong]

    # 2. Interleaved timing, with 3. the floor in C between rounds (a noisy neighbour slows
    # both alike), 4. the data path.
    floor = Floor(folder, genre_mlp.BATCH_SIZE, floor_sizes(hidden, genre_mlp.BATCH_SIZE))
    step_times, eval_times = timed_run(timed, data, timing_rows, eval_step, floor)
    sample_seconds = median_seconds(lambda: data.get_train_sample(genre_mlp.BATCH_SIZE), 2000)

    # 5. Whole processes.
    memory = {peer.name: peer.quit() for peer in peers}
    e2e = end_to_end(len(timing_rows), cold=not quick, script="genre_cnn.py" if is_cnn(hidden) else "genre_mlp.py")
    if not quick:
        for (key, _), trainer in zip(frameworks(hidden), trainers):
            network = ["--lesson", "cnn"] if is_cnn(hidden) else ["--hidden"] + [str(n) for n in hidden]
            memory[trainer.name] = run_measured([os.path.abspath(__file__), "--worker", key, "--updates",
                                                 str(len(timing_rows))] + network)[1]
    threads = {peer.name: peer.threads for peer in peers}
    blas_threads = os.environ["OPENBLAS_NUM_THREADS"]  # this process's, set above unless the user did
    threads.update({trainer.name: "one BLAS thread" if blas_threads == "1" else "%s BLAS threads" % blas_threads
                    for trainer in trainers if trainer.name not in threads})
    return dict(names=[trainer.name for trainer in trainers], wrong=wrong, check_updates=len(check_rows),
                differences=differences, threads=threads,
                compile_seconds={trainer.name: trainer.compile_seconds for trainer in trainers},
                step_times=step_times, eval_times=eval_times, floor=floor.figures(), no_floor=floor.error,
                sample_seconds=sample_seconds, e2e=e2e, memory=memory)


def figures(results, hidden, updates, data):
    """Every figure of the table and the lines below it, as --json writes them (None: not measured)."""
    step_times, eval_times, memory = results["step_times"], results["eval_times"], results["memory"]
    theano_us = 1e6 * float(np.median(step_times["Theano"]))
    network = ([list(layer) for layer in hidden] if is_cnn(hidden)
               else [genre_mlp.SAMPLE_WIDTH] + list(hidden) + [1])
    table = {"lesson": "cnn" if is_cnn(hidden) else "mlp", "network": network, "batch": genre_mlp.BATCH_SIZE,
             "updates": updates, "device": lesson_start.device_name(), "blas": lesson_start.BLAS_NAME,
             "load_average": list(os.getloadavg()), "test_rows": len(data.test),
             "flops_per_update": None, "peak_gflops": None, "floor_us": None, "products_us": None,
             "no_floor": results["no_floor"], "theano_us_per_update": theano_us, "theano_x_floor": None}
    # The floor is the issue's: an update's FLOPs at this machine's single-thread SGEMM peak.
    if results["floor"]:
        flops, products_seconds, peak = results["floor"]
        floor_us = 1e6 * flops / peak
        table.update(flops_per_update=flops, peak_gflops=peak / 1e9, floor_us=floor_us,
                     products_us=1e6 * products_seconds, theano_x_floor=theano_us / floor_us)
    frameworks = {}
    for name in results["names"]:
        if name in results["wrong"]:
            frameworks[name] = {"wrong": True}
            continue
        steps = 1e6 * np.array(step_times[name])
        us = float(np.median(steps))
        frameworks[name] = {
            "us_per_update": us, "p10_us": float(np.percentile(steps, 10)), "p90_us": float(np.percentile(steps, 90)),
            "total_s": float(np.sum(step_times[name]) + np.sum(eval_times[name])),
            "compile_s": float(results["compile_seconds"][name]), "peak_mb": memory.get(name),
            "threads": results["threads"][name],
            "x_theano": us / theano_us, "x_floor": us / table["floor_us"] if table["floor_us"] else None}
    others = [row["us_per_update"] for name, row in frameworks.items() if name != "Theano" and "wrong" not in row]
    table.update(frameworks=frameworks,
                 theano_lead_over_fastest_other=min(others) / theano_us if others else None,
                 evaluation_ms=1e3 * float(np.median(eval_times["Theano"])),
                 sample_us=1e6 * results["sample_seconds"],
                 end_to_end={label: {"seconds": seconds, "compile_seconds": compile_seconds, "peak_mb": peak_mb}
                             for label, (seconds, peak_mb, compile_seconds) in results["e2e"].items()},
                 loss_differences=results["differences"],
                 check_updates=results.get("check_updates", CHECK_UPDATES))
    return table


def describe(hidden):
    """The network in a few words, for the table's first line."""
    if is_cnn(hidden):
        return "1-D convolutional (%s, then %d-1; filters x width / stride)" % (
            ", ".join("%dx%d/%d" % layer for layer in hidden), genre_cnn().DENSE)
    return "%d-%s-1" % (genre_mlp.SAMPLE_WIDTH, "-".join(map(str, hidden)))


def show(table):
    """The table, and the lines below it."""
    theano_us, floor_us, products_us = table["theano_us_per_update"], table["floor_us"], table["products_us"]
    cnn = table.get("lesson") == "cnn"
    if floor_us:
        products = ("the update's products as im2col makes them (the batch's columns in one matrix)" if cnn
                    else "the update's 8 matrix products")
        print("\nOne update: %.1f MFLOP. This machine's single-thread SGEMM peak is %.0f GFLOP/s, so the floor is"
              " %.0f us; %s alone, in C through Theano's BLAS, take %.0f us (%.0f GFLOP/s)."
              % (table["flops_per_update"] / 1e6, table["peak_gflops"], floor_us, products, products_us,
                 table["flops_per_update"] / products_us / 1e3))
    else:
        print("\nNo floor: %s." % table["no_floor"])
    header = "%-14s %10s %15s %9s %10s %9s %9s %10s" % (
        "framework", "us/update", "p10-p90 us", "total s", "compile s", "peak MB", "x Theano", "x floor")
    print(header)
    print("-" * len(header))
    for name, row in table["frameworks"].items():
        if "wrong" in row:
            print("%-14s wrong: its losses differ from Theano's by %.2g (> %g) over %d updates; not timed"
                  % (name, table["loss_differences"][name], TOLERANCE, table.get("check_updates", CHECK_UPDATES)))
            continue
        print("%-14s %10.0f %15s %9.2f %10.2f %9s %9.2f %10s" % (
            name, row["us_per_update"], "%.0f-%.0f" % (row["p10_us"], row["p90_us"]), row["total_s"],
            row["compile_s"], "-" if row["peak_mb"] is None else "%.0f" % row["peak_mb"], row["x_theano"],
            "-" if row["x_floor"] is None else "%.2f" % row["x_floor"]))
    if floor_us:
        updates = table["updates"]
        for label, us in (("products (C)", products_us), ("floor (peak)", floor_us)):
            print("%-14s %10.0f %15s %9.2f %10s %9s %9.2f %10.2f" % (
                label, us, "-", updates * us / 1e6, "-", "-", us / theano_us, us / floor_us))
    print("\nTheano: one evaluation on %d rows takes %.1f ms; drawing a batch takes %.1f us (%.1f%% of an update)"
          % (table["test_rows"], table["evaluation_ms"], table["sample_us"], 100 * table["sample_us"] / theano_us))
    lead = table["theano_lead_over_fastest_other"]
    if lead and lead >= 1:
        print("Theano is %.2fx faster than the fastest other framework here." % lead)
    elif lead:
        print("Theano is slower: the fastest other framework here takes %.2fx its time." % lead)
    for label, run in table["end_to_end"].items():
        print("python %s --updates %d, %s compile cache: %.1f s in all (compiling %.1f s), peak %.0f MB"
              % ("genre_cnn.py" if cnn else "genre_mlp.py", table["updates"], label, run["seconds"], run["compile_seconds"], run["peak_mb"]))
    print("Losses over the first %d updates, largest difference from Theano's: %s"
          % (table.get("check_updates", CHECK_UPDATES), ", ".join("%s %.1g" % item for item in table["loss_differences"].items()
                                      if item[0] != "Theano")))


if __name__ == "__main__":
    main()
