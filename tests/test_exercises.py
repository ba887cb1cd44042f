"""The answers to genre_mlp.py's Exercises against the record of their runs (docs/exercises.md,
written by `make exercises`): every number an answer gives must be one the record holds for
that exercise (or for the lesson's own run), or one of the options the exercise names."""
import os
import re

import pytest

from conftest import ROOT
from lesson_helpers import exercises

# A number as prose writes it: 81.65%, 0.2427, 38,497, 1e9, 1024,256; not the 3 of "W3".
NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d+)*(?:\.\d+)?(?:e\d+)?%?(?![\w])")


def answers(source=None):
    """{exercise number: the text of its answer} from genre_mlp.py's Exercises."""
    if source is None:
        with open(os.path.join(ROOT, "genre_mlp.py"), encoding="utf-8") as script:
            source = script.read()
    part = source[source.index("# ## Exercises"):]
    text = "\n".join(line[2:] for line in part.splitlines() if line.startswith("# ") or line == "#")
    found = {}
    for match in re.finditer(r"^(\d+)\. \*\*.*?(?=^\d+\. \*\*|\Z)", text, re.S | re.M):
        body = match.group(0)
        if "<details>" in body:
            found[match.group(1)] = body[body.index("<details>"):body.index("</details>")]
    return found


def lessons_constants():
    """NUM_UPDATES, BATCH_SIZE, LEARNING_RATE...: the numbers genre_mlp.py sets, as its source writes them."""
    from lesson_helpers.command_line.options import read_constants
    constants = read_constants(os.path.join(ROOT, "genre_mlp.py"))
    return {str(value) for value in constants.values() if isinstance(value, (int, float))}


def allowed(record, exercise):
    """What an answer may quote: every figure the record holds for the exercise's runs and the
    lesson's, with and without a % sign, the numbers in those runs' options, and the lesson's
    constants (its 5000 updates, its rate of 0.01)."""
    values = lessons_constants()
    for row in record:
        if row["exercise"] in (exercise, "-"):
            for column, value in row.items():
                if column not in ("exercise", "run"):
                    values.update(NUMBER.findall(value))
    return values | {value.rstrip("%") for value in values}


def strays(answer_texts, record):
    """(exercise, number) for each number of an answer that the record does not hold."""
    return [(exercise, number) for exercise, text in sorted(answer_texts.items())
            for number in NUMBER.findall(text) if number not in allowed(record, exercise)]


def test_every_number_in_the_answers_is_in_the_record():
    record, found = exercises.read_record(), answers()
    assert sorted(found) == ["1", "2", "3", "4", "5", "6", "7"]
    assert all(NUMBER.findall(text) for text in found.values())  # each answer quotes the record
    assert strays(found, record) == []


def test_a_number_that_differs_from_the_record_is_caught():
    record = exercises.read_record()
    lesson = next(row for row in record if row["exercise"] == "-")
    honest = "<details>\n#    The lesson's run ends at %s." % lesson["accuracy"]
    assert strays({"1": honest}, record) == []
    stale = honest.replace(lesson["accuracy"], "%.2f%%" % (float(lesson["accuracy"].rstrip("%")) + 0.05))
    assert strays({"1": stale}, record) == [("1", "%.2f%%" % (float(lesson["accuracy"].rstrip("%")) + 0.05))]
    # Another exercise's figure is not this one's.
    other = next(row for row in record if row["exercise"] == "7")
    assert strays({"1": honest + " " + other["accuracy"]}, record) == [("1", other["accuracy"])]


def test_the_record_holds_every_run_the_runner_makes():
    record = exercises.read_record()
    assert [(row["exercise"], row["run"], row["options"]) for row in record] == [
        (exercise, name, " ".join(options) or "none") for exercise, name, options in exercises.RUNS]
    assert list(record[0]) == exercises.COLUMNS
    assert record[0]["training time (x the lesson's)"] == "1.0"


# What genre_mlp.py printed (seconds aside), read as the runner reads it.
PRINTED = """Accuracy before training: 47.95%  test loss 0.6777
Accuracy after update 500/1000: 81.75%  test loss 0.5538  train loss 0.6094  (0.2 s)
Accuracy after update 1000/1000: 81.35%  test loss 0.4933  train loss 0.5210  (0.3 s)

323,969 parameters; compiling took 0.2 s, training 0.3 s (1000 updates, 305 us each)
Test accuracy: the network 81.35%, loudness alone 82.30% (rock when RMS > 0.0525, the best threshold on the training set)
Verdict on the generated stand-in: the network's 81.35% is 0.95 points below loudness alone (82.30%), ...
"""


def test_a_run_is_read_as_printed():
    row = exercises.read_run(["--updates", "1000", "--batch-size", "32"], PRINTED, "", 0)
    assert row == {"options": "--updates 1000 --batch-size 32", "before training": "47.95%", "accuracy": "81.35%",
                   "test loss": "0.4933", "train loss": "0.5210", "loudness alone": "82.30%",
                   "points beyond loudness": "-0.95", "parameters": "323,969",
                   "times each excerpt is seen": "4",  # 1000 batches of 32 over 8000 excerpts
                   "us": 305000}


def test_a_diverged_run_is_read_as_where_it_stopped():
    err = ("error: the loss became nan at update 3: the training diverged with --learning-rate 1e+09, so nothing "
           "was saved; give a smaller --learning-rate (the default is 0.01)\n")
    row = exercises.read_run(["--learning-rate", "1e9"], PRINTED.split("\n")[0] + "\n", err, 1)
    assert row["stopped at update"] == "3" and "accuracy" not in row


def test_a_run_that_failed_otherwise_is_one_line():
    with pytest.raises(exercises.RunError) as raised:
        exercises.read_run(["--hidden", "9"], "", "error: something else\n", 1)
    assert str(raised.value) == "genre_mlp.py --hidden 9: error: something else"


def test_times_are_ratios_to_the_lessons_run():
    assert [exercises.ratio(seconds, 2.0) for seconds in (2.0, 3.5, 19.8, 71.0)] == ["1.0", "1.8", "9.9", "36"]
