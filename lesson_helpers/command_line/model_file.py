"""Model files: `genre_mlp.py --save` writes one, --load and --predict read it back.

A model file is a plain .npz (no pickles): the parameters W1, B1, ... named as in
the lesson, the hidden layer sizes, the loss it was trained with, the test
accuracy of its last evaluation, and a marker that tells it from other .npz files.
"""
import numpy as np

from lesson_helpers.command_line.stopped import stage
from lesson_helpers.data.aligned import aligned
from lesson_helpers.data.data_file import SAMPLE_WIDTH, read_npz
from lesson_helpers.files import write_atomically

MODEL_FORMAT = "genre_mlp model 1"   # marks our model files apart from other .npz files
LOSSES = ("bce", "mse")              # the costs genre_mlp.Model builds
FIX = "give a file written by `genre_mlp.py --save`"
DIVERGED_FIX = ("the training that wrote it diverged; train it again with a smaller --learning-rate "
                "(the default is 0.01)")


class ModelFileError(Exception):
    """A model file that cannot be used; the message is one line naming the problem and the fix."""


class Diverged(ModelFileError):
    """The training's loss became NaN or infinite: stop, and keep no model file of it."""


def check_loss(loss, update, learning_rate):
    """Raise Diverged at the first update whose loss is not finite (the weights are then NaN too)."""
    if not np.isfinite(loss):
        import sys  # the running lesson's own default: genre_cnn.py's is not genre_mlp.py's
        default = getattr(sys.modules.get("__main__"), "LEARNING_RATE", 0.01)
        raise Diverged("the loss became %s at update %d: the training diverged with --learning-rate %g, so "
                       "nothing was saved; give a smaller --learning-rate (the default is %g)"
                       % (float(loss), update, learning_rate, default))


def save_model(model, path, test_accuracy):
    stage.now("while saving the model")
    arrays = {param.name: param.get_value() for param in model.params}
    arrays.update(format=np.array(MODEL_FORMAT), hidden_sizes=np.array(model.hidden_sizes),
                  loss=np.array(model.loss), test_accuracy=np.array(test_accuracy))
    write_atomically(path, lambda stream: np.savez(stream, **arrays))
    stage.wrote(path)


def hidden_sizes(arrays):
    sizes = arrays.get("hidden_sizes")
    if sizes is None or sizes.ndim != 1 or not np.issubdtype(sizes.dtype, np.integer) or (sizes < 1).any():
        return None
    return tuple(int(n) for n in sizes)


def read_model_file(path):
    """The arrays of a model file written by --save, checked against the network's shapes."""
    stage.now("while reading the model file")
    arrays = read_npz(path, ModelFileError, FIX)
    marker = arrays.get("format")
    if marker is None or marker.ndim != 0 or marker.dtype.kind != "U":
        raise ModelFileError("%s is not a genre_mlp model file; %s" % (path, FIX))
    if str(marker) != MODEL_FORMAT:
        # a marker of another kind or version: say which, shortened to keep the message one line
        raise ModelFileError("%s: its format marker is %r, not %r; %s"
                             % (path, " ".join(str(marker).split())[:40], MODEL_FORMAT, FIX))
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
            if value is None:
                problem = "is missing"
            elif value.shape != shape:
                problem = "has shape %s, not %s" % (value.shape, shape)
            elif not np.issubdtype(value.dtype, np.floating):
                problem = "holds %s values, not floating-point weights" % value.dtype
            elif not np.isfinite(value).all():
                problem = "holds %d NaN or infinite weights" % (value.size - np.count_nonzero(np.isfinite(value)))
                raise ModelFileError("%s: %s %s; %s" % (path, name, problem, DIVERGED_FIX))
            else:
                continue
            raise ModelFileError("%s: %s %s; %s" % (path, name, problem, FIX))
    return arrays


def load_parameters(model, arrays):
    for param in model.params:
        param.set_value(aligned(arrays[param.name].astype(param.dtype)), borrow=True)


def model_from_saved(model_class, arrays, learning_rate, loss=None, seed=0, test_set=None):
    """A compiled `model_class` of the saved sizes (and loss, unless given), holding the saved parameters."""
    model = model_class(hidden_sizes(arrays), learning_rate, loss or str(arrays["loss"]), seed, test_set)
    load_parameters(model, arrays)
    return model


def parameter_lines(model):
    """'Parameters:', then each parameter's name, dtype and shape, as the lesson ends."""
    lines = ["Parameters:"]
    for param in model.params:
        value = param.get_value(borrow=True)
        lines.append("  %-3s %-8s %s" % (param.name, value.dtype, value.shape))
    return lines


def keep_results(args, model, history):
    """--save and --curve: the trained network and its learning curve, each to its file."""
    from lesson_helpers.drawing.curve import write_curve
    if args.save:
        save_model(model, args.save, history[-1][3])
        print("Saved the model to %s." % args.save)
    if args.curve:
        write_curve(args.curve, history)
        print("Wrote the learning curve to %s." % args.curve)
