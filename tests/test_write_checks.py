"""--save, --curve and --plot: the check made before training (lesson_helpers/files.py check_writable), for every
kind of path a user types, and the advice that fits each cause of a failed write."""
import ctypes
import os
import shutil
import stat
import subprocess
import sys

import pytest

from conftest import ROOT, parse_args, run_lesson
from lesson_helpers import files

TRAIN = ["--updates", "10", "--eval-step", "5"]


def refused(genre_mlp, capsys, args):
    """The one line genre_mlp.main prints for args it refuses, checked to come before any training."""
    with pytest.raises(SystemExit) as stop:
        run_lesson(args)
    out, err = capsys.readouterr()
    assert stop.value.code == 2 and "Accuracy" not in out and err.count("\n") == 1, (out, err)
    return err.strip()


def test_a_bare_file_name_is_written_in_the_current_folder(genre_mlp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files.check_writable("model.npz")
    args = parse_args(["--save", "model.npz", "--curve", "curve.csv"] + TRAIN)
    assert (args.save, args.curve) == ("model.npz", "curve.csv")
    assert os.listdir(tmp_path) == []  # the check leaves nothing behind
    files.write_atomically("model.npz", lambda stream: stream.write(b"saved"))
    assert (tmp_path / "model.npz").read_bytes() == b"saved"


def test_relative_paths_are_taken_from_the_current_folder(genre_mlp, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    files.check_writable("runs/model.npz")
    files.check_writable("./runs/../runs/curve.csv")
    assert os.listdir(tmp_path / "runs") == []
    message = refused(genre_mlp, capsys, ["--save", "missing/model.npz"] + TRAIN)
    assert message == ("error: --save: missing/model.npz: its folder does not exist; create it first; "
                       "see genre_mlp.py --help")


@pytest.mark.parametrize("option, example", [("--save", "model.npz"), ("--curve", "curve.csv"),
                                             ("--plot", "curve.png"), ("--plot-samples", "samples.png")])
def test_an_existing_folder_is_refused_before_training(genre_mlp, small_file, tmp_path, capsys, option, example):
    # It used to pass the check (its parent can be written), train, then fail with "Is a directory;
    # free some space".
    folder = tmp_path / "results"
    folder.mkdir()
    message = refused(genre_mlp, capsys, ["--data", small_file, option, str(folder)] + TRAIN)
    assert message == ("error: %s: %s is a folder, not a file; give a file name, e.g. %s/%s; "
                       "see genre_mlp.py --help" % (option, folder, folder, example))
    assert os.listdir(folder) == []


@pytest.mark.parametrize("path", [".", "results/", "new_folder/"])
def test_a_path_naming_a_folder_is_refused(tmp_path, monkeypatch, path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    with pytest.raises(files.WriteError) as error:
        files.check_writable(path, "model.npz")
    assert str(error.value) == "%s is a folder, not a file; give a file name, e.g. %s" % (
        path, os.path.join(path, "model.npz"))
    with pytest.raises(files.WriteError) as error:
        files.check_writable(path)  # a caller with no name to suggest (benchmark/bench.py --json)
    assert str(error.value) == "%s is a folder, not a file; give a file name" % path


def test_a_file_replaced_by_a_folder_during_training_gets_the_folders_advice(tmp_path):
    # The check passed, then something made a folder of that name: the write itself says why.
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(files.WriteError) as error:
        files.write_atomically(str(tmp_path / "model.npz"), lambda stream: stream.write(b"saved"))
    assert str(error.value) == ("cannot write %s (Is a directory); that is a folder; give a file name"
                                % (tmp_path / "model.npz"))
    assert os.listdir(tmp_path) == ["model.npz"]  # and the temporary file is gone


def _drop_the_override_of_permissions():
    # Runs in the child before exec: without CAP_DAC_OVERRIDE in its bounding set, root is held to a
    # folder's mode bits as any user is (prctl PR_CAPBSET_DROP = 24, CAP_DAC_OVERRIDE = 1).
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(24, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_as_a_user(args):
    """A child process that cannot write where the mode bits say no, even when the tests run as root."""
    preexec = _drop_the_override_of_permissions if os.geteuid() == 0 else None
    try:
        return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300, preexec_fn=preexec)
    except subprocess.SubprocessError as error:  # prctl refused: no CAP_SETPCAP in this container
        pytest.skip("cannot drop root's permission override here (%s)" % error)


def test_a_folder_without_write_permission_is_refused_before_training(small_file, tmp_path):
    folder = tmp_path / "read_only"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        result = run_as_a_user([sys.executable, os.path.join(ROOT, "genre_mlp.py"), "--data", small_file,
                                "--save", str(folder / "model.npz")] + TRAIN)
    finally:
        os.chmod(folder, 0o700)
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "error: --save: cannot write %s/model.npz (Permission denied); choose a folder you can write to; "
        "see genre_mlp.py --help" % folder)
    assert os.listdir(folder) == []


READ_ONLY_CHECK = "import sys; from lesson_helpers.files import check_writable, WriteError\n" \
                  "try:\n    check_writable(sys.argv[1])\nexcept WriteError as error:\n    print(error)"


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux) for a read-only mount")
def test_a_read_only_disk_gets_its_own_advice(tmp_path):
    # A read-only bind mount in a mount namespace of the child's own: the disk itself says no, to root too.
    folder = tmp_path / "mounted"
    folder.mkdir()
    script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" || exit 99; exec "$2" -c "$3" "$1/curve.csv"'
    result = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(folder), sys.executable,
                             READ_ONLY_CHECK], capture_output=True, text=True, cwd=ROOT, timeout=120)
    # unshare itself refuses where mount namespaces cannot be made (a container, or a chroot
    # whose / is no mount point): there is no read-only disk to be had, so nothing to test.
    if result.returncode == 99 or result.stderr.startswith("unshare:"):
        pytest.skip("no read-only bind mount here: %s" % result.stderr.strip())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("cannot write %s/curve.csv (Read-only file system); that disk is "
                                     "mounted read-only; choose a folder on another one" % folder)


# Writing never destroys what a path points to (lesson_helpers/files.py write_atomically).
def test_a_symlink_is_written_through_and_kept(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.npz"
    target.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    files.check_writable(str(link))
    files.write_atomically(str(link), lambda stream: stream.write(b"new"))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path / "real") == ["model.npz"] and sorted(os.listdir(tmp_path)) == ["link.npz", "real"]


def test_a_dangling_symlink_gets_its_target_created(tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "made.csv")
    files.write_atomically(str(link), lambda stream: stream.write(b"x"))
    assert link.is_symlink() and (tmp_path / "made.csv").read_bytes() == b"x"


def test_a_fifo_is_written_to_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    files.check_writable(str(fifo))
    files.write_atomically(str(fifo), lambda stream: stream.write(b"update,loss\n"))
    assert reader.communicate(timeout=30)[0] == b"update,loss\n"
    assert os.path.exists(fifo) and not os.path.isfile(fifo)


@pytest.fixture
def full_device(tmp_path):
    """A /dev/full of the test's own (never the system's: a slip here must not replace the real one)."""
    path = tmp_path / "full"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        open(path, "wb").close()
    except OSError as error:
        pytest.skip("cannot make a /dev/full here (%s)" % error.strerror)
    return str(path)


def test_a_full_device_says_no_space_and_stays_a_device(full_device):
    files.check_writable(full_device)
    with pytest.raises(files.WriteError) as error:
        files.write_atomically(full_device, lambda stream: stream.write(b"x" * 100000))
    assert str(error.value).startswith("cannot write %s (No space left on device); free some space" % full_device)
    assert stat.S_ISCHR(os.stat(full_device).st_mode)


def test_save_to_a_full_device_and_curve_to_stdout(small_file, tmp_path, full_device):
    script = os.path.join(ROOT, "genre_mlp.py")
    run = subprocess.run([sys.executable, script, "--data", small_file, "--save", full_device] + TRAIN,
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1 and "Saved" not in run.stdout, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr and run.stderr.strip().splitlines()[-1] == (
        "error: cannot write %s (No space left on device); free some space or choose a folder you can write to"
        % full_device)
    assert stat.S_ISCHR(os.stat(full_device).st_mode)
    if not os.path.exists("/dev/stdout"):  # a root without the /dev links: nothing to write through
        pytest.skip("no /dev/stdout here")
    run = subprocess.run([sys.executable, script, "--data", small_file, "--curve", "/dev/stdout"] + TRAIN,
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and "update,train_loss,test_loss,test_accuracy\n5," in run.stdout, run.stderr
