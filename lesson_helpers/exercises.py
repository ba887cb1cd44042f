"""make exercises: the runs behind the answers to the lesson's Exercises, measured again.

    python lesson_helpers/exercises.py [--record docs/exercises.md]

Each run is `genre_mlp.py --stand-in` with one exercise's options; what it printed is written
down as one row of a table in docs/exercises.md, the record. Every number in the answers
(genre_mlp.py's Exercises) is one of that record's, and tests/test_exercises.py fails when
one is not. The seed fixes every accuracy and loss, the same on every Python (the suite
checks that), so only the times move from machine to machine; they are kept as ratios to
the lesson's own run, measured in the same go. Nothing here is imported by genre_mlp.py.
"""
import argparse
import os
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

BEFORE = re.compile(r"^Accuracy before training: ([\d.]+)%", re.M)
AFTER = re.compile(r"^Accuracy after update (\d+)/\d+: ([\d.]+)%  test loss ([\d.]+)  train loss ([\d.]+)", re.M)
SIZE = re.compile(r"^([\d,]+) parameters; compiling took [\d.]+ s, training [\d.]+ s \((\d+) updates, (\d+) us each\)",
                  re.M)
LOUDNESS = re.compile(r"^Test accuracy: the network ([\d.]+)%, loudness alone ([\d.]+)%", re.M)
DIVERGED = re.compile(r"the loss became \S+ at update (\d+)")


class RunError(Exception):
    """A run printed something this reader does not know: one line, with the run's last line."""


def option(options, name, default):
    return options[options.index(name) + 1] if name in options else default


def measure(options, python=sys.executable, script=os.path.join(ROOT, "genre_mlp.py")):
    """One run of the lesson with `options`, on the stand-in: its figures (read_run)."""
    result = subprocess.run([python, script, "--stand-in"] + options, capture_output=True, text=True, cwd=ROOT)
    return read_run(options, result.stdout, result.stderr, result.returncode)


def read_run(options, out, err, status):
    """A run's figures, from what it printed: a dict keyed by COLUMNS' names (the strings as
    printed), and "us", its training's microseconds, for the ratio of times."""
    diverged, before = DIVERGED.search(err), BEFORE.search(out)
    row = {"options": " ".join(options) or "none", "before training": before.group(1) + "%" if before else "-"}
    updates, batch = int(option(options, "--updates", 5000)), int(option(options, "--batch-size", 16))
    row["times each excerpt is seen"] = "%g" % (updates * batch / TRAINING_ROWS)
    if diverged:
        row["stopped at update"] = diverged.group(1)
        return row
    after, size, loudness = AFTER.findall(out), SIZE.search(out), LOUDNESS.search(out)
    if status != 0 or not (after and size and loudness):
        last = (err.strip().splitlines() or out.strip().splitlines() or ["nothing printed"])[-1]
        raise RunError("genre_mlp.py %s: %s" % (row["options"], last))
    _, accuracy, test_loss, train_loss = after[-1]
    row.update({"accuracy": accuracy + "%", "test loss": test_loss, "train loss": train_loss,
                "loudness alone": loudness.group(2) + "%",
                "points beyond loudness": "%.2f" % (float(loudness.group(1)) - float(loudness.group(2))),
                "parameters": size.group(1), "us": int(size.group(2)) * int(size.group(3))})
    return row


def ratio(seconds, lesson_seconds):
    """A time as a multiple of the lesson's: one decimal below 10, whole numbers above."""
    value = seconds / lesson_seconds
    return "%.1f" % value if value < 10 else "%.0f" % value


def table(rows):
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(row.get(column, "-") for column in COLUMNS) + " |" for row in rows]
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="lesson_helpers/exercises.py", description=__doc__.split("\n")[0])
    parser.add_argument("--record", default=RECORD, help="the record to write (default: docs/exercises.md)")
    args = parser.parse_args(argv)
    rows = []
    try:
        for exercise, name, options in RUNS:
            print("exercise %s, %s: genre_mlp.py --stand-in %s" % (exercise, name, " ".join(options)), flush=True)
            rows.append(dict(measure(options), exercise=exercise, run=name))
    except RunError as error:
        sys.exit("error: %s" % error)
    except KeyboardInterrupt:
        stopped.exit_stopped("at %s; %s not written" % (RUNS[len(rows)][1] + " run", args.record))
    lesson_us = rows[0]["us"]
    for row in rows:
        if "us" in row:
            row["training time (x the lesson's)"] = ratio(row["us"], lesson_us)
    text = HEADING + table(rows)
    write_atomically(args.record, lambda stream: stream.write(text.encode()))
    print("Wrote %s." % os.path.relpath(args.record))


if __name__ == "__main__":
    main()
