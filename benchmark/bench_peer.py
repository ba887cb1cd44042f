"""The lesson's network in PyTorch, JAX or PyTensor, trained on benchmark/bench.py's orders (not run by hand).

The first lesson's MLP (plain SGD), or, when SETUP.npz says lesson=cnn, the second lesson's
convolutional network (genre_cnn.py: four 1-D convolutions, Adam) in PyTorch or JAX.

    .venv-torch/bin/python benchmark/bench_peer.py torch SETUP.npz
    .venv-jax/bin/python benchmark/bench_peer.py jax SETUP.npz
    .venv-pytensor/bin/python benchmark/bench_peer.py pytensor SETUP.npz     # its Numba back end
    .venv-pytensor/bin/python benchmark/bench_peer.py pytensor-c SETUP.npz   # its C back end

Each peer runs in a venv of its own (`make peers`), never in the lesson's: torch
and jax bring a NumPy and setuptools that Theano 1.0.5 cannot live with. So this
file imports neither Theano nor genre_mlp, only NumPy and its framework.

SETUP.npz holds the starting parameters, the data, the rows of every batch and
the settings. Orders come one per line on stdin, and each gets one JSON line:
  check          train the correctness batches; {"losses": [...]}
  reset          start again from the starting parameters; {"compile_seconds": s}
  chunk A B      train updates A..B-1, evaluating every eval_step; {"steps": [s...], "evals": [s...]}
  quit           {"peak_kB": this process's peak resident memory}
"""
import json
import os
import sys
import time

import numpy as np


def torch_evaluate(logits, cost):
    """A peer's evaluate(x, t): the probabilities and the cost, without gradients."""
    import torch

    def evaluate(x, t):
        with torch.no_grad():
            z = logits(torch.from_numpy(x))
            return torch.sigmoid(z).numpy(), cost(z, torch.from_numpy(t)).item()
    return evaluate


def torch_trainer(start, learning_rate, batch_size):
    import torch
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

    return train_batch, torch_evaluate(logits, cost), 0.0


def jax_trainer(start, learning_rate, batch_size):
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
    step(probe, np.zeros((batch_size, start[0].shape[0]), np.float32),
         np.zeros(batch_size, np.float32))[1].block_until_ready()
    return train_batch, evaluate, time.perf_counter() - started


# ---------------------------------------------------------------------------
# The second lesson's convolutional network (genre_cnn.py), trained with Adam
# ---------------------------------------------------------------------------
# Adam as genre_cnn.adam_updates writes it: the textbook bias correction,
# p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8


def cnn_start(start):
    """genre_cnn.py's conv2d lays each kernel on the sound as it is (filter_flip=False), as PyTorch's
    conv1d and JAX's convolution do: (filters, channels, 1, width) -> (filters, channels, width)."""
    return [np.ascontiguousarray(value[:, :, 0, :]) if value.ndim == 4 else value for value in start]


def torch_cnn_trainer(start, learning_rate, batch_size, strides):
    import torch
    functional = torch.nn.functional
    params = [torch.tensor(value, requires_grad=True) for value in cnn_start(start)]
    # torch.optim.Adam's step, lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), is the textbook one.
    optimizer = torch.optim.Adam(params, lr=learning_rate, betas=(BETA1, BETA2), eps=EPSILON)

    def logits(x):
        x = x[:, None, :]                                   # (excerpts, 1 channel, 1200)
        for K, B, stride in zip(params[0:8:2], params[1:8:2], strides):
            # Theano's border_mode="half": width // 2 zeros on each side.
            x = torch.relu(functional.conv1d(x, K, B, stride=stride, padding=K.shape[-1] // 2))
        W5, B5, W6, B6 = params[8:]
        hidden = torch.relu(x.flatten(1) @ W5 + B5)
        return (hidden @ W6 + B6)[:, 0]

    def cost(z, t):
        return (functional.softplus(z) - t * z).mean()

    def train_batch(x, t):
        optimizer.zero_grad(set_to_none=True)
        loss = cost(logits(torch.from_numpy(x)), torch.from_numpy(t))
        loss.backward()
        optimizer.step()
        return loss.item()

    return train_batch, torch_evaluate(logits, cost), 0.0


def jax_cnn_trainer(start, learning_rate, batch_size, strides):
    import jax
    import jax.numpy as jnp

    def logits(params, x):
        x = x[:, None, :]                                   # (excerpts, 1 channel, 1200)
        for K, B, stride in zip(params[0:8:2], params[1:8:2], strides):
            half = K.shape[-1] // 2                         # Theano's border_mode="half"
            sums = jax.lax.conv_general_dilated(x, K, (stride,), [(half, half)],
                                                dimension_numbers=("NCH", "OIH", "NCH"))
            x = jax.nn.relu(sums + B[None, :, None])
        W5, B5, W6, B6 = params[8:]
        hidden = jax.nn.relu(x.reshape(x.shape[0], -1) @ W5 + B5)
        return (hidden @ W6 + B6)[:, 0]

    def cost(params, x, t):
        z = logits(params, x)
        return jnp.mean(jax.nn.softplus(z) - t * z)

    # Every constant in float32, as Theano computes them: 1 - 0.999 is then 0.00099998713, in the
    # running average and in the bias correction alike (Python's 0.001 in one of them only would
    # make every step 6e-6 smaller than Theano's).
    rate, beta1, beta2, epsilon, one = (np.float32(value) for value in (learning_rate, BETA1, BETA2, EPSILON, 1))

    @jax.jit
    def step(state, x, t):
        params, ms, vs, count = state
        loss, gradients = jax.value_and_grad(cost)(params, x, t)
        count = count + one
        ms = [beta1 * m + (one - beta1) * g for m, g in zip(ms, gradients)]
        vs = [beta2 * v + (one - beta2) * g ** 2 for v, g in zip(vs, gradients)]
        correct1, correct2 = one - beta1 ** count, one - beta2 ** count
        params = [p - rate * (m / correct1) / (jnp.sqrt(v / correct2) + epsilon)
                  for p, m, v in zip(params, ms, vs)]
        return (params, ms, vs, count), loss

    @jax.jit
    def predict(params, x, t):
        return jax.nn.sigmoid(logits(params, x)), cost(params, x, t)

    def fresh():
        params = [jnp.asarray(value) for value in cnn_start(start)]
        return (params, [jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params],
                jnp.asarray(0.0, jnp.float32))

    state = {"state": fresh()}

    def train_batch(x, t):
        state["state"], loss = step(state["state"], x, t)
        return float(loss)  # waits for the result, as the other frameworks do

    def evaluate(x, t):
        predictions, loss = predict(state["state"][0], x, t)
        return np.asarray(predictions), float(loss)

    # jit compiles on the first call of each shape; time that as JAX's compile.
    started = time.perf_counter()
    step(fresh(), np.zeros((batch_size, 1200), np.float32), np.zeros(batch_size, np.float32))[1].block_until_ready()
    return train_batch, evaluate, time.perf_counter() - started


def pytensor_trainer(start, learning_rate, batch_size, mode="NUMBA"):
    # The model cell of benchmark/pytensor_peer.py, the one docs/pytensor.md shows and
    # tests/test_pytensor.py checks against Theano. bench.py sets PYTENSOR_FLAGS.
    from pytensor_peer import Model  # this file's folder is first on sys.path
    # Numba compiles on the first call: time building a model and its first update as the compile.
    started = time.perf_counter()
    Model(start, learning_rate, mode).train_batch(np.zeros((batch_size, start[0].shape[0]), np.float32),
                                                  np.zeros(batch_size, np.float32))
    compile_seconds = time.perf_counter() - started
    model = Model(start, learning_rate, mode)
    return model.train_batch, model.evaluate, compile_seconds


def numpy_trainer(start, learning_rate, batch_size):
    # benchmark/reference.py, so that the tests can drive this file without a peer's venv.
    from reference import NumpyMLP  # this file's folder is first on sys.path
    net = NumpyMLP(start, learning_rate)
    return net.train_batch, lambda x, t: (net.predict(x)[0], net.cost(x, t)), 0.0


TRAINERS = {"torch": torch_trainer, "jax": jax_trainer, "numpy": numpy_trainer, "pytensor": pytensor_trainer,
            "pytensor-c": lambda *args: pytensor_trainer(*args, mode="CVM")}
CNN_TRAINERS = {"torch": torch_cnn_trainer, "jax": jax_cnn_trainer}


def threads(name):
    """How many threads the framework computes on, as far as it says."""
    if name == "torch":
        import torch
        return "%d threads" % torch.get_num_threads()
    if name == "jax":
        return "XLA's own thread pool"
    if name == "pytensor":
        return "Numba, products through SciPy's OpenBLAS, its default threads"
    if name == "pytensor-c":
        import pytensor
        return ("Theano's BLAS, one thread" if "blis" in pytensor.config.blas__ldflags
                else "Theano's BLAS, its default threads")
    return "one BLAS thread" if os.environ.get("OPENBLAS_NUM_THREADS") == "1" else "BLAS default threads"


def peak_kb():
    with open("/proc/self/status") as status:
        return int([line.split()[1] for line in status if line.startswith("VmHWM")][0])


def main(name, setup_path):
    with np.load(setup_path) as setup:
        setup = {key: setup[key] for key in setup.files}
    start = [setup["param%d" % i] for i in range(int(setup["num_params"]))]
    learning_rate, eval_step = float(setup["learning_rate"]), int(setup["eval_step"])
    train, targets, test, test_targets = (setup[key] for key in ("train", "train_targets", "test", "test_targets"))

    lesson = str(setup.get("lesson", "mlp"))

    def make():
        if lesson == "cnn":
            strides = [int(n) for n in setup["strides"]]
            return CNN_TRAINERS[name](start, learning_rate, setup["timing_rows"].shape[1], strides)
        return TRAINERS[name](start, learning_rate, setup["timing_rows"].shape[1])

    train_batch, evaluate, compile_seconds = make()
    version = __import__(name.split("-")[0]).__version__

    def reply(message):
        print(json.dumps(message), flush=True)

    reply({"ready": True, "version": version, "compile_seconds": compile_seconds, "threads": threads(name)})
    for line in sys.stdin:
        order = line.split()
        if order[0] == "check":
            reply({"losses": [float(train_batch(train[rows], targets[rows])) for rows in setup["check_rows"]]})
        elif order[0] == "reset":
            train_batch, evaluate, compile_seconds = make()
            reply({"compile_seconds": compile_seconds})
        elif order[0] == "chunk":
            steps, evals = [], []
            for update in range(int(order[1]), int(order[2])):
                rows = setup["timing_rows"][update]
                x, t = train[rows], targets[rows]
                started = time.perf_counter()
                train_batch(x, t)
                steps.append(time.perf_counter() - started)
                if (update + 1) % eval_step == 0:
                    started = time.perf_counter()
                    evaluate(test, test_targets)
                    evals.append(time.perf_counter() - started)
            reply({"steps": steps, "evals": evals})
        elif order[0] == "quit":
            reply({"peak_kB": peak_kb()})
            return


if __name__ == "__main__":
    main(*sys.argv[1:])
