"""genre_mlp.py run as a learner runs it: output, options, stand-in, errors and THEANO_FLAGS."""
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from conftest import (ROOT, SCRIPT, USERS_THEANO_FLAGS, copy_lesson, lesson_code,
                      parse_args, report_lines, run_lesson, run_script, separable, stderr_lines, write_npz)
from test_loudness import brute_force, plain_rms
from theano_today import theano_setup
from benchmark.reference import NumpyMLP


def test_trains_end_to_end_on_a_file(genre_mlp, small_file):
    result = run_script("--data", small_file, "--updates", "200", "--eval-step", "100")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    evaluations = [line for line in lines if line.startswith("Accuracy after update")]
    assert [line.split(":")[0] for line in evaluations] == ["Accuracy after update 100/200",
                                                            "Accuracy after update 200/200"]
    assert float(evaluations[-1].split(":")[1].split("%")[0]) > 95.0  # separable: learned
    assert "  W1  float32  (1200, 256)" in lines and "  B3  float32  (1,)" in lines
    assert any(line.startswith("323,969 parameters; compiling took") for line in lines)
    assert "stand-in" not in result.stdout and stderr_lines(result) == []
    assert os.environ.get("THEANO_FLAGS", "") == USERS_THEANO_FLAGS
    if "blas.ldflags" not in USERS_THEANO_FLAGS:
        # This process has imported genre_mlp: what it gave Theano must not have leaked into
        # THEANO_FLAGS, or the child would take our BLAS for the user's.
        assert lines[0].endswith("BLAS: " + theano_setup.blas_ldflags()[1]), lines[0]
    # The loudness baseline, on this file's own arrays, by brute force (tests/test_loudness.py): these
    # classes are equally loud, so the network beats it by far.
    with np.load(small_file) as arrays:
        halves = lambda n: np.arange(n) >= n // 2
        expected = brute_force(plain_rms(arrays["train"]), halves(400), plain_rms(arrays["test"]), halves(100))[3]
    network = evaluations[-1].split(":")[1].split("%")[0].strip()
    assert report_lines(result.stdout)[-1].startswith(
        "Test accuracy: the network %s%%, loudness alone %.2f%% (rock when RMS " % (network, 100 * expected))
    assert expected < 0.75
    # Then the confusion matrix, as the notebook shows it: its counts are the 100 test excerpts, 50 a class.
    counts = [[int(word) for word in line.split()[2:]] for line in lines[-3:-1]]
    assert [line.split()[:2] for line in lines[-3:-1]] == [["truly", "classical"], ["truly", "rock"]]
    assert [sum(row) for row in counts] == [50, 50]
    assert counts[0][0] + counts[1][1] == round(float(network))  # those it got right: its accuracy of 100
    # The last line, the verdict: the difference in points of the two accuracies as printed, worked out here.
    points = float(network) - round(100 * expected, 2)
    assert points >= 1
    assert lines[-1] == ("Verdict: the network's %s%% is %.2f points above loudness alone (%.2f%%), so it learned "
                         "%.2f points beyond what the volume tells, from the shape of the waveform."
                         % (network, points, 100 * expected, points))


@pytest.fixture
def script_copy(tmp_path):
    """The script alone in a folder of its own, so that which data file sits beside it is ours to choose."""
    return copy_lesson(tmp_path)


def test_stand_in_asked_for(script_copy):
    # Offline, or when Drive fails, the same happens with another why (tests/test_lesson_data.py).
    result = run_script("--stand-in", "--updates", "200", "--eval-step", "200", script=str(script_copy / "genre_mlp.py"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("Training on the generated stand-in (seed 1234), not the lesson's recordings: --stand-in "
                        "asked for it; `make data` fetches them (README \"The data\").")
    report = report_lines(result.stdout)
    assert report[-2].startswith("Test accuracy: the network ")
    assert "Trained on the generated stand-in" in report[-1] and "`make data` downloads them" in report[-1]
    assert lines[-1].startswith("Verdict on the generated stand-in: the network's ")
    assert not (script_copy / "sample_3s_400Hz.npz").exists()  # never written


def test_stand_in_and_data_exclude_each_other(small_file):
    result = run_script("--stand-in", "--data", small_file)
    assert result.returncode == 2
    assert result.stderr == "error: --stand-in and --data exclude each other: give one; see genre_mlp.py --help\n"


def test_later_file_name_is_used(script_copy):
    write_npz(script_copy / "classical_vs_rock.npz", train=separable(40), test=separable(20))
    result = run_script("--updates", "10", "--eval-step", "10", script=str(script_copy / "genre_mlp.py"))
    assert result.returncode == 0, result.stderr
    assert "classical_vs_rock.npz (the lesson's data file under its later name)" in result.stdout
    assert "stand-in" not in result.stdout


def test_the_lessons_name_wins_over_the_later_one(genre_mlp, tmp_path):
    # Both beside the script, told apart by their sizes: the lesson's own name is the one used.
    from lesson_helpers.data.lesson_data import open_data
    names = (str(tmp_path / "sample_3s_400Hz.npz"), str(tmp_path / "classical_vs_rock.npz"))
    write_npz(tmp_path / "classical_vs_rock.npz", train=separable(60), test=separable(20))
    said = []
    data, stand_in = open_data(genre_mlp.DataServer, None, 5, names, "float32", log=said.append)
    assert (len(data.train), stand_in) == (60, False) and len(said) == 1 and "later name" in said[0]
    write_npz(tmp_path / "sample_3s_400Hz.npz", train=separable(40), test=separable(20))
    said = []
    data, stand_in = open_data(genre_mlp.DataServer, None, 5, names, "float32", log=said.append)
    assert (len(data.train), stand_in, said) == (40, False, [])


def test_a_folder_given_as_the_data_says_so(genre_mlp, tmp_path):
    # It used to say "DIR not found" of a folder that is there.
    with pytest.raises(SystemExit) as stop:
        run_lesson(["--data", str(tmp_path), "--updates", "10", "--eval-step", "5"])
    assert stop.value.code == ("error: %s is a folder, not a file; give the lesson's data file "
                               "(README \"The data\")" % tmp_path)
    result = run_script("--data", str(tmp_path), "--updates", "10", "--eval-step", "5")
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr == stop.value.code + "\n"


@pytest.mark.parametrize("args, message", [
    (["--data", "absent.npz"], "absent.npz not found; give the lesson's data file"),
    (["--batch-size", "0"], "--batch-size: must be a whole number greater than 0, not 0"),
    (["--learning-rate", "-0.1"], "--learning-rate: must be a finite number greater than 0, not -0.1"),
    (["--learning-rate", "nan"], "--learning-rate: must be a finite number greater than 0, not nan"),
    (["--learning-rate", "inf"], "--learning-rate: must be a finite number greater than 0, not inf"),
    (["--updates", "0"], "--updates must be greater than 0 (0 only evaluates a model given with --load)"),
    (["--updates", "-5"], "--updates must be greater than 0"),
    (["--predict", "model.npz"], "--predict needs a model file and at least one audio file"),
    (["--save", "no/such/folder/m.npz"], "--save: no/such/folder/m.npz: its folder does not exist"),
    (["--curve", "no/such/folder/c.csv"], "--curve: no/such/folder/c.csv: its folder does not exist"),
    (["--updates", "100", "--eval-step", "500"], "--eval-step 500 is larger than --updates 100"),
    (["--loss", "hinge"], "invalid choice: 'hinge'"),
    (["--seed", "-1"], "--seed: must be a whole number from 0 to 4294967295, not -1"),
    (["--seed", "99999999999"], "--seed: must be a whole number from 0 to 4294967295, not 99999999999"),
    (["--seed", "4294967296"], "--seed: must be a whole number from 0 to 4294967295, not 4294967296"),
    (["--seed", "1.5"], "--seed: must be a whole number from 0 to 4294967295, not 1.5"),
    (["--plot", "c.txt"], "--plot: c.txt: matplotlib cannot write a .txt file; give a file ending in one of "),
    (["--plot-samples", "samples"], "--plot-samples: samples: matplotlib cannot write a file without an "
                                    "extension"),
    # An abbreviation is not taken for the option it starts (argparse's default): it is named.
    (["--same-loud"], "unrecognized arguments: --same-loud (did you mean --same-loudness?); see genre_mlp.py"),
    (["--same-loudnes"], "unrecognized arguments: --same-loudnes (did you mean --same-loudness?)"),
    (["--updats", "5"], "unrecognized arguments: --updats 5 (did you mean --updates?)"),
    (["--hiden=3"], "unrecognized arguments: --hiden=3 (did you mean --hidden?)"),
    (["--bogus"], "unrecognized arguments: --bogus; see genre_mlp.py --help"),  # nothing near: no guess
    # A message that names a known option is not taken for a typo of it.
    (["--updates", "0"], "(0 only evaluates a model given with --load); see genre_mlp.py --help"),
    # 1200*1e8 + 1e8 weights at 8 bytes, 2000 test rows of 1e8 activations at 4: 1760.8 GB, before NumPy
    # tries to allocate them (a traceback) or the kernel kills the process.
    (["--stand-in", "--hidden", "100000000", "--updates", "10", "--eval-step", "5"],
     "--hidden 100000000 needs at least 1760.8 GB of memory (120,100,000,000 weights, and the activations of "
     "2000 test excerpts), and "),
])
def test_bad_options_give_one_line(genre_mlp, capsys, args, message):
    with pytest.raises(SystemExit) as stop:
        run_lesson(args)
    text = str(stop.value.code) if isinstance(stop.value.code, str) else capsys.readouterr().err
    assert stop.value.code != 0 and message in text
    assert text.strip().count("\n") == 0, text  # one line: the usage is in --help


def test_the_memory_bound_by_hand():
    from lesson_helpers.data.data_file import DataError
    from lesson_helpers.command_line.options import check_network_fits
    # 1200*256 + 256*64 + 64*1 = 323,648 weights: 2,589,184 bytes; 2000 rows * 320 activations * 4 = 2,560,000.
    check_network_fits((256, 64), 1200, 2000, "cpu", available=5_149_184)
    with pytest.raises(DataError, match=r"needs at least 0\.0 GB of memory \(323,648 weights"):
        check_network_fits((256, 64), 1200, 2000, "cpu", available=5_149_183)
    check_network_fits((256, 64), 1200, 2000, "cuda", available=1)  # the GPU's memory is not this one


def test_running_out_of_memory_anyway_is_one_line(genre_mlp, monkeypatch):
    def too_big(*args, **kwargs):
        raise MemoryError("Unable to allocate 26.8 GiB for an array with shape (1200, 3000000)")
    monkeypatch.setattr(genre_mlp.theano, "function", too_big)  # the cells' own Theano
    with pytest.raises(SystemExit) as stop:
        run_lesson(["--stand-in", "--updates", "10", "--eval-step", "5"])
    assert stop.value.code == ("error: out of memory; give smaller --hidden widths (or --batch-size), or close "
                               "other programs")


def imported_modules(importtime_stderr):
    """The modules a run imported, from what `python -X importtime` writes on stderr."""
    return {line.split("|")[-1].strip() for line in importtime_stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("args, code", [(["--help"], 0), (["--seed", "-1"], 2), (["--no-such-option"], 2),
                                        (["--plot", "c.txt"], 2)])
def test_help_and_bad_options_answer_before_theano_loads(genre_mlp, capsys, args, code):
    early = subprocess.run([sys.executable, "-X", "importtime", os.path.join(ROOT, "genre_mlp.py")] + args,
                           capture_output=True, text=True, cwd=ROOT)
    assert early.returncode == code
    modules = imported_modules(early.stderr)
    assert "argparse" in modules and not any(name.split(".")[0] == "theano" for name in modules)
    # What main's own parse says, Theano loaded: the same words.
    with pytest.raises(SystemExit) as stop:
        parse_args(args)
    late = capsys.readouterr()
    assert stop.value.code == code
    assert early.stdout == late.out
    assert [line for line in early.stderr.splitlines() if not line.startswith("import time:")] == \
        late.err.splitlines()


def test_the_constants_read_from_the_source_are_the_lessons(genre_mlp):
    from lesson_helpers.command_line import options
    read = options.read_constants(genre_mlp.__file__)
    assert options.lesson_defaults(read) == options.lesson_defaults(vars(genre_mlp))
    assert read["IN_FILE"] == genre_mlp.IN_FILE and read["NUM_UPDATES"] == genre_mlp.NUM_UPDATES


def test_the_formats_help_names_are_those_soundfile_decodes(genre_mlp, capsys):
    import soundfile
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    named = re.search(r"classify audio files \(([A-Z0-9, ]+); other formats with ffmpeg\)", text)
    assert named, text
    assert set(named.group(1).split(", ")) <= set(soundfile.available_formats())
    assert "MP3" in named.group(1)


def test_the_seeds_at_both_ends_run(genre_mlp, model, small_file):
    # 0 and 2**32 - 1 are NumPy's own limits; the one SGD step seeds its batch with seed + 1.
    data = genre_mlp.DataServer(small_file, seed=2 ** 32 - 1)
    for seed in (0, 2 ** 32 - 1):
        assert parse_args(["--seed", str(seed), "--data", small_file]).seed == seed
        before, after = genre_mlp.one_step(model, data, 4, seed)
        assert np.isfinite(before) and np.isfinite(after)


def test_a_batch_larger_than_the_training_set_is_refused_before_compiling(genre_mlp, small_file, monkeypatch):
    def compile_nothing(*args, **kwargs):
        raise AssertionError("compiled before the batch size was checked")
    monkeypatch.setattr(genre_mlp.theano, "function", compile_nothing)
    with pytest.raises(SystemExit) as stop:
        run_lesson(["--data", small_file, "--batch-size", "401", "--updates", "10", "--eval-step", "5"])
    assert stop.value.code == ("error: --batch-size 401 is larger than the training set (400 excerpts); "
                               "give --batch-size 400 or less")


def test_bad_data_exits_with_one_line_and_no_traceback(tmp_path):
    bad = write_npz(tmp_path / "odd.npz", train=separable(21), test=separable(20))
    result = run_script("--data", bad)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and "odd number of rows (21)" in result.stderr
    assert result.stdout == ""


def test_cuda_without_gpu_notices_and_trains_on_cpu(small_file):
    result = run_script("--data", small_file, "--updates", "20", "--eval-step", "20",
                        env={"THEANO_FLAGS": "device=cuda"})
    assert result.returncode == 0, result.stderr
    notice = stderr_lines(result)
    assert len(notice) == 1 and notice[0].startswith("notice: THEANO_FLAGS asks for device=cuda")
    assert "pygpu is not installed" in notice[0] and "training on the CPU" in notice[0]
    assert "Traceback" not in result.stderr and "Theano 1.0.5 on cpu," in result.stdout
    assert "Accuracy after update 20/20" in result.stdout


def test_forced_cuda_without_gpu_is_an_error(small_file):
    result = run_script("--data", small_file, env={"THEANO_FLAGS": "device=cuda,force_device=True"})
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: THEANO_FLAGS asks for device=cuda with force_device=True")
    assert result.stderr.strip().count("\n") == 0


def test_bad_theano_flag_is_one_line(small_file):
    result = run_script("--data", small_file, env={"THEANO_FLAGS": "floatX=float17"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: Theano could not start") and "float17" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_options_reach_the_model(genre_mlp, small_file, tmp_path, capsys):
    # One update with every training option away from its default, against NumPy from the same
    # start and batch: if main dropped any option, the saved parameters would differ.
    saved = str(tmp_path / "model.npz")
    run_lesson(["--data", small_file, "--updates", "1", "--eval-step", "1", "--learning-rate", "0.5",
                    "--batch-size", "8", "--seed", "7", "--loss", "mse", "--save", saved])
    random = np.random.RandomState(7)  # the lesson's start: N(0, 0.1^2), W1 B1 W2 B2 W3 B3 in turn
    shapes = [(1200, 256), (256,), (256, 64), (64,), (64, 1), (1,)]
    reference = NumpyMLP([0.1 * random.standard_normal(shape) for shape in shapes],
                         learning_rate=0.5, loss="mse")
    inputs, targets = genre_mlp.DataServer(small_file, seed=7).get_train_sample(8)
    assert inputs.shape == (8, 1200)
    reference.train_batch(inputs, targets)
    with np.load(saved) as model:
        assert str(model["loss"]) == "mse"
        for name, expected in zip(["W1", "B1", "W2", "B2", "W3", "B3"], reference.params):
            np.testing.assert_allclose(model[name], expected, atol=1e-6, err_msg=name)
    assert "Accuracy after update 1/1" in capsys.readouterr().out


def without_times(stdout):
    """The printed lines less what depends on the machine's speed."""
    lines = [line.split("  (")[0] for line in stdout.splitlines()
             if "compiling took" not in line and "compiled in" not in line]
    assert len(lines) > 10
    return lines


def test_one_seed_prints_the_same_lines_twice(small_file):
    runs = [run_script("--data", small_file, "--updates", "60", "--eval-step", "20", "--seed", str(seed))
            for seed in (5, 5, 6)]
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    assert without_times(runs[0].stdout) == without_times(runs[1].stdout)
    assert without_times(runs[0].stdout) != without_times(runs[2].stdout)  # the seed does matter


@pytest.mark.parametrize("flags, why", [("cxx=", "THEANO_FLAGS or ~/.theanorc sets cxx empty"),
                                        ("", "g++ is not on PATH")])
def test_no_compiler_is_one_notice_and_a_true_first_line(tmp_path, flags, why):
    tiny = write_npz(tmp_path / "tiny.npz", train=separable(20), test=separable(20))
    env = {"THEANO_FLAGS": ",".join(filter(None, [os.environ.get("THEANO_FLAGS", ""), flags]))}
    if not flags:
        env["PATH"] = str(tmp_path)  # a PATH with no g++ on it
    result = run_script("--data", tiny, "--updates", "2", "--eval-step", "2", env=env)
    assert result.returncode == 0, result.stderr
    notice = result.stderr.strip().splitlines()
    assert len(notice) == 1 and notice[0].startswith("notice: no C++ compiler (%s)" % why)
    assert "about 0.2-0.3 s per update instead of 0.3-0.6 ms" in notice[0] and "install g++" in notice[0]
    assert result.stdout.splitlines()[0].endswith(
        "BLAS: none (no C++ compiler: Theano runs its Python code)")


def test_a_blas_of_the_users_that_does_not_link_is_one_line(small_file):
    flags = ",".join(filter(None, [os.environ.get("THEANO_FLAGS", ""), "blas.ldflags=-lnosuchblas"]))
    result = run_script("--data", small_file, env={"THEANO_FLAGS": flags})
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: blas.ldflags='-lnosuchblas' (THEANO_FLAGS or ~/.theanorc) "
                                    "does not link a BLAS: ")
    assert "cannot find -lnosuchblas" in result.stderr and result.stderr.count("\n") == 1


def test_float16_on_the_cpu_gives_one_notice(tmp_path):
    tiny = write_npz(tmp_path / "tiny.npz", train=separable(20), test=separable(20))
    flags = ",".join(filter(None, [os.environ.get("THEANO_FLAGS", ""), "floatX=float16"]))
    result = run_script("--data", tiny, "--updates", "2", "--eval-step", "2", env={"THEANO_FLAGS": flags})
    assert result.returncode == 0, result.stderr
    notice = stderr_lines(result)
    assert len(notice) == 1 and notice[0].startswith("notice: floatX=float16 is emulated on the CPU")
    # Theano's own line per op ("Disabling C code for Dot22 due to unsupported float16") is gone.
    assert "Disabling C code" not in result.stdout and "unsupported float16" not in result.stdout
    assert "Accuracy after update 2/2" in result.stdout and "  W1  float16  (1200, 256)" in result.stdout


@pytest.fixture
def unwritable_folder(tmp_path, monkeypatch):
    """A folder this process cannot write to, made here (not a system path: /sys, say, is an
    ordinary writable folder inside a container or chroot). Root writes through permission
    bits, so as root the folder is tried with the effective user id of nobody."""
    if os.geteuid() != 0:
        folder = tmp_path / "read_only"
        folder.mkdir(0o500)
        yield str(folder)
        folder.chmod(0o700)
        return
    top = tempfile.mkdtemp(prefix="genre-mlp-unwritable-")  # in /tmp, which nobody can traverse
    try:
        os.chmod(top, 0o755)
        folder = os.path.join(top, "read_only")
        os.mkdir(folder, 0o555)
        # Read as root what the run reads before its check (the script, its constants, the hook that
        # ends it): nobody may not read this checkout, in a private temporary folder say.
        lesson_code()
        importlib.import_module("lesson_helpers.command_line.errors")
        from lesson_helpers.command_line import options
        constants = options.read_constants(SCRIPT)
        monkeypatch.setattr(options, "read_constants", lambda script: dict(constants))
        try:
            os.seteuid(NOBODY)
        except OSError as error:  # a user namespace that maps no such user
            pytest.skip("cannot act as uid %d here (%s)" % (NOBODY, error.strerror))
        try:
            yield folder
        finally:
            os.seteuid(0)
    finally:
        shutil.rmtree(top)


NOBODY = 65534


@pytest.mark.parametrize("option", ["--save", "--curve", "--plot"])
def test_an_unwritable_folder_is_refused_before_training(genre_mlp, capsys, unwritable_folder, option):
    folder = unwritable_folder
    with pytest.raises(SystemExit) as stop:
        run_lesson(["--updates", "10", "--eval-step", "5", option, os.path.join(folder, "out")])
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert stop.value.code == 2 and "Accuracy" not in capsys.readouterr().out
    assert message == ("error: %s: cannot write %s/out (Permission denied); choose a folder you can write to; "
                       "see genre_mlp.py --help" % (option, folder)), message


def test_the_report_gives_the_time_per_update_in_microseconds(genre_mlp, model, monkeypatch):
    # Worked out by hand: 1.5 s for 5000 updates is 300 us each; 2 s for 3 is 666,667.
    lines = []
    monkeypatch.setattr(model, "compile_seconds", 0.3)
    genre_mlp.report(model, 1.5, 5000, stand_in=False, log=lines.append, baseline="the loudness line")
    assert lines[-2:] == ["323,969 parameters; compiling took 0.3 s, training 1.5 s (5000 updates, 300 us each)",
                          "the loudness line"]
    lines = []
    genre_mlp.report(model, 2.0, 3, stand_in=True, log=lines.append)
    assert lines[-2].endswith("training 2.0 s (3 updates, 666667 us each)")
    assert lines[-1].startswith("Trained on the generated stand-in")
    lines = []
    genre_mlp.report(model, 0.0, 0, stand_in=False, log=lines.append)  # --updates 0: no training to time
    assert lines[-1] == "323,969 parameters; compiling took 0.3 s"


def test_the_readme_shows_what_the_script_prints():
    """README "What it prints" is a run's own output: every line but the first (the why of the
    stand-in, which there was Drive out of reach) as the default run prints it, times aside."""
    with open(os.path.join(ROOT, "README.md")) as readme:
        text = readme.read()
    block = text[text.index("## What it prints"):].split("```\n")[1].splitlines()
    result = run_script("--stand-in")
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    # The times, and the BLAS this machine links (another machine may have the OpenBLAS wheel), aside.
    times = lambda line: re.sub(r"\d+\.\d s|\d+ us|BLAS: .*", "T", line)
    elided = block.index("...")
    shown = printed[:elided] + printed[len(printed) - (len(block) - elided - 1):]
    assert [times(line) for line in shown[1:]] == [times(line) for line in block[1:elided] + block[elided + 1:]]
    assert block[0].startswith("Training on the generated stand-in (seed 1234), not the lesson's recordings: ")
