"""The lesson's network in PyTensor, Theano's maintained successor (docs/pytensor.md).

Runs in .venv-pytensor (`make peers`), never in the lesson's venv: PyTensor needs
Python 3.12 to 3.14 and NumPy 2 of its own choosing, so this file imports neither
Theano nor genre_mlp. Three callers use it:
- docs/pytensor.md shows its model cell (between the `# model cell` marks) as the
  lesson's cell reads in PyTensor; tests/test_pytensor.py checks that the page
  shows exactly these lines;
- benchmark/bench_peer.py times it, as the peers "pytensor" (PyTensor's default
  back end, Numba) and "pytensor-c" (its C back end linked to Theano's BLAS);
- tests/test_pytensor.py trains it from Theano's starting weights on Theano's
  batches and compares, through this file's command line:

    .venv-pytensor/bin/python benchmark/pytensor_peer.py MODE IN.npz OUT.npz

  IN.npz holds param0..paramN-1, learning_rate, inputs (updates x batch x width)
  and targets (updates x batch); OUT.npz gets the losses of every update and the
  parameters after the last, param0..paramN-1. MODE is NUMBA or CVM.

PyTensor reads its flags once, from PYTENSOR_FLAGS, when it is imported:
floatX=float32 (its default is float64) and, for the C back end,
blas__ldflags=<Theano's blas.ldflags> (bench.py and the test set both).
"""
import sys

import numpy as np

# model cell
import pytensor
import pytensor.tensor as pt


class Model(object):
    """The network's parameters and its compiled `train_batch` and `evaluate` functions."""

    def __init__(self, start, learning_rate, mode="NUMBA"):
        # start: the starting values of W1, B1, W2, B2, W3, B3 (floatX arrays).
        names = ["%s%d" % (kind, layer) for layer in range(1, len(start) // 2 + 1) for kind in "WB"]
        self.params = [pytensor.shared(value, name=name) for name, value in zip(names, start)]

        inputs = pt.matrix("inputs")     # a batch of excerpts, one per row
        targets = pt.vector("targets")   # 0 classical, 1 rock

        # Hidden layers: ReLU(x W + b), layer by layer (PyTensor has no relu: the maximum with 0 is one).
        activations = inputs
        weights, biases = self.params[0::2], self.params[1::2]
        for W, B in zip(weights[:-1], biases[:-1]):
            activations = pt.maximum(pt.dot(activations, W) + B, 0)
        # Output: one logit per excerpt, squashed to the probability of rock.
        logits = (pt.dot(activations, weights[-1]) + biases[-1]).flatten()
        predictions = pt.sigmoid(logits)

        # Binary cross-entropy written from the logits: softplus(z) - t z.
        cost = pt.mean(pt.softplus(logits) - targets * logits)

        gradients = pytensor.grad(cost, self.params)
        step = np.asarray(learning_rate, dtype=pytensor.config.floatX)  # a float64 step would upcast the update
        updates = [(param, param - step * gradient) for param, gradient in zip(self.params, gradients)]

        # mode: "NUMBA" (PyTensor's default back end) or "CVM" (its C back end, with blas__ldflags).
        self.train_batch = pytensor.function([inputs, targets], cost, updates=updates, mode=mode,
                                             trust_input=True)
        self.evaluate = pytensor.function([inputs, targets], [predictions, cost], mode=mode)
# end of model cell


MODES = ("NUMBA", "CVM")


def main(mode, in_path, out_path):
    if mode not in MODES:
        sys.exit("error: MODE must be one of %s, not %r" % (", ".join(MODES), mode))
    if pytensor.config.floatX != "float32":
        sys.exit("error: PyTensor's floatX is %s: set PYTENSOR_FLAGS=floatX=float32" % pytensor.config.floatX)
    with np.load(in_path) as given:
        given = {key: given[key] for key in given.files}
    start = [given["param%d" % i] for i in range(sum(key.startswith("param") for key in given))]
    model = Model(start, float(given["learning_rate"]), mode)
    losses = [float(model.train_batch(x, t)) for x, t in zip(given["inputs"], given["targets"])]
    ops = sorted({str(node.op) for node in model.train_batch.maker.fgraph.toposort()})
    np.savez(out_path, losses=np.array(losses, np.float32), version=pytensor.__version__, ops=ops,
             **{"param%d" % i: param.get_value() for i, param in enumerate(model.params)})


if __name__ == "__main__":
    main(*sys.argv[1:])
