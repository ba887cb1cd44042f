#!/usr/bin/env python3
# %% [markdown]
# # Music genre prediction using Theano
#
# Classical or rock, from 3 s of mono audio at 400 Hz (1200 samples): a multilayer
# perceptron written as a symbolic Theano graph and trained with SGD. The cells
# below define the lesson step by step; the last one runs it, printing the test
# accuracy every 500 updates, and draws random excerpts and the learning curve.
#
# **Where the packages come from.** `make notebook` runs this notebook in the venv
# `make setup` makes. A kernel without the lesson's packages (a hosted notebook such
# as Colab) gets them from the next cell, installed into the kernel's own Python,
# once; open the notebook from the project's folder (on Colab: `!git clone` the
# project and `%cd` into it first).

# %%
"""Music genre prediction using Theano: classical or rock, from 3 s of audio at 400 Hz.

A multilayer perceptron, 1200 -> 256 (ReLU) -> 64 (ReLU) -> 1 (sigmoid), written
as a symbolic Theano graph and trained with plain SGD on binary cross-entropy.
The output is the probability that the excerpt is rock.

    python genre_mlp.py                              # train on the CPU
    THEANO_FLAGS=device=cuda python genre_mlp.py     # on a GPU (README, "GPU")
    python genre_mlp.py --help                       # every option
    make notebook                                    # as a notebook: genre_mlp.ipynb
"""
import argparse
import importlib.util
import math
import os
import sys
import time

# A notebook's cells run with no __file__, and the script always has one.
IN_NOTEBOOK = "__file__" not in globals()
if IN_NOTEBOOK:
    from lesson_helpers.notebook import install_missing_packages
    install_missing_packages()  # only where the kernel cannot import them yet

# ---------------------------------------------------------------------------
# Theano 1.0.5 on today's Python. theano_today/theano_setup.py sets the flags, the NumPy
# aliases and the BLAS threads it needs, before anything loads NumPy or Theano;
# nothing in it is part of the lesson.
# ---------------------------------------------------------------------------
from theano_today import theano_setup
from theano_today.theano_setup import SetupError, import_theano

import numpy as np

try:
    theano, BLAS_NAME = import_theano()
except SetupError as error:
    sys.exit("error: %s" % error)
import theano.tensor

# What is not the lesson lives in lesson_helpers/: the data file's rules, the stand-in
# data, model files, prediction on audio files, the learning curve and the pictures,
# the weights' alignment.
from lesson_helpers import cli, data_file
from lesson_helpers.data_file import DataError, load_data_file
from lesson_helpers.files import WriteError, check_writable
from lesson_helpers.model_file import LOSSES, ModelFileError, model_from_saved, read_model_file, save_model
from lesson_helpers.curve import curve_figure, write_curve
from lesson_helpers.stand_in import make_stand_in
from lesson_helpers.aligned import aligned
from lesson_helpers.pictures import draw, samples_figure

# %% [markdown]
# ## The lesson's constants
# The data file, the sizes of the network, and the training schedule.

# %%
# ---------------------------------------------------------------------------
# The lesson's constants (each one can be overridden on the command line)
# ---------------------------------------------------------------------------
# In a notebook the lesson's folder is the working directory.
HERE = os.getcwd() if IN_NOTEBOOK else os.path.dirname(os.path.abspath(__file__))
IN_FILE = os.path.join(HERE, "sample_3s_400Hz.npz")   # the lesson's data file, next to this script
LATER_NAME = "classical_vs_rock.npz"                   # the name its author later published it under
SAMPLE_WIDTH = data_file.SAMPLE_WIDTH                  # 1200: 3 s of audio at 400 Hz

HIDDEN_1 = 256             # units in the first hidden layer
HIDDEN_2 = 64              # units in the second

BATCH_SIZE = 16            # excerpts per update
LEARNING_RATE = 0.01       # small, because there are many weights to move steadily

NUM_UPDATES = 5000         # each training excerpt is seen about 10 times (5000 * 16 / 8000)
EVAL_STEP = 500            # evaluate on the test set ten times
SEED = 1234                # fixed, so two runs print the same numbers

FLOATX = theano.config.floatX  # float32 unless THEANO_FLAGS says otherwise

# %% tags=["parameters"]
# A notebook takes the options here, as a list: the kernel's own command line is not
# the lesson's. For example NOTEBOOK_ARGS = ["--updates", "1000", "--loss", "mse"].
NOTEBOOK_ARGS = []

# %% [markdown]
# ## The data
# The file holds a training and a test split of 1200-sample excerpts, without labels:
# the first half of each split is classical (0), the second half rock (1).
# `DataServer` hands out the test set whole and random training batches.

# %%
# ---------------------------------------------------------------------------
# The data
# ---------------------------------------------------------------------------
def labels_by_halves(num_rows):
    """The file stores no labels: the first half of each split is classical (0), the rest rock (1)."""
    targets = np.zeros(num_rows, dtype=FLOATX)
    targets[num_rows // 2:] = 1.0  # the lesson wrote /2, a float index in Python 3
    return targets


class DataServer(object):
    """Hands out the test set whole and the training set one random batch at a time."""

    def __init__(self, path=IN_FILE, seed=SEED, arrays=None):
        # load_data_file checks the file (lesson_helpers/data_file.py) and converts it to floatX.
        self.train, self.test = arrays if arrays is not None else load_data_file(path, FLOATX)
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


# %% [markdown]
# ## The model
# Symbolic inputs, two ReLU layers and a sigmoid output; the cost, its gradients
# from `theano.tensor.grad`, the SGD updates, and the two compiled functions:
# `train_batch` applies the updates, `evaluate` only predicts.

# %%
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
            # borrow=True: Theano keeps these very arrays, aligned for the BLAS (lesson_helpers/aligned.py).
            for name, shape in (("W%d" % layer, (fan_in, fan_out)), ("B%d" % layer, (fan_out,))):
                self.params.append(theano.shared(aligned(init_values(shape, random)), name=name, borrow=True))

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


# %% [markdown]
# ## Training
# NUM_UPDATES steps of SGD on random batches, with the test accuracy every EVAL_STEP,
# then the shape and dtype of every parameter.

# %%
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
        # Every eval_step updates, and after the last one, so that --save and --curve
        # always record the network as it ends.
        if update % eval_step == 0 or update == num_updates:
            accuracy, test_loss = evaluate_test_set(model, data)
            train_loss = float(np.mean(batch_losses))  # averaged over the updates since the last evaluation
            batch_losses = []
            history.append((update, train_loss, test_loss, accuracy))
            log("Accuracy after update %d/%d: %.2f%%  test loss %.4f  train loss %.4f  (%.1f s)"
                % (update, num_updates, 100 * accuracy, test_loss, train_loss, time.time() - started))
    return history


def report(model, train_seconds, num_updates, stand_in, log=print, baseline=None):
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
    if baseline:
        log(baseline)  # what loudness alone achieves, beside the network (lesson_helpers/loudness.py)
    if stand_in:
        log("Trained on the generated stand-in, not the lesson's recordings: "
            "`make data` downloads them (README \"The data\").")


# %% [markdown]
# ## The options, the data file, and the run
# What the command line offers (`python genre_mlp.py --help`), which data file is
# used, and `run`: the pictures, the training and the report, in order.

# %%
# ---------------------------------------------------------------------------
# main: the command line
# ---------------------------------------------------------------------------
def positive(kind):
    def parse(text):
        value = kind(text)
        if not math.isfinite(value) or value <= 0:  # float("nan") and float("inf") parse
            raise argparse.ArgumentTypeError("must be a %s greater than 0, not %s"
                                             % ("finite number" if kind is float else "whole number", text))
        return value
    return parse


def parse_args(argv):
    parser = cli.Parser(
        prog="genre_mlp.py", description="Train the lesson's MLP to tell classical from rock in 3 s of 400 Hz audio.")
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
    parser.add_argument("--loss", choices=LOSSES,
                        help="bce: binary cross-entropy (the default); mse: the lesson's squared error")
    keep = parser.add_argument_group("keeping and using the model")
    keep.add_argument("--save", metavar="MODEL.npz", help="write the trained parameters to this file")
    keep.add_argument("--load", metavar="MODEL.npz", help="start from the parameters in this file")
    keep.add_argument("--predict", nargs="+", metavar=("MODEL.npz", "AUDIO"),
                      help="classify audio files (WAV, FLAC, OGG; MP3 with ffmpeg) with a saved model: "
                      "the middle 3 s decide; a longer file also gets a vote over its 3-s windows, "
                      "a tied vote going the way of the middle 3 s")
    keep.add_argument("--curve", metavar="CURVE.csv", help="write every evaluation to this CSV file")
    keep.add_argument("--plot", metavar="CURVE.png", help="draw the learning curve (needs matplotlib)")
    keep.add_argument("--plot-samples", metavar="SAMPLES.png",
                      help="draw random training excerpts of each class (needs matplotlib)")
    args = parser.parse_args(argv)

    if args.predict is not None:
        if len(args.predict) < 2:
            parser.error("--predict needs a model file and at least one audio file")
        if importlib.util.find_spec("soundfile") is None:
            parser.error("--predict needs soundfile, which is not installed; "
                         "pip install -r lesson_helpers/requirements.txt")
        return args
    if args.updates < 0 or (args.updates == 0 and not args.load):
        parser.error("--updates must be greater than 0 (0 only evaluates a model given with --load)")
    if args.updates and args.eval_step > args.updates:
        parser.error("--eval-step %d is larger than --updates %d: only the final evaluation "
                     "would run; give a smaller --eval-step" % (args.eval_step, args.updates))
    for option, example in (("save", "model.npz"), ("curve", "curve.csv"), ("plot", "curve.png"),
                            ("plot_samples", "samples.png")):
        try:
            if getattr(args, option):
                check_writable(getattr(args, option), example)  # now, not after the whole training
        except WriteError as error:
            parser.error("--%s: %s" % (option.replace("_", "-"), error))
    for option in ("plot", "plot_samples"):
        if getattr(args, option) and importlib.util.find_spec("matplotlib") is None:
            parser.error("--%s needs matplotlib, which is not installed; "
                         "pip install -r lesson_helpers/requirements.txt" % option.replace("_", "-"))
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
    log("The lesson's data file %s was not found (`make data` downloads it; README \"The data\").\n"
        "Training on a generated stand-in of the same shape instead: 8000 + 2000 excerpts of\n"
        "sustained chords (classical) and drums with bass (rock), made from seed %d.\n"
        % (os.path.basename(IN_FILE), seed))
    return DataServer(seed=seed, arrays=make_stand_in(seed, dtype=FLOATX)), True


def device_name():
    """Where the work runs: cpu, or the gpuarray context Theano opened (e.g. cuda0: <name>)."""
    if theano.config.device.startswith(("cuda", "opencl")) and theano.gpuarray.pygpu_activated:
        if theano.config.device.startswith("cuda") and theano_setup.CUDA_LIBRARIES:
            return "%s: %s" % (theano.config.device, theano_setup.CUDA_LIBRARIES)  # names the libraries too
        return "%s: %s" % (theano.config.device, theano.gpuarray.type.get_context(None).devname)
    return "cpu"


def main(argv=None, inline=False):
    """The script's command line (argv: its options); inline=True also shows the pictures in a notebook."""
    args = parse_args(argv)
    try:
        if args.predict:
            from lesson_helpers.predict import classify_files  # needs soundfile (lesson_helpers/requirements.txt)
            model = model_from_saved(Model, read_model_file(args.predict[0]), LEARNING_RATE)
            sys.exit(1 if classify_files(model, args.predict[1:]) else 0)
        run(args, inline)
    except (DataError, ModelFileError, WriteError) as error:
        sys.exit("error: %s" % error)


def run(args, inline=False):
    """Train (or only evaluate), report, and write and show what was asked for."""
    arrays = read_model_file(args.load) if args.load else None  # before the data: a bad file fails fast
    data, stand_in = open_data(args.data, args.seed)
    print("Theano %s on %s, floatX=%s, BLAS: %s" % (theano.__version__, device_name(), FLOATX, BLAS_NAME))
    pictures = inline and importlib.util.find_spec("matplotlib") is not None
    if inline and not pictures:
        print("No pictures: matplotlib is not installed (pip install -r lesson_helpers/requirements.txt).")
    if args.plot_samples or pictures:
        # Before the network, as in the lesson: what the excerpts of each class look like.
        draw(samples_figure(data.train, data.train_targets, args.seed), args.plot_samples, pictures)
        if args.plot_samples:
            print("Drew random excerpts of each class in %s." % args.plot_samples)

    if arrays:
        model = model_from_saved(Model, arrays, args.learning_rate, args.loss, args.seed, data.get_test())
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
    train_seconds = time.time() - started
    from lesson_helpers import loudness  # NumPy only: the best threshold on each excerpt's RMS
    baseline = loudness.summary_line(data.train, data.train_targets, data.test, data.test_targets,
                                     history[-1][3])
    report(model, train_seconds, args.updates, stand_in, baseline=baseline)

    if args.save:
        save_model(model, args.save, history[-1][3])
        print("Saved the model to %s." % args.save)
    if args.curve:
        write_curve(args.curve, history)
        print("Wrote the learning curve to %s." % args.curve)
    if args.plot or pictures:
        draw(curve_figure(history, model.loss), args.plot, pictures)
        if args.plot:
            print("Drew the learning curve in %s." % args.plot)


# %% [markdown]
# ## Run the lesson
# On the stand-in data this takes about half a minute on a CPU. For a shorter run, set
# NOTEBOOK_ARGS above (or `make notebook ARGS="--updates 1000"`).

# %%
if __name__ == "__main__":
    if IN_NOTEBOOK:
        main(NOTEBOOK_ARGS, inline=True)
    else:
        main()
