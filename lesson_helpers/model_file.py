"""Model files: `genre_mlp.py --save` writes one, --load and --predict read it back.

A model file is a plain .npz (no pickles): the parameters W1, B1, ... named as in
the lesson, the hidden layer sizes, the loss it was trained with, the test
accuracy of its last evaluation, and a marker that tells it from other .npz files.
"""
import numpy as np

from lesson_helpers.aligned import aligned
from lesson_helpers.data_file import SAMPLE_WIDTH, read_npz
from lesson_helpers.files import write_atomically

MODEL_FORMAT = "genre_mlp model 1"   # marks our model files apart from other .npz files
LOSSES = ("bce", "mse")              # the costs genre_mlp.Model builds
FIX = "give a file written by `genre_mlp.py --save`"


class ModelFileError(Exception):
    """A model file that cannot be used; the message is one line naming the problem and the fix."""


def save_model(model, path, test_accuracy):
    arrays = {param.name: param.get_value() for param in model.params}
    arrays.update(format=np.array(MODEL_FORMAT), hidden_sizes=np.array(model.hidden_sizes),
                  loss=np.array(model.loss), test_accuracy=np.array(test_accuracy))
    write_atomically(path, lambda stream: np.savez(stream, **arrays))


def hidden_sizes(arrays):
    sizes = arrays.get("hidden_sizes")
    if sizes is None or sizes.ndim != 1 or not np.issubdtype(sizes.dtype, np.integer) or (sizes < 1).any():
        return None
    return tuple(int(n) for n in sizes)


def read_model_file(path):
    """The arrays of a model file written by --save, checked against the network's shapes."""
    arrays = read_npz(path, ModelFileError, FIX)
    if str(arrays.get("format")) != MODEL_FORMAT:
        raise ModelFileError("%s is not a genre_mlp model file; %s" % (path, FIX))
    sizes = hidden_sizes(arrays)
    if sizes is None:
        raise ModelFileError("%s: hidden_sizes is missing or not a list of positive whole numbers; %s"
                             % (path, FIX))
    loss = str(arrays.get("loss"))
    if loss not in LOSSES:
        raise ModelFileError("%s: loss is %s, not one of %s; %s"
                             % (path, "missing" if "loss" not in arrays else repr(loss),
                                ", ".join(LOSSES), FIX))
    widths = (SAMPLE_WIDTH,) + sizes + (1,)
    for layer, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        for name, shape in (("W%d" % layer, (fan_in, fan_out)), ("B%d" % layer, (fan_out,))):
            value = arrays.get(name)
            if (value is None or value.shape != shape or not np.issubdtype(value.dtype, np.floating)
                    or not np.isfinite(value).all()):
                raise ModelFileError("%s: %s is missing, damaged or not of shape %s; %s"
                                     % (path, name, shape, FIX))
    return arrays


def load_parameters(model, arrays):
    for param in model.params:
        param.set_value(aligned(arrays[param.name].astype(param.dtype)), borrow=True)


def model_from_saved(model_class, arrays, learning_rate, loss=None, seed=0, test_set=None):
    """A compiled `model_class` of the saved sizes (and loss, unless given), holding the saved parameters."""
    model = model_class(hidden_sizes(arrays), learning_rate, loss or str(arrays["loss"]), seed, test_set)
    load_parameters(model, arrays)
    return model
