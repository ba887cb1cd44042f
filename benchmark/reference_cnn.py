"""genre_cnn.py's convolutional network in plain NumPy, with hand-written backpropagation.

It shares no code with genre_cnn.py's Theano graph, so the tests use it as an independent
oracle (tests/test_cnn.py), and the benchmark may use it as the plain-NumPy baseline.

The network: four 1-D convolutions, each with 'same' ('half') zero padding of k // 2 samples
on each side of a kernel k samples wide (k odd), a stride, a bias per filter and a ReLU; the
last one's output flattened channel by channel (all the steps of channel 0, then of channel 1,
...); a dense ReLU layer; one logit. The parameters are genre_cnn.py's, in its order and
shapes: K1, B1 ... K4, B4 with K of shape (filters, channels below, 1, width), then W5, B5,
W6, B6.

genre_cnn.py lays each kernel on the sound as it is, as Keras's Conv1D does (conv2d with
filter_flip=False, a cross-correlation; flip=False here, the default): output step t of filter
f is the sum over channels c and positions j of padded[c, t * stride + j] * K[f, c, 0, j].
conv2d's own default, the textbook convolution, flips the kernel (flip=True here); the two
learn the same functions, with kernels mirrored in time.
"""
import numpy as np


def softplus(z):
    return np.logaddexp(0, z)


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))  # finite for any z


def applied(kernels, flip):
    """The kernels as the sums use them, (filters, channels, width): mirrored in time when `flip`."""
    return kernels[:, :, 0, ::-1] if flip else kernels[:, :, 0, :]


def conv1d(inputs, kernels, biases, stride, flip=False):
    """inputs (excerpts, channels, steps), kernels (filters, channels, 1, width): the sums before
    the ReLU, (excerpts, filters, ceil(steps / stride)), and the windows (for backprop)."""
    width = kernels.shape[-1]
    pad = width // 2
    padded = np.pad(inputs, ((0, 0), (0, 0), (pad, pad)))
    count = (padded.shape[2] - width) // stride + 1
    # windows[b, t, c, j] = padded[b, c, t * stride + j]
    windows = np.stack([padded[:, :, j: j + stride * (count - 1) + 1: stride] for j in range(width)], axis=-1)
    windows = windows.transpose(0, 2, 1, 3)
    sums = np.einsum("btcj,fcj->bft", windows, applied(kernels, flip)) + biases[None, :, None]
    return sums, windows


def conv1d_backward(slope, windows, kernels, steps_in, stride, flip=False):
    """From d cost / d sums (excerpts, filters, steps out): the kernels', the biases' and the
    inputs' gradients."""
    width = kernels.shape[-1]
    pad = width // 2
    kernel_gradient = applied(np.einsum("bft,btcj->fcj", slope, windows)[:, :, None, :], flip)[:, :, None, :]
    bias_gradient = slope.sum(axis=(0, 2))
    window_gradient = np.einsum("bft,fcj->bctj", slope, applied(kernels, flip))  # d cost / d windows
    count = slope.shape[2]
    padded = np.zeros((slope.shape[0], kernels.shape[1], steps_in + 2 * pad), dtype=slope.dtype)
    for j in range(width):
        padded[:, :, j: j + stride * (count - 1) + 1: stride] += window_gradient[:, :, :, j]
    return kernel_gradient, bias_gradient, padded[:, :, pad: pad + steps_in]


class NumpyCNN(object):
    """The convolutional network; SGD or Adam (Kingma and Ba's, with its bias correction) on binary
    cross-entropy or squared error. `dtype` float64 makes it an exact oracle; float32 follows
    Theano's arithmetic."""

    def __init__(self, params, strides, learning_rate=0.001, loss="bce", optimizer="adam",
                 beta1=0.9, beta2=0.999, epsilon=1e-8, dtype=np.float32, flip=False):
        # params: [K1, B1, ..., W6, B6] as arrays; copied, so the caller's stay untouched.
        self.dtype = dtype
        self.params = [np.array(p, dtype=dtype) for p in params]
        self.strides, self.flip = tuple(strides), flip
        self.learning_rate, self.loss, self.optimizer = learning_rate, loss, optimizer
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.steps = 0
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def forward(self, inputs):
        """The logits, and what backprop needs: each convolution's input, windows and output."""
        layer = np.asarray(inputs, dtype=self.dtype)[:, None, :]
        kept = []
        for kernels, biases, stride in zip(self.params[0:8:2], self.params[1:8:2], self.strides):
            sums, windows = conv1d(layer, kernels, biases, stride, self.flip)
            kept.append((layer.shape[2], windows, sums))
            layer = np.maximum(sums, 0)
        W5, B5, W6, B6 = self.params[8:]
        flat = layer.reshape(len(layer), -1)  # channel by channel
        hidden_sums = flat @ W5 + B5
        hidden = np.maximum(hidden_sums, 0)
        logits = (hidden @ W6 + B6)[:, 0]
        return logits, (kept, layer, flat, hidden_sums, hidden)

    def convolutions(self, inputs):
        """Each convolution's output after its ReLU, (excerpts, filters, steps)."""
        return [np.maximum(sums, 0) for _, _, sums in self.forward(inputs)[1][0]]

    def cost_and_slope(self, logits, targets):
        """The mean loss and its derivative with respect to each logit."""
        targets = np.asarray(targets, dtype=self.dtype)
        prob, n = sigmoid(logits), len(targets)
        if self.loss == "bce":  # softplus(z) - t z: -t log p - (1 - t) log(1 - p), stable
            return np.mean(softplus(logits) - targets * logits), (prob - targets) / n
        return np.mean((prob - targets) ** 2), 2 * (prob - targets) * prob * (1 - prob) / n

    def predict(self, inputs):
        """The probability of rock for each row, and the logits behind it."""
        logits = self.forward(inputs)[0]
        return sigmoid(logits), logits

    def cost(self, inputs, targets):
        return self.cost_and_slope(self.forward(inputs)[0], targets)[0]

    def gradients(self, inputs, targets):
        """The cost, and its gradient for every parameter, in the parameters' order."""
        logits, (kept, last, flat, hidden_sums, hidden) = self.forward(inputs)
        cost, slope = self.cost_and_slope(logits, targets)
        W5, B5, W6, B6 = self.params[8:]
        delta = slope[:, None].astype(self.dtype)                  # d cost / d logits, (excerpts, 1)
        gradients = [hidden.T @ delta, delta.sum(axis=0)]          # W6, B6
        delta = (delta @ W6.T) * (hidden_sums > 0)                 # d cost / d hidden sums
        gradients[:0] = [flat.T @ delta, delta.sum(axis=0)]        # W5, B5
        delta = (delta @ W5.T).reshape(last.shape)                 # d cost / d last convolution's output
        for layer in range(3, -1, -1):
            steps_in, windows, sums = kept[layer]
            delta = delta * (sums > 0)                             # through the ReLU
            kernels = self.params[2 * layer]
            kernel_gradient, bias_gradient, delta = conv1d_backward(delta, windows, kernels, steps_in,
                                                                    self.strides[layer], self.flip)
            gradients[:0] = [kernel_gradient, bias_gradient]
        return cost, [g.astype(self.dtype) for g in gradients]

    def train_batch(self, inputs, targets):
        """One step; returns the batch's loss before it, as Theano's train function does."""
        cost, gradients = self.gradients(inputs, targets)
        self.steps += 1
        rate = self.dtype(self.learning_rate)
        for index, (param, gradient) in enumerate(zip(self.params, gradients)):
            if self.optimizer == "sgd":
                param -= rate * gradient
                continue
            beta1, beta2, one = self.dtype(self.beta1), self.dtype(self.beta2), self.dtype(1)
            self.m[index] = beta1 * self.m[index] + (one - beta1) * gradient
            self.v[index] = beta2 * self.v[index] + (one - beta2) * gradient * gradient
            m_hat = self.m[index] / (one - beta1 ** self.dtype(self.steps))
            v_hat = self.v[index] / (one - beta2 ** self.dtype(self.steps))
            param -= rate * m_hat / (np.sqrt(v_hat) + self.dtype(self.epsilon))
        return cost
