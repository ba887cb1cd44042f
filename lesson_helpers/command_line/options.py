"""The lessons' command lines (`python genre_mlp.py --help`, `python genre_cnn.py --help`), and
the checks made on them before anything is loaded or compiled: a bad option gets one line
naming the fix.

The defaults are the lesson's constants (read_options gets the lesson's globals()); the
notebook parses NOTEBOOK_ARGS with the same function. The two lessons share every option
but their networks' own: --hidden (and the model files) for the MLP, --filters, --strides
and --optimizer for the convolutional network.
"""
import argparse
import importlib.util
import math
import os
import shutil
import sys

from lesson_helpers.command_line import cli
from lesson_helpers.files import WriteError, check_writable, is_special
from lesson_helpers.command_line.model_file import LOSSES


def positive(kind):
    def parse(text):
        value = kind(text)
        if not math.isfinite(value) or value <= 0:  # float("nan") and float("inf") parse
            raise argparse.ArgumentTypeError("must be a %s greater than 0, not %s"
                                             % ("finite number" if kind is float else "whole number", text))
        return value
    return parse


SEED_LIMIT = 2 ** 32 - 1  # NumPy's RandomState takes seeds from 0 to this


def seed(text):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= SEED_LIMIT:
        raise argparse.ArgumentTypeError("must be a whole number from 0 to %d, not %s" % (SEED_LIMIT, text))
    return value


def picture_format(path):
    """The format matplotlib writes for `path`'s extension, or a one-line reason it cannot."""
    from matplotlib import rcParams
    from matplotlib.backend_bases import FigureCanvasBase
    formats = FigureCanvasBase.get_supported_filetypes()
    extension = os.path.splitext(path)[1][1:].lower()
    if extension == "pgf" and shutil.which(rcParams["pgf.texsystem"]) is None:
        raise ValueError("matplotlib writes .pgf only with %s, which is not installed; give a .png or "
                         ".pdf file" % rcParams["pgf.texsystem"])
    if extension not in formats:
        raise ValueError("%s: matplotlib cannot write %s; give a file ending in one of %s"
                         % (path, "a .%s file" % extension if extension else "a file without an extension",
                            " ".join("." + name for name in sorted(formats) if name != "pgf")))
    return extension


def check_batch_size(batch_size, num_rows):
    """Once the data is loaded, before anything compiles: a batch cannot be larger than the training set."""
    from lesson_helpers.data.data_file import DataError
    if batch_size > num_rows:
        raise DataError("--batch-size %d is larger than the training set (%d excerpts); give --batch-size %d "
                        "or less" % (batch_size, num_rows, num_rows))


def available_memory():
    """Bytes this process may still use: the kernel's MemAvailable, or a container's (cgroup v2)
    limit less its use where that is lower; None where neither can be read."""
    found = []
    try:
        with open("/proc/meminfo") as meminfo:
            found += [int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:")]
        with open("/sys/fs/cgroup/memory.max") as limit, open("/sys/fs/cgroup/memory.current") as used:
            found.append(int(limit.read()) - int(used.read()))  # "max" (no limit) is not a number
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def check_network_fits(hidden, input_width, test_rows, device, available=None):
    """Before the network is built: refuse widths whose weights and test-set activations cannot
    fit in memory (NumPy would fail, in a traceback, or the kernel kill the process). The bound is
    low on purpose: 8 bytes a weight (its float32 value and its gradient), 4 an activation."""
    from lesson_helpers.data.data_file import DataError
    available = available_memory() if available is None else available
    if not device.startswith("cpu") or available is None:
        return  # on a GPU the weights live in its memory, which this does not see
    sizes = (input_width,) + tuple(hidden) + (1,)
    weights = sum(a * b for a, b in zip(sizes, sizes[1:]))
    needed = 8 * weights + 4 * test_rows * sum(hidden)
    if needed > available:
        raise DataError("--hidden %s needs at least %.1f GB of memory (%s weights, and the activations of %d test "
                        "excerpts), and %.1f GB is available; give smaller --hidden widths"
                        % (",".join(map(str, hidden)), needed / 1e9, "{:,}".format(weights), test_rows,
                           available / 1e9))


def four_layers(example):
    """A parser of "32,32,48,48" -> (32, 32, 48, 48): one positive whole number for each of the four
    convolutions; `example` is the lesson's own, shown when the text is wrong."""
    def parse(text):
        parts = text.split(",")
        if len(parts) != 4 or not all(part.strip().isdigit() and int(part) > 0 for part in parts):
            raise argparse.ArgumentTypeError("must be four positive whole numbers separated by commas, one for each "
                                             "convolution, such as %s, not %r" % (",".join(map(str, example)), text))
        return tuple(int(part) for part in parts)
    return parse


def hidden_sizes(text):
    """"256,64" -> (256, 64): one or more positive whole numbers, the hidden layers' widths."""
    parts = text.split(",")
    if not all(part.strip().isdigit() and int(part) > 0 for part in parts):
        raise argparse.ArgumentTypeError("must be positive whole numbers separated by commas, "
                                         "such as 256,64, not %r" % text)
    return tuple(int(part) for part in parts)


def lesson_defaults(constants):
    """Each option's default, one of the lesson's constants: `constants` is the lesson's globals(),
    or what read_constants reads from its source. genre_cnn.py is told apart by its LAYERS."""
    defaults = dict(updates=constants["NUM_UPDATES"], eval_step=constants["EVAL_STEP"],
                    batch_size=constants["BATCH_SIZE"], learning_rate=constants["LEARNING_RATE"],
                    seed=constants["SEED"],
                    data_help="the lesson's .npz file (default: sample_3s_400Hz.npz next to this script, else "
                    "classical_vs_rock.npz, else that file fetched from Google Drive, or from $GENRE_MLP_DATA_URL "
                    "if set; the generated stand-in when Drive fails)")
    if "LAYERS" in constants:
        layers = constants["LAYERS"]
        defaults.update(prog="genre_cnn.py", filters=tuple(layer[0] for layer in layers),
                        strides=tuple(layer[2] for layer in layers))
    else:
        defaults.update(prog="genre_mlp.py", hidden=(constants["HIDDEN_1"], constants["HIDDEN_2"]))
    return defaults


def read_constants(script):
    """The constants a script assigns at its top level (NAME = a literal, or os.path.join(HERE, "a name"):
    a file beside it), read from its source without running it."""
    import ast
    with open(script, encoding="utf-8") as source:
        tree = ast.parse(source.read(), script)
    constants = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        value = node.value
        if (isinstance(value, ast.Call) and ast.unparse(value.func) == "os.path.join" and len(value.args) == 2
                and ast.unparse(value.args[0]) == "HERE" and isinstance(value.args[1], ast.Constant)):
            constants[node.targets[0].id] = os.path.join(os.path.dirname(os.path.abspath(script)), value.args[1].value)
            continue
        try:
            constants[node.targets[0].id] = ast.literal_eval(value)
        except ValueError:
            pass  # computed at run time (HERE, FLOATX): no option's default
    return constants


def answer_before_theano(script, argv):
    """`python genre_mlp.py --help`, or an option it cannot take, answered before Theano loads (a second
    or more): the same parse as the script's, with the constants read from its source."""
    parse_args(argv, lesson_defaults(read_constants(script)))


def parse_args(argv, defaults):
    """The options, `defaults` giving the lesson's constants (lesson_defaults)."""
    cnn = defaults["prog"] == "genre_cnn.py"
    parser = cli.Parser(prog=defaults["prog"], description="Train the lesson's %s to tell classical from rock in 3 s "
                        "of 400 Hz audio." % ("convolutional network" if cnn else "MLP"))
    parser.add_argument("--data", help=defaults["data_help"])
    parser.add_argument("--stand-in", action="store_true", help="train on the generated stand-in, not the "
                        "lesson's recordings (nothing is fetched)")
    parser.add_argument("--updates", type=int, default=defaults["updates"],
                        help="training updates (default %%(default)s%s)" % ("" if cnn else "; 0 with --load only evaluates"))
    parser.add_argument("--eval-step", type=positive(int), default=defaults["eval_step"],
                        help="evaluate on the test set every this many updates (default %(default)s)")
    parser.add_argument("--batch-size", type=positive(int), default=defaults["batch_size"],
                        help="default %(default)s")
    parser.add_argument("--learning-rate", type=positive(float), default=defaults["learning_rate"],
                        help="default %(default)s")
    parser.add_argument("--seed", type=seed, default=defaults["seed"], help="seeds the weights, the batches and "
                        "the stand-in data (default %(default)s)")
    parser.add_argument("--loss", choices=LOSSES,
                        help="bce: binary cross-entropy (the default); mse: %s squared error"
                        % ("lesson 06's" if cnn else "the lesson's"))
    if cnn:
        parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                            help="adam (the default, as in lesson 06) or sgd, the first lesson's plain step")
        parser.add_argument("--filters", type=four_layers(defaults["filters"]), default=defaults["filters"], metavar="N,N,N,N",
                            help="each convolution's number of filters (default %s)"
                            % ",".join(map(str, defaults["filters"])))
        parser.add_argument("--strides", type=four_layers(defaults["strides"]), default=defaults["strides"], metavar="N,N,N,N",
                            help="each convolution's stride (default %s; 1,1,1,1 is no stride)"
                            % ",".join(map(str, defaults["strides"])))
        parser.set_defaults(hidden=None, save=None, load=None, predict=None)
    else:
        parser.add_argument("--hidden", type=hidden_sizes, default=defaults["hidden"], metavar="N,N",
                            help="the hidden layers' widths (default %s)" % ",".join(map(str, defaults["hidden"])))
    parser.add_argument("--same-loudness", action="store_true",
                        help="scale every excerpt, train and test alike, to the same RMS, so that "
                        "loudness alone tells nothing")
    keep = parser.add_argument_group("keeping the results" if cnn else "keeping and using the model")
    if not cnn:
        add_model_files(keep)
    keep.add_argument("--curve", metavar="CURVE.csv", help="write every evaluation to this CSV file")
    keep.add_argument("--plot", metavar="CURVE.png", help="draw the learning curve (needs matplotlib)")
    keep.add_argument("--plot-samples", metavar="SAMPLES.png",
                      help="draw random training excerpts of each class (needs matplotlib)")
    return checked(parser, parser.parse_args(argv))


def add_model_files(keep):
    """genre_mlp.py's --save, --load and --predict (lesson_helpers/command_line/model_file.py)."""
    keep.add_argument("--save", metavar="MODEL.npz", help="write the trained parameters to this file")
    keep.add_argument("--load", metavar="MODEL.npz", help="start from the parameters in this file")
    keep.add_argument("--predict", nargs="+", metavar=("MODEL.npz", "AUDIO"),
                      help="classify audio files (WAV, FLAC, OGG, MP3; other formats with ffmpeg) with a saved model: "
                      "the middle 3 s decide; a longer file also gets a vote over its 3-s windows, "
                      "a tied vote going the way of the middle 3 s")


def checked(parser, args):
    """The options taken together, each wrong combination one line through parser.error."""
    if args.predict is not None:
        if len(args.predict) < 2:
            parser.error("--predict needs a model file and at least one audio file")
        if importlib.util.find_spec("soundfile") is None:
            parser.error("--predict needs soundfile, which is not installed; " + cli.install_hint())
        return args
    if args.stand_in and args.data:
        parser.error("--stand-in and --data exclude each other: give one")
    if args.updates < 0 or (args.updates == 0 and not args.load):
        parser.error("--updates must be greater than 0" + ("" if args.hidden is None else
                                                            " (0 only evaluates a model given with --load)"))
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
        path = getattr(args, option)
        if path and importlib.util.find_spec("matplotlib") is None:
            parser.error("--%s needs matplotlib, which is not installed; %s"
                         % (option.replace("_", "-"), cli.install_hint()))
        if path and not is_special(path):  # a device or a FIFO gets PNG, whatever its name
            try:
                picture_format(path)
            except ValueError as error:
                parser.error("--%s: %s" % (option.replace("_", "-"), error))
    return args


def read_options(notebook_args, constants):
    """The lesson's options: the script's command line, or in a notebook the list in the cell tagged
    parameters; each defaults to one of the lesson's constants (`constants`: genre_mlp's globals()).
    A --load file is read now, before the data: a bad file fails fast."""
    from lesson_helpers import route
    from lesson_helpers.command_line import stopped
    from lesson_helpers.command_line.model_file import read_model_file
    script = route.as_script()
    args = parse_args(sys.argv[1:] if script else notebook_args, lesson_defaults(constants))
    if not script:
        print("Options:", " ".join(notebook_args) or "none (the lesson's constants)")
    stopped.stage.asked = [path for path in (args.plot_samples, args.save, args.curve, args.plot) if path]
    stopped.stage.written = []
    if args.load:
        read_model_file(args.load)
    return args


def check_against_data(args, data, device):
    """Once the data is loaded, before anything compiles: the batch fits the training set, the
    network fits in memory."""
    if args.updates:
        check_batch_size(args.batch_size, len(data.train))
    if not args.load and args.hidden:  # the MLP's
        check_network_fits(args.hidden, data.train.shape[1], len(data.test), device)
