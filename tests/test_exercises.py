"""The answers to genre_mlp.py's Exercises against the record of their runs (docs/exercises.md,
written by `make exercises`), and genre_cnn.py's against theirs (docs/exercises-cnn.md, `make
exercises LESSON=cnn`): every number an answer gives must be one the record holds for that
exercise (or for the lesson's own run), or one of the options the exercise names."""
import os
import re

import pytest

from conftest import ROOT
from lesson_helpers import exercises

# A number as prose writes it: 81.65%, 0.2427, 38,497, 1e9, 1024,256; not the 3 of "W3".
NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d+)*(?:\.\d+)?(?:e\d+)?%?(?![\w])")


def answers(source=None, script="genre_mlp.py"):
    """{exercise number: the text of its answer} from the lesson's Exercises (genre_mlp.py's, or `script`'s)."""
    if source is None:
        with open(os.path.join(ROOT, script), encoding="utf-8") as lesson:
            source = lesson.read()
    part = source[source.index("# ## Exercises"):]
    text = "\n".join(line[2:] for line in part.splitlines() if line.startswith("# ") or line == "#")
    found = {}
    for match in re.finditer(r"^(\d+)\. \*\*.*?(?=^\d+\. \*\*|\Z)", text, re.S | re.M):
        body = match.group(0)
        if "<details>" in body:
            found[match.group(1)] = body[body.index("<details>"):body.index("</details>")]
    return found


def lessons_constants(script="genre_mlp.py"):
    """NUM_UPDATES, BATCH_SIZE, LEARNING_RATE...: the numbers the lesson sets, as its source writes them
    (genre_cnn.py's LAYERS too, number by number)."""
    from lesson_helpers.command_line.options import read_constants
    constants = read_constants(os.path.join(ROOT, script))

    def numbers(value):
        if isinstance(value, tuple):
            return [number for item in value for number in numbers(item)]
        return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []
    return {str(number) for value in constants.values() for number in numbers(value)}


def allowed(record, exercise, script="genre_mlp.py"):
    """What an answer may quote: every figure the record holds for the exercise's runs and the
    lesson's, with and without a % sign, the numbers in those runs' options, and the lesson's
    constants (its 5000 updates, its rate of 0.01)."""
    values = lessons_constants(script)
    for row in record:
        if row["exercise"] in (exercise, "-"):
            for column, value in row.items():
                if column not in ("exercise", "run"):
                    values.update(NUMBER.findall(value))
    return values | {value.rstrip("%") for value in values}


def strays(answer_texts, record, script="genre_mlp.py"):
    """(exercise, number) for each number of an answer that the record does not hold."""
    return [(exercise, number) for exercise, text in sorted(answer_texts.items())
            for number in NUMBER.findall(text) if number not in allowed(record, exercise, script)]


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


# ---- genre_cnn.py's Exercises and their record ------------------------------------------------------

def test_every_number_in_the_cnn_answers_is_in_its_record():
    record, found = exercises.read_record(exercises.CNN_RECORD), answers(script="genre_cnn.py")
    assert sorted(found) == ["1", "2", "3", "4"]
    assert all(NUMBER.findall(text) for text in found.values())  # each answer quotes the record
    assert strays(found, record, "genre_cnn.py") == []


def test_a_cnn_number_that_differs_from_its_record_is_caught():
    record = exercises.read_record(exercises.CNN_RECORD)
    lesson = next(row for row in record if row["exercise"] == "-")
    honest = "<details>\n#    The lesson's run ends at %s, the MLP at %s." % (lesson["accuracy"], lesson["the MLP"])
    assert strays({"1": honest}, record, "genre_cnn.py") == []
    stale = "%.2f%%" % (float(lesson["accuracy"].rstrip("%")) + 0.05)
    assert strays({"1": honest.replace(lesson["accuracy"], stale)}, record, "genre_cnn.py") == [("1", stale)]
    # Another exercise's figure is not this one's; the first lesson's record is not this one's.
    other = next(row for row in record if row["exercise"] == "4")
    assert strays({"1": honest + " " + other["parameters"]}, record, "genre_cnn.py") == [("1", other["parameters"])]
    mlp_record = exercises.read_record()
    mlp_only = next(row["accuracy"] for row in mlp_record if row["exercise"] == "7")
    assert strays({"1": honest + " " + mlp_only}, record, "genre_cnn.py") == [("1", mlp_only)]


def test_the_cnn_record_holds_every_run_the_runner_makes():
    record = exercises.read_record(exercises.CNN_RECORD)
    assert [(row["exercise"], row["run"], row["options"]) for row in record] == [
        (exercise, name, " ".join(options) or "none") for exercise, name, options in exercises.CNN_RUNS]
    assert list(record[0]) == exercises.CNN_COLUMNS
    assert record[0]["training time (x the lesson's)"] == "1.0" and record[0]["parameters"] == "167,425"
    # Each run's MLP is the first lesson's own run on the same data: with loudness left in, its accuracy
    # is the first lesson's record's.
    mlp_lesson = next(row for row in exercises.read_record() if row["exercise"] == "-")
    assert {row["the MLP"] for row in record if "--same-loudness" not in row["options"]} == {mlp_lesson["accuracy"]}
    for row in record:  # the points beyond the MLP, worked out again
        if row["accuracy"] != "-":
            assert "%+.2f" % (float(row["accuracy"].rstrip("%")) - float(row["the MLP"].rstrip("%"))) == \
                row["points beyond the MLP"]


# What genre_cnn.py printed (seconds and the lines in between aside): the network's evaluations, then the
# MLP's, then the report, then the comparison and the verdict.
PRINTED_CNN = """Accuracy before training: 49.35%  test loss 0.6943
Accuracy after update 100/200: 96.80%  test loss 0.1738  train loss 0.3280  (2.1 s)
Accuracy after update 200/200: 96.75%  test loss 0.2022  train loss 0.1840  (4.3 s)
Accuracy after update 5000/5000: 82.20%  test loss 0.4296  train loss 0.4537  (2.3 s)

167,425 parameters; compiling took 2.5 s, training 4.3 s (200 updates, 21714 us each)
Test accuracy: the network 96.75%, loudness alone 82.30% (rock when RMS > 0.0525, the best threshold on the training set)
The convolutional network: 96.75%; the first lesson's MLP on the same data: 82.20% (+14.55 points).
Verdict on the generated stand-in: the network's 96.75% is 14.45 points above loudness alone (82.30%), ...
"""


def test_a_cnn_run_is_read_as_printed():
    row = exercises.read_run(["--updates", "200", "--eval-step", "100"], PRINTED_CNN, "", 0, lesson="cnn")
    assert row == {"options": "--updates 200 --eval-step 100", "before training": "49.35%", "accuracy": "96.75%",
                   "test loss": "0.2022", "train loss": "0.1840",  # the network's last line, not the MLP's
                   "loudness alone": "82.30%", "points beyond loudness": "14.45", "the MLP": "82.20%",
                   "points beyond the MLP": "+14.55", "parameters": "167,425",
                   "times each excerpt is seen": "0.4",  # 200 batches of 16 over 8000 excerpts
                   "time per update": "21.7 ms", "us": 200 * 21714}


def test_a_cnn_run_whose_lines_disagree_is_one_line():
    # The MLP's evaluation missing: the network's last line would be taken for the MLP's.
    printed = "\n".join(line for line in PRINTED_CNN.splitlines() if "5000/5000" not in line)
    with pytest.raises(exercises.RunError) as raised:
        exercises.read_run(["--updates", "200", "--eval-step", "100"], printed, "", 0, lesson="cnn")
    assert str(raised.value) == ("genre_cnn.py --updates 200 --eval-step 100: its accuracy lines (96.80%, the MLP's "
                                 "96.75%) are not those it compares (96.75%, 82.20%)")
    with pytest.raises(exercises.RunError) as raised:
        exercises.read_run([], "", "error: --filters: bad\n", 2, lesson="cnn")
    assert str(raised.value) == "genre_cnn.py none: error: --filters: bad"


def test_the_readmes_next_lesson_quotes_the_cnn_record():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as readme:
        section = readme.read().split("\n## Next lesson\n", 1)[1].split("\n## ", 1)[0]
    sentence = section[section.index("On the generated stand-in:"):].split("\n\n")[0]
    record = exercises.read_record(exercises.CNN_RECORD)
    assert len(NUMBER.findall(sentence)) >= 6
    assert strays({"1": sentence}, record, "genre_cnn.py") == []  # the lesson's run and exercise 1's
