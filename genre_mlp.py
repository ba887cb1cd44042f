#!/usr/bin/env python3
# %% [markdown]
# # Music genre prediction using Theano
#
# Can a computer hear the difference between an orchestra and a rock band from three
# seconds of sound? In this lesson we build a small neural network that tries, write it
# as a symbolic graph in Theano, train it with stochastic gradient descent, and then look
# hard at what it learned, and at what a much simpler rule achieves.
#
# **The challenge.** Each example is a mono recording of 3 seconds, sampled 400 times
# a second: a row of 1200 numbers. The network reads those numbers and answers with one
# number between 0 and 1, the probability that the music is rock. Anything above 0.5 we
# count as "rock", anything else as "classical".
#
# **How to read this.** Every code cell below does one step and shows what it did: the
# data, the untrained network, a single training step, the training, the results, and
# the network used on an audio file. Run them in order. The same file, `genre_mlp.py`,
# is also a script (`python genre_mlp.py --help`), and the options it takes can be given
# here through `NOTEBOOK_ARGS`; the exercises at the end use them.
#
# **Where the packages come from.** `make notebook` runs this notebook in the venv
# `make setup` makes. A kernel without the lesson's packages (a hosted notebook such
# as Colab) gets them from the next cell, installed into the kernel's own Python,
# once; open the notebook from the project's folder (on Colab: `!git clone` the
# project and `%cd` into it first).
#
# **The first code cell** imports NumPy and Theano, as every lesson of the series does.
# Before them, one call prepares Theano 1.0.5 (from 2017) for today's Python and NumPy: its
# flags, the glue for NumPy 2, the options checked before anything loads, and one-line
# errors instead of tracebacks. None of that is the lesson; it lives in `theano_today/` and
# `lesson_helpers/`, and you can skip it.

# %%
"""Music genre prediction using Theano: classical or rock, from 3 s of audio at 400 Hz.

    python genre_mlp.py            # the lesson as a script; --help lists every option
    make notebook                  # the same cells as a notebook (genre_mlp.ipynb)
"""
from theano_today.lesson_start import prepare_theano_for_today
prepare_theano_for_today()  # flags, NumPy 2 glue, one-line errors, the options checked: none of it the lesson
import os
import time
import numpy as np
import theano
import theano.tensor

# %% [markdown]
# ## The lesson's constants
#
# A few numbers decide how the network is built and trained. They are called
# *meta-parameters* (or hyper-parameters): the training does not learn them, we choose
# them, and each option of the script overrides one of them.
#
# - **`BATCH_SIZE = 16`.** Each training step looks at 16 excerpts at once and moves the
#   weights in the direction that helps all 16 on average. A step computed from a single
#   excerpt would chase that excerpt's quirks, and the next excerpt would pull the
#   weights somewhere else; an average over a handful points more reliably towards what
#   helps excerpts the network has not seen. Larger batches cost more per step and, for
#   the same number of steps, see more data; 16 is a modest compromise.
# - **`LEARNING_RATE = 0.01`.** How far each step moves the weights along the gradient.
#   With about 324,000 weights, a large step lets a few unlucky batches throw the network
#   far off; a small one makes progress slowly but steadily. The exercises let you see
#   both ends.
# - **`NUM_UPDATES = 5000`.** Because each step is small, we need many of them. 5000
#   steps of 16 excerpts are 80,000 excerpts: each of the 8000 training excerpts is seen
#   about ten times.
# - **`EVAL_STEP = 500`.** Every 500 steps we stop and measure the network on the test
#   set, so we watch the training progress ten times.
# - **`HIDDEN_1 = 256`, `HIDDEN_2 = 64`.** The widths of the two hidden layers (below).
# - **`SEED = 1234`.** Every random choice (the first weights, the batches, the stand-in
#   data) comes from this seed, so two runs print the same numbers.

# %%
HERE = os.path.dirname(os.path.abspath(globals().get("__file__", "genre_mlp.py")))  # a notebook: its folder
IN_FILE = os.path.join(HERE, "sample_3s_400Hz.npz")   # the lesson's data file, next to this script
LATER_NAME = "classical_vs_rock.npz"                   # the name its author later published it under
SAMPLE_WIDTH = 1200                                    # 3 s of audio at 400 Hz

HIDDEN_1 = 256             # units in the first hidden layer
HIDDEN_2 = 64              # units in the second

BATCH_SIZE = 16            # excerpts per update
LEARNING_RATE = 0.01       # small, because there are many weights to move steadily

NUM_UPDATES = 5000         # each training excerpt is seen about 10 times (5000 * 16 / 8000)
EVAL_STEP = 500            # evaluate on the test set ten times
SEED = 1234                # fixed, so two runs print the same numbers

FLOATX = theano.config.floatX  # float32 unless THEANO_FLAGS says otherwise

# %% [markdown]
# ## The options
#
# In the script, options come from the command line. In the notebook they come from
# `NOTEBOOK_ARGS` in the next cell: a list of the same options, for example
# `NOTEBOOK_ARGS = ["--updates", "1000", "--loss", "mse"]`. Change it and run all the
# cells again. `make notebook ARGS="--updates 1000"` does the same from a terminal.
#
# From the cell after it on, each cell's steps sit under `if __name__ == "__main__":`.
# That is true when the script runs and in a notebook, and false when another program
# (the tests, the benchmark) imports `genre_mlp` to use its pieces: importing runs none of
# the lesson's steps. With `--predict` the run only classifies audio files, with the
# `Model` defined further down (the script imports its own file for it), and stops there.

# %% tags=["parameters"]
# A notebook takes the options here, as a list: the kernel's own command line is not
# the lesson's. For example NOTEBOOK_ARGS = ["--updates", "1000", "--loss", "mse"].
NOTEBOOK_ARGS = []

# %%
from lesson_helpers.command_line import options

if __name__ == "__main__":
    args = options.read_options(NOTEBOOK_ARGS, globals())  # each option's default: a constant above
    if args.predict:  # --predict MODEL.npz AUDIO...: only classify the files, with the Model below
        from genre_mlp import Model
        from lesson_helpers.sound.predict import predict_and_stop  # loads soundfile and SciPy's filters
        predict_and_stop(Model, args.predict, LEARNING_RATE)

# %% [markdown]
# ## The data
#
# The excerpts come from [Google AudioSet](https://research.google.com/audioset/), a large
# collection of YouTube videos in which people marked ten-second stretches with what can
# be heard there: speech, a dog, an engine, or a genre of music. For this lesson, videos
# tagged "classical music" and videos tagged "rock music" were downloaded, the marked
# ten seconds cut out, and the middle 3 seconds of those kept and resampled to 400 Hz.
#
# 400 Hz is a very low rate. A recording can only hold frequencies below half its sampling
# rate (the *Nyquist frequency*), here 200 Hz: the bass line, the kick drum, the lowest
# notes of a cello or a piano, and the way loudness rises and falls with the rhythm. What
# makes a violin sound like a violin and a guitar like a guitar (its harmonics), the
# cymbals and hi-hats and most of a voice all live above 200 Hz and are gone. On top of
# that, some of the videos are of poor quality, and some are labelled wrongly (a "rock"
# video that starts with a spoken introduction, say). The network has to cope with all of it.
#
# There are 10,000 excerpts, 5000 of each class, split 80/20: 8000 to train on and 2000 to
# test on, each split half classical and half rock. The file stores no labels at all:
# by convention the first half of each split is classical (label 0) and the second half
# rock (label 1). `DataServer` hides that detail: it hands out the test set whole, and
# random batches of training excerpts with their labels.
#
# When the lesson's file is not beside this notebook, the next cell fetches it first (48 MB
# from Google Drive, checked, as `make data` does). Offline, or when that fails, the
# lesson trains on a generated stand-in of the same shape instead and says why: sustained
# chords for classical, drums and bass for rock. It lets every step run, but its numbers
# are not the lesson's findings. `NOTEBOOK_ARGS = ["--stand-in"]` asks for it outright.

# %%
from lesson_helpers.data import loudness
from lesson_helpers.data.data_file import load_data_file
from lesson_helpers.data.lesson_data import open_data
from theano_today.lesson_start import where_it_runs


def labels_by_halves(num_rows):
    """The file stores no labels: the first half of each split is classical (0), the rest rock (1)."""
    targets = np.zeros(num_rows, dtype=FLOATX)
    targets[num_rows // 2:] = 1.0  # the lesson wrote /2, a float index in Python 3
    return targets


class DataServer(object):
    """Hands out the test set whole and the training set one random batch at a time."""

    def __init__(self, path=IN_FILE, seed=SEED, arrays=None):
        # load_data_file checks the file (lesson_helpers/data/data_file.py) and converts it to floatX.
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


if __name__ == "__main__":
    # --data, else the lesson's file (or its later name) beside this one, fetched if absent, else the stand-in
    data, stand_in = open_data(DataServer, args.data, args.seed, (IN_FILE, os.path.join(HERE, LATER_NAME)), FLOATX,
                               args.stand_in)
    options.check_against_data(args, data, theano.config.device)  # before anything compiles
    if args.same_loudness:
        loudness.same_loudness(data)
    print(where_it_runs())  # Theano's version, the device, floatX and the BLAS
    loudness.describe_data(data)

# %% [markdown]
# Numbers say little about sound, so let us look. Below are four random training
# excerpts of each class, drawn as waveforms: time along the bottom, the amplitude (the
# air pressure the microphone measured, on the file's scale) up the side. Each panel
# has its own vertical scale, because classical excerpts are often much quieter than
# rock and would look flat beside them. Look for regular beats in the rock column.

# %%
from lesson_helpers.drawing import pictures

if __name__ == "__main__":
    # A generator of its own: the batches the training draws stay the same.
    pictures.show(lambda: pictures.samples_figure(data.train, data.train_targets, args.seed, stand_in=stand_in),
                  args.plot_samples, "Drew random excerpts of each class in %s.")

# %% [markdown]
# And listen. A browser will not play sound at 400 samples a second, so the players
# below get each excerpt resampled to 8000 Hz; that adds no frequencies, so you hear
# exactly what the network gets: a muffled, bass-only version of the music, with the
# rhythm and the loudness still there but the cymbals, the brightness of the strings
# and most of the melody gone. The first is the first classical training excerpt, the
# second the first rock one.

# %% active="ipynb"
# from IPython.display import display
# from lesson_helpers.sound.listen import player
#
# for name, row in (("classical", 0), ("rock", len(data.train) // 2)):
#     print("%s: training excerpt %d" % (name, row))
#     display(player(data.train[row]))

# %% [markdown]
# ## The model
#
# **Why a multilayer perceptron.** In the earlier lessons one weighted sum of the inputs
# was enough. Telling genres apart is not that simple: no single weighting of 1200
# samples says "rock", because the same drum hit can come at any moment of the 3 s.
# A *multilayer perceptron* (MLP) stacks several layers of weighted sums. The first layer
# computes 256 different weighted sums of the 1200 samples, each a detector for some
# pattern; the second combines those 256 into 64; the last combines the 64 into one
# number. With enough units, such a stack can approximate very complicated functions.
#
# The weights start random, drawn from a normal distribution with standard deviation
# 0.1, as in the lesson; random, so that the 256 units of a layer start different and
# learn different things.
#
# Each parameter is a Theano *shared variable*, which lives inside the compiled functions
# between calls. Two details are for speed only: `aligned` places each array on a 64-byte
# boundary, where the BLAS reads it fastest, and `borrow=True` lets Theano keep that very
# array instead of a copy, so the alignment survives.

# %%
from lesson_helpers.data.aligned import aligned


def init_values(shape, random):
    # N(0, 0.1^2) as in the lesson, in floatX: float32 is what a GPU computes in.
    return (0.1 * random.standard_normal(shape)).astype(FLOATX)


def make_parameters(sizes, seed):
    """W1, B1, W2, B2, ...: one weight matrix and one bias vector per layer, as shared variables."""
    random = np.random.RandomState(seed)
    params = []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        for name, shape in (("W%d" % layer, (fan_in, fan_out)), ("B%d" % layer, (fan_out,))):
            params.append(theano.shared(aligned(init_values(shape, random)), name=name, borrow=True))
    return params

# %% [markdown]
# **ReLU.** Between the layers, each unit's sum goes through the *rectified linear unit*,
# `relu(x) = max(0, x)`: negative values become 0, positive ones pass. Without something
# non-linear there, two layers of weighted sums would collapse into one weighted sum,
# and the extra layers would add nothing. ReLU is the simplest non-linearity that works
# well, and its gradient (0 or 1) is cheap and does not fade away through the layers.
#
# **Sigmoid output.** The last layer gives one number per excerpt, any real value (the
# *logit*). The sigmoid `1 / (1 + exp(-z))` squashes it into (0, 1), which we read as the
# probability of rock.
#
# **A symbolic graph.** Theano does not compute as you write. `theano.tensor.matrix("inputs")`
# is a placeholder, and `relu(dot(inputs, W1) + B1)` builds a description of the
# computation, a graph of operations, without any numbers flowing.
#
# Here is the network's forward pass, written layer by layer.

# %%
def forward(inputs, params):
    """The layers written out: ReLU(x W + b) for each hidden layer, then one logit per excerpt
    and its sigmoid, the probability of rock."""
    weights, biases = params[0::2], params[1::2]
    activations = inputs
    for W, B in zip(weights[:-1], biases[:-1]):
        activations = theano.tensor.nnet.relu(theano.tensor.dot(activations, W) + B)
    logits = (theano.tensor.dot(activations, weights[-1]) + biases[-1]).flatten()
    return logits, theano.tensor.nnet.sigmoid(logits)

# %% [markdown]
# **The loss.** Training needs one number that says how wrong the network is. The
# lesson used the squared error `(p - t)^2` between the probability `p` and the label
# `t`. We use *binary cross-entropy*, `-t log p - (1 - t) log(1 - p)`: it punishes a
# confident wrong answer without limit (the squared error never exceeds 1), and its
# gradient does not vanish when the sigmoid saturates, so a badly wrong network still
# learns quickly. Written directly, `log p` is `log 0 = -inf` once `p` rounds to 0 in
# float32; with a little algebra the same loss is `softplus(z) - t z`, where
# `softplus(z) = log(1 + exp(z))`, which Theano computes without overflow for any `z`.
# `--loss mse` gives the lesson's squared error back (an exercise below).
#
# Because Theano holds the whole graph, `theano.grad(cost, params)` walks it
# backwards and builds a new graph for the gradient of the cost with respect to every
# weight (back-propagation, done for us). Each update is one step of *stochastic gradient
# descent* (SGD): the weight minus the learning rate times its gradient.

# %%
def cost_of(logits, predictions, targets, loss):
    if loss == "bce":  # -t log s(z) - (1-t) log(1-s(z)), written as softplus(z) - t z: finite for any z
        return theano.tensor.mean(theano.tensor.nnet.softplus(logits) - targets * logits)
    if loss == "mse":
        return theano.tensor.mean((predictions - targets) ** 2)  # the lesson's squared error
    raise ValueError("loss must be 'bce' or 'mse', not %r" % (loss,))


def sgd_updates(cost, params, learning_rate):
    """One step of SGD for every parameter: itself minus the learning rate times its gradient."""
    gradients = theano.grad(cost, params)
    step = np.asarray(learning_rate, dtype=FLOATX)  # a float64 step would upcast the update
    return [(param, param - step * gradient) for param, gradient in zip(params, gradients)]

# %% [markdown]
# Finally `theano.function(inputs, outputs, updates=...)` optimises the graph (merging
# operations, doing some in place), writes C code for it, compiles it, and returns an
# ordinary Python function. `updates` is the list of (shared variable, new value) pairs
# above, applied after every call. Two compiled functions come out: `train_batch`, which
# returns the cost and moves the weights, and `evaluate`, which only returns the
# predictions and the cost.
#
# Two more details are for speed. `trust_input = True` skips the check of every
# batch's type (about 3 us a call; `DataServer` always hands out floatX matrices).
# `evaluate_test` is `evaluate` with the test set put in through `givens`: the test set
# goes once to where the parameters live (a GPU, if there is one), and only the small
# batches travel at each update.

# %%
from lesson_helpers.command_line.model_file import check_loss, model_from_saved, read_model_file
from lesson_helpers.command_line.stopped import stage


class Model(object):
    """The network's parameters and its compiled `train_batch` and `evaluate` functions."""

    def __init__(self, hidden_sizes=(HIDDEN_1, HIDDEN_2), learning_rate=LEARNING_RATE,
                 loss="bce", seed=SEED, test_set=None):
        self.hidden_sizes, self.loss, self.learning_rate = tuple(hidden_sizes), loss, learning_rate
        self.params = make_parameters((SAMPLE_WIDTH,) + self.hidden_sizes + (1,), seed)
        inputs = theano.tensor.matrix("inputs")     # a batch of excerpts, one per row
        targets = theano.tensor.vector("targets")   # 0 classical, 1 rock
        logits, predictions = forward(inputs, self.params)
        self.cost = cost_of(logits, predictions, targets, loss)
        updates = sgd_updates(self.cost, self.params, learning_rate)
        self.compile(inputs, targets, predictions, updates, test_set)

    def compile(self, inputs, targets, predictions, updates, test_set):
        """train_batch, evaluate and evaluate_test, timed (the next lesson's Model uses it too)."""
        started = time.time()
        self.train_batch = theano.function([inputs, targets], self.cost, updates=updates)
        self.train_batch.trust_input = True
        self.evaluate = theano.function([inputs, targets], [predictions, self.cost])
        self.evaluate_test = None
        if test_set is not None:
            test_inputs, test_targets = (theano.shared(array) for array in test_set)
            self.evaluate_test = theano.function([], [predictions, self.cost],
                                                 givens={inputs: test_inputs, targets: test_targets})
        self.compile_seconds = time.time() - started

    def num_parameters(self):
        return sum(param.get_value(borrow=True).size for param in self.params)


if __name__ == "__main__":
    stage.now("while compiling the network")
    if args.load:  # --load MODEL.npz: the file's sizes and weights; the options give the rest
        model = model_from_saved(Model, read_model_file(args.load), args.learning_rate, args.loss, args.seed,
                                 data.get_test())
        print("Starting from the parameters in %s." % args.load)
    else:
        model = Model(args.hidden, args.learning_rate, args.loss or "bce", args.seed, test_set=data.get_test())
    print("%s parameters, compiled in %.1f s" % ("{:,}".format(model.num_parameters()), model.compile_seconds))

# %% [markdown]
# Before any training, how good is the network? With random weights it knows nothing
# about music, so it should be right about half the time, like a coin; and its
# cross-entropy should be near `log 2 = 0.693`, the loss of answering 0.5 for everything.
# We measure on the test set: 2000 excerpts the training never sees. *Test accuracy* is
# the share of them classified right. This is where the training starts.

# %%
def evaluate_test_set(model, data):
    """Accuracy (a probability of rock above 0.5 counts as rock) and loss on the whole test set."""
    inputs, targets = data.get_test()
    predictions, loss = model.evaluate_test() if model.evaluate_test else model.evaluate(inputs, targets)
    return float(np.mean((predictions > 0.5) == (targets > 0.5))), float(loss)


if __name__ == "__main__":
    stage.now("before training")
    accuracy, test_loss = evaluate_test_set(model, data)
    print("Accuracy %s: %.2f%%  test loss %.4f" % ("before training" if args.updates else "of the loaded model",
                                                   100 * accuracy, test_loss))
    start = (0, float("nan"), test_loss, accuracy)  # the curve's row of update 0 (no train loss yet)

# %% [markdown]
# What did `theano.function` actually compile? Each compiled function keeps its
# optimised graph. The next cell counts its operations, then draws one as a picture with
# Theano's own `theano.printing.pydotprint` (it needs pydot, which `make setup` installs,
# and Graphviz's `dot` command; without them the cell says so in one line). `train_batch`
# is too large to read on a page, so the picture is of `evaluate`, the forward pass
# alone; it is also saved as `lesson_files/evaluate.png` beside this notebook.
#
# In the picture, boxes are variables and ellipses are operations. Green boxes are the
# inputs (`inputs`, `targets`, and constants Theano folded in), cyan boxes the shared
# weights `W1` to `B3`, blue boxes the outputs; pink ellipses are element-wise
# operations, brown ones read a shape. A red arrow means the operation overwrites that
# input in place; a blue one that it returns a view of it.
#
# Read it from the top. `Dot22` multiplies the batch by `W1`; `InplaceDimShuffle{x,0}`
# turns the bias `B1` into a row, so that it is added to every excerpt. Theano has fused
# the `+ B1` and the ReLU into one pink ellipse, `Composite{(i0 * ((i1 + i2) + Abs((i1 +
# i2))))}` with `i0` the constant 0.5: `(x + |x|) / 2`, which is ReLU without a
# comparison. Layer 2 repeats it. For the output layer the dot, the bias and `Reshape`
# (our `flatten`) give the logits, and from them two branches: `ScalarSigmoid`, the
# predictions, and `softplus(z) - t z`, summed and divided by the batch size, the mean
# cost.
#
# `train_batch` holds this same forward pass (41 operations against `evaluate`'s 16),
# then the gradient that `theano.grad` built by walking the same boxes backwards (`sgn`
# for ReLU's slope, the transposes `W3.T`, `W2.T` and `inputs.T`), and then the updates:
# a `Gemm{inplace}` for each weight matrix, which computes `W - 0.01 * gradient` and
# writes it into `W`'s own memory, and an in-place `Elemwise` for each bias. pydotprint
# draws each update as an arrow labelled UPDATE back into the cyan box. To see it, draw
# `model.train_batch` in the cell below instead, and open the file.

# %% active="ipynb"
# from lesson_helpers.drawing.graph import draw_graph, graph_summary
# from lesson_helpers.sound.listen import FOLDER
#
# print("train_batch runs", graph_summary(model.train_batch))
# print("evaluate runs", graph_summary(model.evaluate))
# picture = draw_graph(theano.printing.pydotprint, model.evaluate, os.path.join(HERE, FOLDER, "evaluate.png"))

# %% [markdown]
# ## One step of SGD
#
# Training is this one step repeated: take a batch of 16 random training excerpts, call
# `train_batch`, which computes the loss on them, the gradients, and moves every weight
# a little against its gradient. Here is a single step on its own, with the loss on
# that batch before and after. It should go down a little: the step was made to reduce
# exactly this loss. Then we put the weights back as they were, so that the training
# below starts from the same untrained network (and prints the same numbers as the script).

# %%
def one_step(model, data, batch_size, seed):
    """One SGD step on one batch (drawn apart from the training's batches): its loss before and
    after; the weights are then restored, in place, to what they were."""
    rows = np.random.RandomState((seed + 1) % 2 ** 32).randint(0, len(data.train), size=batch_size)  # any --seed
    inputs, targets = data.train[rows], data.train_targets[rows]
    arrays = [param.get_value(borrow=True) for param in model.params]
    saved = [array.copy() for array in arrays]
    before = float(model.train_batch(inputs, targets))  # the loss with the weights as they were
    after = float(model.evaluate(inputs, targets)[1])
    for param, array, value in zip(model.params, arrays, saved):
        array[...] = value  # back into the very arrays the model started with (aligned)
        param.set_value(array, borrow=True)
    return before, after


if __name__ == "__main__" and args.updates:
    before, after = one_step(model, data, args.batch_size, args.seed)
    print("One SGD step on a batch of %d training excerpts: its loss %.4f before, %.4f after "
          "(the weights are then put back)" % (args.batch_size, before, after))

# %% [markdown]
# ## Training
#
# Now the loop: `NUM_UPDATES` steps, each on a fresh random batch. Every `EVAL_STEP`
# steps (and after the last) it prints a line: the test accuracy, the test loss, the
# mean training loss of the batches since the previous line, and the seconds so far.
#
# Watch the two losses. The training loss says how well the network fits the excerpts it
# learns from; the test loss and accuracy say how well that carries over to excerpts it
# has never seen, which is what we actually want. If the training loss keeps falling
# while the test loss rises, the network is *overfitting*: memorising its training
# excerpts, noise and mislabelled videos included, rather than learning what makes
# rock rock. With 324,000 weights and only 8000 excerpts, that is a real danger.

# %%
def train(model, data, num_updates=NUM_UPDATES, eval_step=EVAL_STEP, batch_size=BATCH_SIZE):
    """Train in place; returns the history, one (update, train loss, test loss, accuracy) per evaluation."""
    history, batch_losses = [], []
    started = time.time()
    for update in range(1, num_updates + 1):
        stage.at_update(update, num_updates)  # what a Ctrl-C's one line says
        batch_losses.append(model.train_batch(*data.get_train_sample(batch_size)))
        check_loss(batch_losses[-1], update, model.learning_rate)  # NaN or inf: stop, keep nothing
        # Every eval_step updates, and after the last one, so that --save and --curve
        # always record the network as it ends.
        if update % eval_step == 0 or update == num_updates:
            accuracy, test_loss = evaluate_test_set(model, data)
            train_loss = float(np.mean(batch_losses))  # averaged over the updates since the last evaluation
            batch_losses = []
            history.append((update, train_loss, test_loss, accuracy))
            print("Accuracy after update %d/%d: %.2f%%  test loss %.4f  train loss %.4f  (%.1f s)"
                  % (update, num_updates, 100 * accuracy, test_loss, train_loss, time.time() - started))
    return history


if __name__ == "__main__":
    started = time.time()  # with --updates 0 the history is the loaded model's evaluation alone
    history = train(model, data, args.updates, args.eval_step, args.batch_size) if args.updates else [start]
    train_seconds = time.time() - started

# %% [markdown]
# ## Results
#
# First the report the script prints after training: the parameters, the time, and the comparison
# that matters most. *Loudness alone* is the simplest classifier we could think of: work
# out each excerpt's loudness (its RMS, the root of the mean squared sample), and call it
# rock when it is louder than a threshold, the threshold chosen as the best one on the
# training set. Rock is mostly louder than classical, so this rule is already right
# surprisingly often. Whatever the network gets above it, it must have learned from the
# *shape* of the waveform (rhythm, beats, the bass line) and not from the volume knob.
# If the network is no better than loudness, it may have learned little else.

# %%
from lesson_helpers.command_line.model_file import keep_results, parameter_lines


def report(model, train_seconds, num_updates, stand_in, log=print, baseline=None):
    log("")
    for line in parameter_lines(model):
        log(line)
    line = "%s parameters; compiling took %.1f s" % ("{:,}".format(model.num_parameters()), model.compile_seconds)
    if num_updates:
        line += ", training %.1f s (%d updates, %.0f us each)" % (
            train_seconds, num_updates, 1e6 * train_seconds / num_updates)
    log(line)
    if baseline:
        log(baseline)  # what loudness alone achieves, beside the network (lesson_helpers/data/loudness.py)
    if stand_in:
        log("Trained on the generated stand-in, not the lesson's recordings: "
            "`make data` downloads them (README \"The data\").")


if __name__ == "__main__":
    stage.now("after training")
    report(model, train_seconds, args.updates, stand_in, baseline=loudness.summary_of(data, history))
    keep_results(args, model, history)

# %% [markdown]
# The learning curve: test accuracy and the losses at every evaluation, starting from
# the untrained network at update 0. Two lines to measure it by: the 83% the original
# lesson reports on its recordings (thin, dashed, black) and what loudness alone gets on
# this test set (broad, orange). They may lie less than a point apart, so the middle
# panel shows the trained part again, a few points high, each line named beside it.
#
# On its recordings, the original lesson's notebook printed 81.1% after update 500; from
# there to update 5000 the accuracy only wandered between 82.6% and 83.55%, ending at
# 83.35%. Nearly all of it came in the first tenth of the training, and the other nine
# tenths added about two points. A curve of that shape suggests that the network takes
# what is easy to take (the volume, perhaps) at once, and that what lies beyond it comes
# slowly, if at all, with these settings: compare your curve with loudness alone, then
# see exercise 7, which trains four times as long.

# %%
from lesson_helpers.drawing.curve import curve_figure

if __name__ == "__main__":
    rows = history if history[0][0] == 0 else [start] + history  # from update 0
    pictures.show(lambda: curve_figure(rows, model.loss, loudness.accuracy_alone(data), stand_in), args.plot,
                  "Drew the learning curve in %s.")

# %% [markdown]
# An accuracy hides which mistakes are made. The *confusion matrix* counts, for each
# true class, how many test excerpts were called classical and how many rock. A network
# that calls nearly everything rock can still reach 50%; here you see whether the errors
# fall on one side.

# %%
def confusion(model, data):
    """2 x 2 counts: rows the true class (classical, rock), columns what the network said."""
    inputs, targets = data.get_test()
    predictions = model.evaluate_test()[0] if model.evaluate_test else model.evaluate(inputs, targets)[0]
    said_rock, is_rock = predictions > 0.5, targets > 0.5
    return np.array([[np.sum(~said_rock & ~is_rock), np.sum(said_rock & ~is_rock)],
                     [np.sum(~said_rock & is_rock), np.sum(said_rock & is_rock)]]), predictions


if __name__ == "__main__":
    counts, test_predictions = confusion(model, data)
    pictures.print_confusion(counts)

# %% [markdown]
# Finally, look at the mistakes themselves, of both kinds: classical called rock on the
# left, rock called classical on the right, each with how many there were, the ones the
# network was surest about first. Is the classical it called rock loud, and the rock it
# called classical quiet, just where loudness alone would go wrong too? Some may simply
# carry the wrong label: the lesson's recordings include wrongly labelled videos, and the
# stand-in imitates them by putting 3% of its excerpts in the wrong half on purpose.

# %%
if __name__ == "__main__":
    pictures.show(lambda: pictures.mistakes_figure(data.test, data.test_targets, test_predictions, stand_in=stand_in))

# %% [markdown]
# And listen to them, in the same order: does your ear agree with the label, or with the network?

# %% active="ipynb"
# from lesson_helpers.sound.listen import play_mistakes
#
# play_mistakes(data.test, data.test_targets, test_predictions)

# %% [markdown]
# ## The verdict
#
# Back to the question we started with: did the network hear more than the volume? The
# run ends with its answer in one sentence: the network beside loudness alone, in
# percentage points of the test accuracies printed above, and what that means. Within a
# point (20 of the 2000 test excerpts, about what another seed moves), the network has
# learned about as much as the volume tells; beyond it, that many points from the shape
# of the waveform.

# %%
if __name__ == "__main__":
    print(loudness.verdict(data, history[-1][3], stand_in))  # the script's last line

# %% [markdown]
# ## Using the model
#
# A trained network is only useful if it can judge new sound. `--save MODEL.npz` keeps it,
# and `--predict MODEL.npz song.wav ...` classifies audio files: each is made mono, resampled
# to 400 Hz, and its middle 3 s decide (a longer file also gets a vote over all its 3-s
# windows). Here we make an audio file ourselves, one rock excerpt of the test set written
# as an 8000-Hz WAV file, and classify it the same way. Try your own recording instead:
# put its path in `my_files`.
# The file goes in the folder `lesson_files/` beside this notebook, so you can play it
# yourself; this cell runs in the notebook only.

# %% active="ipynb"
# from lesson_helpers.sound.listen import write_excerpt
# from lesson_helpers.sound.predict import classify_files
#
# row = len(data.test) - 1  # the last test excerpt: rock
# path = write_excerpt(data.test[row], "test_excerpt_%d.wav" % row, HERE)
# print("Wrote test excerpt %d (rock) to %s; the network gave it %.2f in the test set"
#       % (row, path, float(test_predictions[row])))
# my_files = []  # your own recordings, e.g. ["my_song.wav"]
# failed = classify_files(model, [path] + my_files)  # how many could not be read

# %% [markdown]
# ## Exercises
#
# Each exercise is one change: an option for the script (`python genre_mlp.py --loss mse`)
# or the same words in `NOTEBOOK_ARGS` (`NOTEBOOK_ARGS = ["--loss", "mse"]`, then run all
# the cells again). Guess the outcome first, then run it, then open the answer. The
# answers were measured on the generated stand-in (`--stand-in`, seed 1234, 5000 updates
# unless said otherwise) by `make exercises`, which writes every number they quote to
# [docs/exercises.md](docs/exercises.md); times are given as multiples of the lesson's own
# run. On the lesson's real recordings the numbers differ, because real music is far
# more varied than chords and drum loops, some of its labels are wrong, and loudness
# there may explain less of the difference between the classes.
#
# 1. **The lesson's loss.** Train with `--loss mse`, the squared error the original
#    lesson used. Compare the final accuracy with cross-entropy's, and look at the loss
#    values themselves: why are they so much smaller?
#
#    <details><summary>Answer</summary>
#
#    81.65% at the end, against 82.20% with cross-entropy: nearly the same here. The
#    test loss ends at 0.1335 instead of 0.4296, because a squared error between a
#    probability and a label of zero or one can never exceed one, while cross-entropy
#    grows without limit.
#    That bound is also its weakness: a confidently wrong output has a nearly flat
#    sigmoid, so the squared error's gradient nearly vanishes just where learning is
#    most needed. On harder data the difference usually grows.
#    </details>
#
# 2. **The learning rate.** Try `--learning-rate 0.001`, `0.1` and `1`. Which is best
#    after 5000 updates? For the largest, compare the final train loss with the test
#    loss.
#
#    <details><summary>Answer</summary>
#
#    0.001: 81.45%, its test loss 0.5523 far above the lesson's 0.4296: too slow to get
#    far in 5000 steps. 0.01, the lesson's: 82.20%. 0.1: 89.90%. 1: 91.60%, 9.30 points
#    beyond loudness alone. But at 1 the train loss is 0.0371 while the test loss is
#    0.5423, higher than the lesson's: the network is nearly certain about its training
#    excerpts and often confidently wrong on the test set. That is overfitting, showing
#    in the loss before it shows in the accuracy. The lesson's cautious 0.01 is safe
#    rather than best; on the real, noisier data a large rate is less kind.
#    </details>
#
# 3. **A learning rate that diverges.** Try `--learning-rate 1e9`.
#
#    <details><summary>Answer</summary>
#
#    The run stops at update 3 with one line: the loss became `nan` (not a number), the
#    training diverged, nothing was saved, and a smaller learning rate is the fix. The
#    first steps throw the weights so far that the sums overflow float32 to infinity,
#    and infinity minus infinity is nan; from then on every weight would be nan and
#    every excerpt would get the same answer, so the run does not go on. When a loss
#    turns into nan, lower the learning rate first.
#    </details>
#
# 4. **The batch size.** Try `--batch-size 1` and `--batch-size 256`, with the same 5000
#    updates. Compare the accuracy and the time the training takes.
#
#    <details><summary>Answer</summary>
#
#    1: 82.35%; 256: 82.05% (16: 82.20%). With one excerpt per step the steps are noisy
#    but cheap: the training took 0.3 times as long as the lesson's. With 256 each step
#    is better aimed but dearer: 9.8 times as long, each training excerpt seen 160
#    times over the run instead of 10, and the network no better for it. On this data
#    the number of steps, not their precision, is what limits the network; a larger
#    batch usually pays only together with a larger learning rate.
#    </details>
#
# 5. **The hidden layers.** Try `--hidden 32` (one small layer), `--hidden 1024,256` and
#    `--hidden 256,64,16` (a third layer). Look at the parameter count and the accuracy.
#
#    <details><summary>Answer</summary>
#
#    32: 38,465 parameters, 81.25%. 1024,256: 1,492,481 parameters, 85.30%, its training
#    8.6 times as long as the lesson's. 256,64,16: 324,961 parameters, 83.05%. A wider
#    network learns faster here at the same learning rate (more units, more directions
#    to move in at once), a deeper one a little. Notice also that the untrained accuracy
#    moves (56.90%, 54.80%, 49.80%): a random network is a coin with a bias, not a fair
#    coin.
#    </details>
#
# 6. **Take loudness away.** Run with `--same-loudness`: every excerpt, in training and
#    test alike, is scaled to the same loudness before anything else. Compare the
#    network with loudness alone now.
#
#    <details><summary>Answer</summary>
#
#    Loudness alone falls to 49.50% (chance: there is nothing left to threshold) and the
#    network to 62.75%, 13.25 points beyond it. So on the stand-in most of what the
#    network did at 82.20% was loudness, and those 13.25 points come from the waveform's
#    shape (the beats and the bass line). This is the question to ask of the real
#    recordings, too: run it on them (without `--stand-in`), and compare the gap there.
#    </details>
#
# 7. **Train longer.** Run `--updates 20000 --eval-step 2000`, four times the lesson's
#    training. Does the test accuracy keep rising? Watch the two losses.
#
#    <details><summary>Answer</summary>
#
#    87.45% after 20000 updates, up from 82.20% at 5000: the lesson stopped early. The
#    train loss falls to 0.1044 while the test loss stays at 0.4270 (0.4296 at 5000),
#    so the network is starting to fit its training excerpts better than new ones; each
#    of them is now seen 40 times. On the real data, with its noise and wrong labels,
#    overfitting tends to come sooner.
#    </details>
#
# 8. **Moving on.** Theano's development ended in 2017; its successor, PyTensor, keeps
#    the same ideas (symbolic graphs, `grad`, `function` with `updates`). Read
#    [Moving on to PyTensor](docs/pytensor.md) and port this lesson's `Model` to it.
#
# Can we do better than an MLP that sees 1200 numbers as 1200 unrelated inputs? The
# original series answers with a small one-dimensional convolutional network, which
# looks for the same short pattern at every moment of the excerpt.
