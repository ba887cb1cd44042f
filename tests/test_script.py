"""genre_mlp.py run as a learner runs it: output, options, stand-in, errors and THEANO_FLAGS."""
import os
import shutil

import pytest

from conftest import ROOT, run_script, separable, stderr_lines, write_npz


def test_trains_end_to_end_on_a_file(small_file):
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


@pytest.fixture
def script_copy(tmp_path):
    """The script alone in a folder of its own, so that which data file sits beside it is ours to choose."""
    shutil.copy(os.path.join(ROOT, "genre_mlp.py"), tmp_path)
    shutil.copytree(os.path.join(ROOT, "tools"), tmp_path / "tools",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_stand_in_when_the_lessons_file_is_absent(script_copy):
    result = run_script("--updates", "200", "--eval-step", "200", script=str(script_copy / "genre_mlp.py"))
    assert result.returncode == 0, result.stderr
    assert "sample_3s_400Hz.npz was not found" in result.stdout
    assert "Training on a generated stand-in" in result.stdout
    assert "Trained on the generated stand-in" in result.stdout.splitlines()[-1]
    assert not (script_copy / "sample_3s_400Hz.npz").exists()  # never written


def test_later_file_name_is_used(script_copy):
    write_npz(script_copy / "classical_vs_rock.npz", train=separable(40), test=separable(20))
    result = run_script("--updates", "10", "--eval-step", "10", script=str(script_copy / "genre_mlp.py"))
    assert result.returncode == 0, result.stderr
    assert "classical_vs_rock.npz (the lesson's data file under its later name)" in result.stdout
    assert "stand-in" not in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--data", "absent.npz"], "absent.npz not found; give the lesson's data file"),
    (["--batch-size", "0"], "--batch-size: must be greater than 0"),
    (["--learning-rate", "-0.1"], "--learning-rate: must be greater than 0"),
    (["--updates", "0"], "--updates must be greater than 0 (0 only evaluates a model given with --load)"),
    (["--updates", "-5"], "--updates must be greater than 0"),
    (["--predict", "model.npz"], "--predict needs a model file and at least one audio file"),
    (["--save", "no/such/folder/m.npz"], "--save no/such/folder/m.npz: its folder does not exist"),
    (["--updates", "100", "--eval-step", "500"], "--eval-step 500 is larger than --updates 100"),
    (["--loss", "hinge"], "invalid choice: 'hinge'"),
])
def test_bad_options_give_one_line(genre_mlp, capsys, args, message):
    with pytest.raises(SystemExit) as stop:
        genre_mlp.main(args)
    text = str(stop.value.code) if isinstance(stop.value.code, str) else capsys.readouterr().err
    assert stop.value.code != 0 and message in text


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
