"""make exercises: the runs behind the answers to the lessons' Exercises, measured again.

    python lesson_helpers/exercises.py [--lesson mlp|cnn] [--record docs/exercises.md]

Each run is `genre_mlp.py --stand-in` (or `genre_cnn.py --stand-in`, `make exercises LESSON=cnn`)
with one exercise's options; what it printed is written down as one row of a table in
docs/exercises.md (docs/exercises-cnn.md), the record. Every number in the answers (the
lesson's Exercises cell) is one of that record's, and tests/test_exercises.py fails when one
is not. The seed fixes every accuracy and loss, the same on every Python (the suite checks
that for the MLP), so only the times move from machine to machine; they are kept as ratios to
the lesson's own run, measured in the same go. Nothing here is imported by the lessons.
"""
import argparse
import os
import platform
import re
import subprocess
import sys

if __package__ in (None, ""):  # run as a script: make the project's packages importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from lesson_helpers.command_line import stopped
from lesson_helpers.files import write_atomically

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORD = os.path.join(ROOT, "docs", "exercises.md")
TRAINING_ROWS = 8000  # the stand-in's training set

# (exercise, run, options): the lesson's own run first, each exercise's after it.
RUNS = [
    ("-", "the lesson's", []),
    ("1", "squared error", ["--loss", "mse"]),
    ("2", "rate 0.001", ["--learning-rate", "0.001"]),
    ("2", "rate 0.1", ["--learning-rate", "0.1"]),
    ("2", "rate 1", ["--learning-rate", "1"]),
    ("3", "rate 1e9", ["--learning-rate", "1e9"]),
    ("4", "batch 1", ["--batch-size", "1"]),
    ("4", "batch 256", ["--batch-size", "256"]),
    ("5", "hidden 32", ["--hidden", "32"]),
    ("5", "hidden 1024,256", ["--hidden", "1024,256"]),
    ("5", "hidden 256,64,16", ["--hidden", "256,64,16"]),
    ("6", "same loudness", ["--same-loudness"]),
    ("7", "20000 updates", ["--updates", "20000", "--eval-step", "2000"]),
]
COLUMNS = ["exercise", "run", "options", "before training", "accuracy", "test loss", "train loss", "loudness alone",
           "points beyond loudness", "parameters", "times each excerpt is seen", "training time (x the lesson's)",
           "stopped at update"]

# genre_cnn.py's (its Exercises cell); each run also trains the first lesson's MLP on the same data.
CNN_RECORD = os.path.join(ROOT, "docs", "exercises-cnn.md")
CNN_RUNS = [
    ("-", "the lesson's", []),
    ("1", "same loudness", ["--same-loudness"]),
    ("2", "SGD at 0.01", ["--optimizer", "sgd", "--learning-rate", "0.01"]),
    ("3", "filters 8,8,12,12", ["--filters", "8,8,12,12"]),
    ("3", "filters 64,64,96,96", ["--filters", "64,64,96,96"]),
    ("4", "strides 1,1,1,1", ["--strides", "1,1,1,1", "--updates", "500", "--eval-step", "100"]),
]
CNN_COLUMNS = ["exercise", "run", "options", "before training", "accuracy", "test loss", "train loss",
               "loudness alone", "points beyond loudness", "the MLP", "points beyond the MLP", "parameters",
               "times each excerpt is seen", "time per update", "training time (x the lesson's)", "stopped at update"]

BEFORE = re.compile(r"^Accuracy before training: ([\d.]+)%", re.M)
AFTER = re.compile(r"^Accuracy after update (\d+)/\d+: ([\d.]+)%  test loss ([\d.]+)  train loss ([\d.]+)", re.M)
SIZE = re.compile(r"^([\d,]+) parameters; compiling took [\d.]+ s, training [\d.]+ s \((\d+) updates, (\d+) us each\)",
                  re.M)
LOUDNESS = re.compile(r"^Test accuracy: the network ([\d.]+)%, loudness alone ([\d.]+)%", re.M)
DIVERGED = re.compile(r"the loss became \S+ at update (\d+)")
BESIDE_MLP = re.compile(r"^The convolutional network: ([\d.]+)%; the first lesson's MLP on the same data: ([\d.]+)% "
                        r"\(([+-][\d.]+) points\)", re.M)


class RunError(Exception):
    """A run printed something this reader does not know: one line, with the run's last line."""


def option(options, name, default):
    return options[options.index(name) + 1] if name in options else default


def measure(options, python=sys.executable, lesson="mlp"):
    """One run of the lesson with `options`, on the stand-in: its figures (read_run)."""
    script = os.path.join(ROOT, LESSONS[lesson]["script"])
    result = subprocess.run([python, script, "--stand-in"] + options, capture_output=True, text=True, cwd=ROOT)
    return read_run(options, result.stdout, result.stderr, result.returncode, lesson)


def read_run(options, out, err, status, lesson="mlp"):
    """A run's figures, from what it printed: a dict keyed by COLUMNS' names (CNN_COLUMNS' for
    genre_cnn.py; the strings as printed), and "us", its training's microseconds, for the ratio
    of times. genre_cnn.py's run ends with the MLP's training: its last evaluation line is the
    MLP's, the one before it the network's."""
    cnn = lesson == "cnn"
    diverged, before = DIVERGED.search(err), BEFORE.search(out)
    row = {"options": " ".join(options) or "none", "before training": before.group(1) + "%" if before else "-"}
    updates, batch = int(option(options, "--updates", 5000)), int(option(options, "--batch-size", 16))
    row["times each excerpt is seen"] = "%g" % (updates * batch / TRAINING_ROWS)
    if diverged:
        row["stopped at update"] = diverged.group(1)
        return row
    after, size, loudness = AFTER.findall(out), SIZE.search(out), LOUDNESS.search(out)
    beside = BESIDE_MLP.search(out) if cnn else None
    last = (err.strip().splitlines() or out.strip().splitlines() or ["nothing printed"])[-1]
    if status != 0 or not (after[1:] if cnn else after) or not (size and loudness) or (cnn and not beside):
        raise RunError("%s %s: %s" % (LESSONS[lesson]["script"], row["options"], last))
    _, accuracy, test_loss, train_loss = after[-2] if cnn else after[-1]
    if cnn:
        if accuracy != beside.group(1) or after[-1][1] != beside.group(2):
            raise RunError("genre_cnn.py %s: its accuracy lines (%s%%, the MLP's %s%%) are not those it compares "
                           "(%s%%, %s%%)" % (row["options"], accuracy, after[-1][1], beside.group(1),
                                             beside.group(2)))
        row.update({"the MLP": beside.group(2) + "%", "points beyond the MLP": beside.group(3),
                    "time per update": "%.1f ms" % (int(size.group(3)) / 1000)})
    row.update({"accuracy": accuracy + "%", "test loss": test_loss, "train loss": train_loss,
                "loudness alone": loudness.group(2) + "%",
                "points beyond loudness": "%.2f" % (float(loudness.group(1)) - float(loudness.group(2))),
                "parameters": size.group(1), "us": int(size.group(2)) * int(size.group(3))})
    return row


def ratio(seconds, lesson_seconds):
    """A time as a multiple of the lesson's: one decimal below 10, whole numbers above."""
    value = seconds / lesson_seconds
    return "%.1f" % value if value < 10 else "%.0f" % value


def table(rows, columns=COLUMNS):
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(row.get(column, "-") for column in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def read_record(path=RECORD):
    """The record's table: one dict per run, keyed by COLUMNS."""
    with open(path, encoding="utf-8") as lines:
        rows = [line.strip().strip("|").split("|") for line in lines if line.startswith("| ") and "---" not in line]
    header = [cell.strip() for cell in rows[0]]
    return [dict(zip(header, (cell.strip() for cell in row))) for row in rows[1:]]


HEADING = """# The exercises' answers, as measured

What `make exercises` (lesson_helpers/exercises.py) printed when it last ran each exercise of
genre_mlp.py on the generated stand-in (`--stand-in`, seed 1234, 5000 updates and the
lesson's constants unless the options say otherwise). The answers quote these numbers, and
tests/test_exercises.py fails when one of theirs is not here. Accuracies and losses are the
same on every Python; the training times are multiples of the lesson's own run, measured in
the same go on one machine. Run `make exercises` after a change that moves them, then update the
answers.

"""

CNN_HEADING = """# The convolutional network's exercises, as measured

What `make exercises LESSON=cnn` (lesson_helpers/exercises.py) printed when it last ran each
exercise of genre_cnn.py on the generated stand-in (`--stand-in`, seed 1234, 5000 updates, Adam
at 0.001 and lesson 06's layers unless the options say otherwise). Each run also trains the first
lesson's MLP on the same data, as the lesson does: its accuracy is "the MLP". The answers quote
these numbers, and tests/test_exercises.py fails when one of theirs is not here. The time per
update is the measuring machine's; the training times are multiples of the lesson's own run,
measured in the same go. Run `make exercises LESSON=cnn` after a change that moves them, then
update the answers.

Measured on: %s.

"""

# Each lesson's script, runs, columns, record and heading.
LESSONS = {
    "mlp": dict(script="genre_mlp.py", runs=RUNS, columns=COLUMNS, record=RECORD, heading=HEADING),
    "cnn": dict(script="genre_cnn.py", runs=CNN_RUNS, columns=CNN_COLUMNS, record=CNN_RECORD, heading=CNN_HEADING),
}


def machine():
    """The CPU's name and its cores, for the CNN's record (its times are this machine's)."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            name = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), name)
    except OSError:
        pass
    return "%s, %d cores" % (name, os.cpu_count() or 1)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="lesson_helpers/exercises.py", description=__doc__.split("\n")[0])
    parser.add_argument("--lesson", choices=sorted(LESSONS), default="mlp",
                        help="genre_mlp.py's exercises (mlp, the default) or genre_cnn.py's (cnn)")
    parser.add_argument("--record", help="the record to write (default: docs/exercises.md, or "
                        "docs/exercises-cnn.md for --lesson cnn)")
    args = parser.parse_args(argv)
    lesson = LESSONS[args.lesson]
    args.record = args.record or lesson["record"]
    rows = []
    try:
        for exercise, name, options in lesson["runs"]:
            print("exercise %s, %s: %s --stand-in %s" % (exercise, name, lesson["script"], " ".join(options)),
                  flush=True)
            rows.append(dict(measure(options, lesson=args.lesson), exercise=exercise, run=name))
    except RunError as error:
        sys.exit("error: %s" % error)
    except KeyboardInterrupt:
        stopped.exit_stopped("at %s; %s not written" % (lesson["runs"][len(rows)][1] + " run", args.record))
    lesson_us = rows[0]["us"]
    for row in rows:
        if "us" in row:
            row["training time (x the lesson's)"] = ratio(row["us"], lesson_us)
    heading = lesson["heading"] % machine() if args.lesson == "cnn" else lesson["heading"]
    text = heading + table(rows, lesson["columns"])
    write_atomically(args.record, lambda stream: stream.write(text.encode()))
    print("Wrote %s." % os.path.relpath(args.record))


if __name__ == "__main__":
    main()
