"""The lesson's network in plain NumPy, with hand-written backpropagation.

It shares no code with genre_mlp.py's Theano graph, so the tests use it as an
independent oracle (same start, same batches: the same losses and parameters),
and the benchmark uses it as the plain-NumPy baseline.
"""
import numpy as np


class NumpyMLP(object):
    """ReLU hidden layers, a sigmoid output, SGD on binary cross-entropy or squared error."""

    def __init__(self, params, learning_rate=0.01, loss="bce"):
        # params: [W1, B1, W2, B2, ...] as arrays; copied, so the caller's stay untouched.
        self.params = [np.array(p, dtype=np.float32) for p in params]
        self.learning_rate = np.float32(learning_rate)
        self.loss = loss

    def _forward(self, inputs):
        activations = [inputs]
        weights, biases = self.params[0::2], self.params[1::2]
        for W, B in zip(weights[:-1], biases[:-1]):
            activations.append(np.maximum(activations[-1] @ W + B, 0))
        logits = (activations[-1] @ weights[-1] + biases[-1])[:, 0]
        return activations, logits

    def _cost_and_slope(self, logits, targets):
        """The mean loss and its derivative with respect to each logit."""
        prob = 1 / (1 + np.exp(-logits))
        n = len(targets)
        if self.loss == "bce":
            # log(1 + e^z) - t z, the stable form of -t log p - (1 - t) log(1 - p)
            cost = np.mean(np.logaddexp(0, logits) - targets * logits)
            return cost, (prob - targets) / n
        cost = np.mean((prob - targets) ** 2)
        return cost, 2 * (prob - targets) * prob * (1 - prob) / n

    def predict(self, inputs):
        """The probability of rock for each row, and the logits behind it."""
        logits = self._forward(inputs)[1]
        return 1 / (1 + np.exp(-logits)), logits

    def cost(self, inputs, targets):
        return self._cost_and_slope(self._forward(inputs)[1], targets)[0]

    def train_batch(self, inputs, targets):
        """One SGD step; returns the batch's loss before the step, as Theano's train function does."""
        activations, logits = self._forward(inputs)
        cost, slope = self._cost_and_slope(logits, targets)
        delta = slope[:, None].astype(np.float32)
        gradients = []
        for layer in range(len(self.params) // 2 - 1, -1, -1):
            W = self.params[2 * layer]
            gradients[:0] = [activations[layer].T @ delta, delta.sum(axis=0)]
            if layer:
                delta = (delta @ W.T) * (activations[layer] > 0)
        for param, gradient in zip(self.params, gradients):
            param -= self.learning_rate * gradient
        return cost
