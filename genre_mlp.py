#!/usr/bin/env python3
"""Music genre prediction using Theano: classical or rock, from 3 s of audio at 400 Hz.

A multilayer perceptron, 1200 -> 256 (ReLU) -> 64 (ReLU) -> 1 (sigmoid), written
as a symbolic Theano graph and trained with plain SGD on binary cross-entropy.
The output is the probability that the excerpt is rock.

    python genre_mlp.py                              # train on the CPU
    THEANO_FLAGS=device=cuda python genre_mlp.py     # on a GPU (README, "GPU")
    python genre_mlp.py --help                       # every option
"""
import argparse
import importlib.util
import os
import sys
import tempfile
import time
import zipfile

# ---------------------------------------------------------------------------
# Theano 1.0.5 on today's Python. tools/theano_setup.py sets the flags, the NumPy
# aliases and the BLAS threads it needs, before anything loads NumPy or Theano;
# nothing in it is part of the lesson.
# ---------------------------------------------------------------------------
from tools.theano_setup import SetupError, import_theano

import numpy as np

try:
    theano, BLAS_NAME = import_theano()
except SetupError as error:
    sys.exit("error: %s" % error)
import theano.tensor

# ---------------------------------------------------------------------------
# The lesson's constants (each one can be overridden on the command line)
# ---------------------------------------------------------------------------
HERE = os.path.dirname(os.path.abspath(__file__))
IN_FILE = os.path.join(HERE, "sample_3s_400Hz.npz")   # the lesson's data file, next to this script
LATER_NAME = "classical_vs_rock.npz"                   # the name its author later published it under
SAMPLE_WIDTH = 1200        # 3 s of audio at 400 Hz

HIDDEN_1 = 256             # units in the first hidden layer
HIDDEN_2 = 64              # units in the second

BATCH_SIZE = 16            # excerpts per update
LEARNING_RATE = 0.01       # small, because there are many weights to move steadily

NUM_UPDATES = 5000         # each training excerpt is seen about 10 times (5000 * 16 / 8000)
EVAL_STEP = 500            # evaluate on the test set ten times
SEED = 1234                # fixed, so two runs print the same numbers

FLOATX = theano.config.floatX  # float32 unless THEANO_FLAGS says otherwise


# ---------------------------------------------------------------------------
# The data
# ---------------------------------------------------------------------------
class DataError(Exception):
    """The data cannot be used; the message is one line naming the problem and the fix."""


def read_npz(path, error, fix):
    """Every array in a .npz file, as a dict; `error` (one line, ending in `fix`) if it is not one."""
    if not os.path.isfile(path):
        raise error("%s not found; %s" % (path, fix))
    if not zipfile.is_zipfile(path):
        raise error("%s is not a .npz file, or is cut short; %s" % (path, fix))
    try:
        # No pickles: a file must never be able to run code.
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except Exception as problem:
        raise error("%s could not be read as a .npz file (%s); %s"
                    % (path, str(problem).splitlines()[0] or type(problem).__name__, fix))


def load_data_file(path):
    """The `train` and `test` arrays of a lesson-format .npz, checked, as floatX."""
    arrays = read_npz(path, DataError, "give the lesson's data file (README \"The data\")")
    missing = [key for key in ("train", "test") if key not in arrays]
    if missing:
        raise DataError("%s has no %s array; a lesson data file holds `train` and `test` "
                        "(check it with: python tools/make_dataset.py check %s)"
                        % (path, " or ".join(missing), path))
    train, test = arrays["train"], arrays["test"]
    for name, array in (("train", train), ("test", test)):
        if array.ndim != 2 or array.shape[1] != SAMPLE_WIDTH:
            raise DataError("%s: `%s` has shape %s, but excerpts must be rows of %d samples "
                            "(3 s at 400 Hz); rebuild it with tools/make_dataset.py"
                            % (path, name, array.shape, SAMPLE_WIDTH))
        if array.shape[0] == 0:
            raise DataError("%s: `%s` is empty; the file needs excerpts of both classes" % (path, name))
        if array.shape[0] % 2:
            raise DataError("%s: `%s` has an odd number of rows (%d), but its first half must be "
                            "classical and its second half rock; rebuild it with "
                            "tools/make_dataset.py" % (path, name, array.shape[0]))
        if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
            raise DataError("%s: `%s` holds NaN, infinite or non-numeric samples; rebuild it "
                            "with tools/make_dataset.py" % (path, name))
    return train.astype(FLOATX), test.astype(FLOATX)


def labels_by_halves(num_rows):
    """The file stores no labels: the first half of each split is classical (0), the rest rock (1)."""
    targets = np.zeros(num_rows, dtype=FLOATX)
    targets[num_rows // 2:] = 1.0  # the lesson wrote /2, a float index in Python 3
    return targets


class DataServer(object):
    """Hands out the test set whole and the training set one random batch at a time."""

    def __init__(self, path=IN_FILE, seed=SEED, arrays=None):
        self.train, self.test = arrays if arrays is not None else load_data_file(path)
        self.train_targets = labels_by_halves(len(self.train))
        self.test_targets = labels_by_halves(len(self.test))
        self.random = np.random.RandomState(seed)

    def get_test(self):
        return self.test, self.test_targets

    def get_train_sample(self, batch_size):
        # Uniform draws with replacement, as the lesson's per-row loop made them,
        # in one vectorised step so that drawing costs far less than an update.
        rows = self.random.randint(0, len(self.train), size=batch_size)
        return self.train[rows], self.train_targets[rows]


def make_stand_in(seed=SEED, num_train=8000, num_test=2000):
    """A generated data set in the lesson's format, for when its file is absent.

    Classical: sustained chords (a root in 55-110 Hz with its third and fifth,
    each with overtones) under a slow swell, quiet. Rock: a kick drum on every
    beat (100-160 bpm) and a plucked bass line on root and fifth, louder. Keys,
    tempi, phases, loudness and background noise are random, and 3% of the
    excerpts sit in the wrong half, like the lesson's mislabelled videos.
    """
    rng = np.random.RandomState(seed)
    t = (np.arange(SAMPLE_WIDTH) / 400.0).astype(np.float32)

    def uniform(low, high, shape):
        return rng.uniform(low, high, shape).astype(np.float32)

    def tone(freq, partials, phase=0.0):
        # Overtones at or above 200 Hz are left out: a 400 Hz recording cannot hold them.
        return sum(weight * (k * freq < 195) * np.sin(2 * np.pi * k * freq * t + k * phase)
                   for k, weight in partials)

    def classical(n):
        root = 55 * 2 ** uniform(0, 1, (n, 1))
        third = 2 ** (rng.choice([3, 4], (n, 1)) / 12.0).astype(np.float32)
        chord = sum(tone(root * ratio, [(1, 1.0), (2, 0.4), (3, 0.2)], uniform(0, 6.3, (n, 1)))
                    for ratio in (1.0, third, 2 ** (7 / 12.0)))
        swell = 0.6 + 0.4 * np.sin(2 * np.pi * uniform(0.15, 0.6, (n, 1)) * t + uniform(0, 6.3, (n, 1)))
        return chord * swell, 0.03

    def rock(n):
        beat = 60 / uniform(100, 160, (n, 1))
        position = t + uniform(0, 1, (n, 1)) * beat
        since_beat, beat_index = position % beat, (position // beat).astype(int)
        # A fast decay and a falling pitch (75 -> 45 Hz) make a kick drum.
        kick = np.exp(-since_beat / 0.07) * np.sin(
            2 * np.pi * (45 * since_beat + 0.9 * (1 - np.exp(-since_beat / 0.03))))
        on_fifth = np.take_along_axis(rng.uniform(0, 1, (n, 10)) < 0.4, beat_index, axis=1)
        bass_freq = 41.2 * 2 ** uniform(0, 1, (n, 1)) * np.where(on_fifth, 2 ** (7 / 12.0), 1.0)
        bass = np.exp(-since_beat / 0.25) * tone(bass_freq, [(1, 1.0), (2, 0.5), (3, 0.33), (4, 0.25)])
        return kick + 0.5 * bass, 0.1

    def split(num_rows):
        flipped = rng.uniform(0, 1, num_rows) < 0.03
        is_rock = (np.arange(num_rows) >= num_rows // 2) != flipped
        excerpts = np.empty((num_rows, SAMPLE_WIDTH), dtype=FLOATX)
        for first in range(0, num_rows, 1000):  # a block at a time keeps the temporaries small
            block = np.zeros(num_rows, bool)
            block[first:first + 1000] = True
            for make, rows in ((classical, block & ~is_rock), (rock, block & is_rock)):
                signal, typical_loudness = make(rows.sum())
                # Loudness (RMS) varies a lot within each class; classical is quieter on average.
                loudness = typical_loudness * rng.lognormal(0, 0.6, (len(signal), 1))
                signal *= loudness / np.sqrt(np.mean(signal ** 2, axis=1, keepdims=True))
                signal += rng.standard_normal(signal.shape).astype(np.float32) * uniform(0.002, 0.02, (len(signal), 1))
                excerpts[rows] = np.clip(signal, -1, 1)
        return excerpts

    return split(num_train), split(num_test)


# ---------------------------------------------------------------------------
# The model: a symbolic graph, its cost, the SGD updates, two compiled functions
# ---------------------------------------------------------------------------
def init_values(shape, random):
    # N(0, 0.1^2) as in the lesson, in floatX: float32 is what a GPU computes in.
    return (0.1 * random.standard_normal(shape)).astype(FLOATX)


class Model(object):
    """The network's parameters and its compiled `train_batch` and `evaluate` functions."""

    def __init__(self, hidden_sizes=(HIDDEN_1, HIDDEN_2), learning_rate=LEARNING_RATE,
                 loss="bce", seed=SEED, test_set=None):
        self.hidden_sizes, self.loss = tuple(hidden_sizes), loss
        random = np.random.RandomState(seed)
        sizes = (SAMPLE_WIDTH,) + tuple(hidden_sizes) + (1,)
        self.params = []
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params.append(theano.shared(init_values((fan_in, fan_out), random), name="W%d" % layer))
            self.params.append(theano.shared(init_values((fan_out,), random), name="B%d" % layer))

        inputs = theano.tensor.matrix("inputs")     # a batch of excerpts, one per row
        targets = theano.tensor.vector("targets")   # 0 classical, 1 rock

        # Hidden layers: ReLU(x W + b), layer by layer.
        activations = inputs
        weights, biases = self.params[0::2], self.params[1::2]
        for W, B in zip(weights[:-1], biases[:-1]):
            activations = theano.tensor.nnet.relu(theano.tensor.dot(activations, W) + B)
        # Output: one logit per excerpt, squashed to the probability of rock.
        logits = (theano.tensor.dot(activations, weights[-1]) + biases[-1]).flatten()
        predictions = theano.tensor.nnet.sigmoid(logits)

        if loss == "bce":
            # Binary cross-entropy written from the logits: -t log s(z) - (1-t) log(1-s(z))
            # equals softplus(z) - t z, which stays finite when the sigmoid saturates,
            # whatever rewrites the back end (CPU or GPU) does or does not apply.
            cost = theano.tensor.mean(theano.tensor.nnet.softplus(logits) - targets * logits)
        elif loss == "mse":
            cost = theano.tensor.mean((predictions - targets) ** 2)  # the lesson's squared error
        else:
            raise ValueError("loss must be 'bce' or 'mse', not %r" % (loss,))

        gradients = theano.tensor.grad(cost, self.params)
        step = np.asarray(learning_rate, dtype=FLOATX)  # a float64 step would upcast the update
        updates = [(param, param - step * gradient) for param, gradient in zip(self.params, gradients)]

        started = time.time()
        self.train_batch = theano.function([inputs, targets], cost, updates=updates)
        # The loop feeds it DataServer's batches, already floatX matrices: skip checking each one (~3 us a call).
        self.train_batch.trust_input = True
        self.evaluate = theano.function([inputs, targets], [predictions, cost])
        self.evaluate_test = None
        if test_set is not None:
            # The test set is sent once to where the parameters live (the GPU, if there is
            # one) and evaluated there; only the small batches travel at every update.
            test_inputs, test_targets = (theano.shared(array) for array in test_set)
            self.evaluate_test = theano.function([], [predictions, cost],
                                                 givens={inputs: test_inputs, targets: test_targets})
        self.compile_seconds = time.time() - started

    def num_parameters(self):
        return sum(param.get_value(borrow=True).size for param in self.params)


# ---------------------------------------------------------------------------
# Training: NUM_UPDATES steps of SGD, an evaluation on the test set every EVAL_STEP
# ---------------------------------------------------------------------------
def evaluate_test_set(model, data):
    """Accuracy (a probability of rock above 0.5 counts as rock) and loss on the whole test set."""
    inputs, targets = data.get_test()
    predictions, loss = model.evaluate_test() if model.evaluate_test else model.evaluate(inputs, targets)
    return float(np.mean((predictions > 0.5) == (targets > 0.5))), float(loss)


def train(model, data, num_updates=NUM_UPDATES, eval_step=EVAL_STEP, batch_size=BATCH_SIZE, log=print):
    """Train in place; returns the history, one (update, train loss, test loss, accuracy) per evaluation."""
    history, batch_losses = [], []
    started = time.time()
    for update in range(1, num_updates + 1):
        batch_losses.append(model.train_batch(*data.get_train_sample(batch_size)))
        if update % eval_step == 0:
            accuracy, test_loss = evaluate_test_set(model, data)
            train_loss = float(np.mean(batch_losses))  # averaged over the updates since the last evaluation
            batch_losses = []
            history.append((update, train_loss, test_loss, accuracy))
            log("Accuracy after update %d/%d: %.2f%%  test loss %.4f  train loss %.4f  (%.1f s)"
                % (update, num_updates, 100 * accuracy, test_loss, train_loss, time.time() - started))
    return history


def report(model, train_seconds, num_updates, stand_in, log=print):
    log("")
    log("Parameters:")
    for param in model.params:
        value = param.get_value(borrow=True)
        log("  %-3s %-8s %s" % (param.name, value.dtype, value.shape))
    line = "%s parameters; compiling took %.1f s" % ("{:,}".format(model.num_parameters()), model.compile_seconds)
    if num_updates:
        line += ", training %.1f s (%d updates, %.0f us each)" % (
            train_seconds, num_updates, 1e6 * train_seconds / num_updates)
    log(line)
    if stand_in:
        log("Trained on the generated stand-in, not the lesson's recordings: "
            "README \"The data\" says how to get them.")


# ---------------------------------------------------------------------------
# After the lesson: keep the model, classify your own recordings, draw the curve
# ---------------------------------------------------------------------------
MODEL_FORMAT = "genre_mlp model 1"   # marks our model files apart from other .npz files
LESSON_ACCURACY = 0.83               # what the lesson reports on its real data


class ModelFileError(Exception):
    """A model file that cannot be used; the message is one line naming the problem and the fix."""


def write_atomically(path, write):
    """Write through a temporary file beside `path`, then rename it into place.

    An interrupted or failed write never leaves a half-written file, and the old
    file stays as it was until the new one is complete.
    """
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                                         prefix="." + os.path.basename(path) + ".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def save_model(model, path, test_accuracy):
    arrays = {param.name: param.get_value() for param in model.params}
    arrays.update(format=np.array(MODEL_FORMAT), hidden_sizes=np.array(model.hidden_sizes),
                  loss=np.array(model.loss), test_accuracy=np.array(test_accuracy))
    write_atomically(path, lambda stream: np.savez(stream, **arrays))


def read_model_file(path):
    """The arrays of a model file written by --save, checked against the network's shapes."""
    fix = "give a file written by `genre_mlp.py --save`"
    arrays = read_npz(path, ModelFileError, fix)
    if str(arrays.get("format")) != MODEL_FORMAT:
        raise ModelFileError("%s is not a genre_mlp model file; %s" % (path, fix))
    sizes = (SAMPLE_WIDTH,) + tuple(int(n) for n in arrays["hidden_sizes"]) + (1,)
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        for name, shape in (("W%d" % layer, (fan_in, fan_out)), ("B%d" % layer, (fan_out,))):
            value = arrays.get(name)
            if value is None or value.shape != shape or not np.isfinite(value).all():
                raise ModelFileError("%s: %s is missing, damaged or not of shape %s; %s"
                                     % (path, name, shape, fix))
    return arrays


def load_parameters(model, arrays):
    for param in model.params:
        param.set_value(arrays[param.name].astype(FLOATX))


def model_from_saved(arrays, learning_rate=LEARNING_RATE, loss=None, seed=SEED, test_set=None):
    """A compiled network of the saved sizes (and loss, unless given), holding the saved parameters."""
    model = Model(tuple(int(n) for n in arrays["hidden_sizes"]), learning_rate,
                  loss or str(arrays["loss"]), seed, test_set)
    load_parameters(model, arrays)
    return model


def classify_files(model, paths, log=print):
    """Print the verdict for each audio file; returns how many could not be classified."""
    from tools import audio  # decoding and resampling, shared with the data set builder
    failures = 0
    for path in paths:
        try:
            signal = audio.load_mono_400hz(path)
            windows = audio.windows(signal)  # every 3 s of the file
        except audio.AudioError as error:
            message = str(error) if str(error).startswith(str(path)) else "%s: %s" % (path, error)
            print("error: %s" % message, file=sys.stderr)
            failures += 1
            continue
        # As the data set was made: the middle 3 s decide; a longer file also gets a vote.
        middle = audio.middle_excerpt(signal)[None, :]
        rock = float(model.evaluate(middle, np.zeros(1, FLOATX))[0][0])
        line = "%s: %s (probability of rock %.2f)" % (path, "rock" if rock > 0.5 else "classical", rock)
        if len(windows) > 1:
            votes = model.evaluate(windows, np.zeros(len(windows), FLOATX))[0] > 0.5
            verdict = "rock" if votes.mean() > 0.5 else "classical"
            line += "; vote over %d windows of 3 s: %s (%d say rock)" % (len(windows), verdict, votes.sum())
        log(line)
    return failures


def write_curve(path, history):
    lines = ["update,train_loss,test_loss,test_accuracy"]
    lines += ["%d,%.6f,%.6f,%.6f" % row for row in history]
    write_atomically(path, lambda stream: stream.write(("\n".join(lines) + "\n").encode()))


def plot_curve(path, history, loss):
    import matplotlib
    matplotlib.use("Agg")  # files only, no screen needed
    import matplotlib.pyplot as plt
    updates, train_loss, test_loss, accuracy = (np.array(column, dtype=float) for column in zip(*history))
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(updates, 100 * accuracy, "o-", label="test accuracy")
    left.axhline(100 * LESSON_ACCURACY, color="gray", linestyle="--", label="the lesson's 83% (real data)")
    left.set(xlabel="update", ylabel="test accuracy (%)", title="Accuracy", ylim=(40, 100))
    right.plot(updates, train_loss, "o-", label="train loss (batches since last evaluation)")
    right.plot(updates, test_loss, "s-", label="test loss")
    right.set(xlabel="update", ylabel={"bce": "binary cross-entropy", "mse": "squared error"}[loss],
              title="Loss")
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    write_atomically(path, lambda stream: figure.savefig(stream, format="png", dpi=100))
    plt.close(figure)


# ---------------------------------------------------------------------------
# main: the command line
# ---------------------------------------------------------------------------
def positive(kind):
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("must be greater than 0, not %s" % text)
        return value
    return parse


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Train the lesson's MLP to tell classical from rock in 3 s of 400 Hz audio.")
    parser.add_argument("--data", help="the lesson's .npz file (default: %s next to this script, "
                        "else %s, else a generated stand-in)" % (os.path.basename(IN_FILE), LATER_NAME))
    parser.add_argument("--updates", type=int, default=NUM_UPDATES,
                        help="SGD updates (default %(default)s; 0 with --load only evaluates)")
    parser.add_argument("--eval-step", type=positive(int), default=EVAL_STEP,
                        help="evaluate on the test set every this many updates (default %(default)s)")
    parser.add_argument("--batch-size", type=positive(int), default=BATCH_SIZE, help="default %(default)s")
    parser.add_argument("--learning-rate", type=positive(float), default=LEARNING_RATE, help="default %(default)s")
    parser.add_argument("--seed", type=int, default=SEED, help="seeds the weights, the batches and "
                        "the stand-in data (default %(default)s)")
    parser.add_argument("--loss", choices=("bce", "mse"),
                        help="bce: binary cross-entropy (the default); mse: the lesson's squared error")
    keep = parser.add_argument_group("keeping and using the model")
    keep.add_argument("--save", metavar="MODEL.npz", help="write the trained parameters to this file")
    keep.add_argument("--load", metavar="MODEL.npz", help="start from the parameters in this file")
    keep.add_argument("--predict", nargs="+", metavar=("MODEL.npz", "AUDIO"),
                      help="classify audio files (WAV, FLAC, OGG; MP3 with ffmpeg) with a saved model")
    keep.add_argument("--curve", metavar="CURVE.csv", help="write every evaluation to this CSV file")
    keep.add_argument("--plot", metavar="CURVE.png", help="draw the learning curve (needs matplotlib)")
    args = parser.parse_args(argv)

    if args.predict is not None:
        if len(args.predict) < 2:
            parser.error("--predict needs a model file and at least one audio file")
        return args
    if args.updates < 0 or (args.updates == 0 and not args.load):
        parser.error("--updates must be greater than 0 (0 only evaluates a model given with --load)")
    if args.updates and args.eval_step > args.updates:
        parser.error("--eval-step %d is larger than --updates %d: no evaluation would run; "
                     "give a smaller --eval-step" % (args.eval_step, args.updates))
    for option in ("save", "curve", "plot"):
        path = getattr(args, option)
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            parser.error("--%s %s: its folder does not exist; create it first" % (option, path))
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        parser.error("--plot needs matplotlib, which is not installed; "
                     "pip install -r tools/requirements.txt")
    return args


def open_data(path, seed, log=print):
    """The DataServer for --data, the lesson's file, its later name, or else the stand-in."""
    if path is not None:
        return DataServer(path, seed), False
    for candidate in (IN_FILE, os.path.join(HERE, LATER_NAME)):
        if os.path.exists(candidate):
            if candidate != IN_FILE:
                log("Using %s (the lesson's data file under its later name)." % candidate)
            return DataServer(candidate, seed), False
    log("The lesson's data file %s was not found (README \"The data\" says where to get it).\n"
        "Training on a generated stand-in of the same shape instead: 8000 + 2000 excerpts of\n"
        "sustained chords (classical) and drums with bass (rock), made from seed %d.\n"
        % (os.path.basename(IN_FILE), seed))
    return DataServer(seed=seed, arrays=make_stand_in(seed)), True


def device_name():
    """Where the work runs: cpu, or the gpuarray context Theano opened (e.g. cuda0: <name>)."""
    if theano.config.device.startswith(("cuda", "opencl")) and theano.gpuarray.pygpu_activated:
        return "%s: %s" % (theano.config.device, theano.gpuarray.type.get_context(None).devname)
    return "cpu"


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.predict:
            model = model_from_saved(read_model_file(args.predict[0]))
            sys.exit(1 if classify_files(model, args.predict[1:]) else 0)
        data, stand_in = open_data(args.data, args.seed)
        arrays = read_model_file(args.load) if args.load else None
    except (DataError, ModelFileError) as error:
        sys.exit("error: %s" % error)
    print("Theano %s on %s, floatX=%s, BLAS: %s" % (theano.__version__, device_name(), FLOATX, BLAS_NAME))

    if arrays:
        model = model_from_saved(arrays, args.learning_rate, args.loss, args.seed, data.get_test())
        print("Starting from the parameters in %s." % args.load)
    else:
        model = Model(learning_rate=args.learning_rate, loss=args.loss or "bce", seed=args.seed,
                      test_set=data.get_test())
    started = time.time()
    if args.updates:
        history = train(model, data, args.updates, args.eval_step, args.batch_size)
    else:
        accuracy, test_loss = evaluate_test_set(model, data)
        history = [(0, float("nan"), test_loss, accuracy)]
        print("Accuracy of the loaded model: %.2f%%  test loss %.4f" % (100 * accuracy, test_loss))
    report(model, time.time() - started, args.updates, stand_in)

    if args.save:
        save_model(model, args.save, history[-1][3])
        print("Saved the model to %s." % args.save)
    if args.curve:
        write_curve(args.curve, history)
        print("Wrote the learning curve to %s." % args.curve)
    if args.plot:
        plot_curve(args.plot, history, model.loss)
        print("Drew the learning curve in %s." % args.plot)


if __name__ == "__main__":
    main()
