"""Shared fixtures: Theano compiles the lesson's network once per test session."""
import fnmatch
import http.server
import importlib.util
import os
import shutil
import subprocess
import sys
import threading

import pytest

# An interpreter without the lesson's packages (a system pytest, say) gets one line
# naming the fix, from pytest_configure, instead of an error in every test module.
MISSING = [name for name in ("numpy", "scipy", "theano", "soundfile") if importlib.util.find_spec(name) is None]
if not MISSING:
    import numpy as np


def pytest_configure(config):
    if MISSING:
        raise pytest.UsageError(
            "%s cannot run the tests: %s not installed for it; run `make test`, which sets up a venv "
            "with everything they need" % (sys.executable, " and ".join(MISSING) + (" is" if len(MISSING) == 1
                                                                                     else " are")))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# No test reaches the internet, least of all Google Drive, which the lesson fetches its data file
# from when the file is absent. Every process the suite starts inherits these proxy variables, so
# a request bound for any host but this machine goes to the tripwire below instead: a proxy that
# refuses it and records it, and the test that made it fails (`no_internet`). Local servers on
# 127.0.0.1 are reached directly (NO_PROXY). The user's own settings are kept for the few tests
# that need PyPI (`OUTSIDE_PROXIES`, `with_internet`).
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                   "NO_PROXY", "no_proxy")
OUTSIDE_PROXIES = {name: os.environ.get(name) for name in PROXY_VARIABLES}


class Tripwire(http.server.BaseHTTPRequestHandler):
    def refuse(self):
        self.server.attempts.append(self.path)  # "drive.google.com:443" for HTTPS, the URL for HTTP
        self.send_error(403, "the test suite never reaches the internet")

    do_CONNECT = do_GET = do_HEAD = do_POST = refuse

    def log_message(self, *args):
        pass


def start_tripwire():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tripwire)
    server.daemon_threads, server.attempts = True, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = "http://127.0.0.1:%d" % server.server_address[1]
    for name in PROXY_VARIABLES:
        os.environ[name] = "127.0.0.1,localhost,::1" if name.lower() == "no_proxy" else address
    return server


TRIPWIRE = start_tripwire()


@pytest.fixture(autouse=True)
def no_internet():
    """Fails the test that tried to reach a host beyond this machine, naming it."""
    before = len(TRIPWIRE.attempts)
    yield
    tried = TRIPWIRE.attempts[before:]
    assert not tried, ("this test tried to reach the internet (%s): give --stand-in or --data, or use a "
                       "local server" % ", ".join(sorted(set(tried))))


@pytest.fixture
def with_internet(monkeypatch):
    """The user's own proxy settings back, for a test that installs from PyPI (and so must
    never run the lesson without --stand-in or --data)."""
    for name, value in OUTSIDE_PROXIES.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)

# The GPU venv of the Python running the tests (make gpu-venv PYTHON=...), once
# gpu_route/make_gpu_venv.sh has marked it ready; GENRE_MLP_GPU_PYTHON names another.
GPU_VENV = os.path.join(ROOT, ".venv-gpu-%d.%d" % sys.version_info[:2])
GPU_PYTHON = os.environ.get("GENRE_MLP_GPU_PYTHON", os.path.join(GPU_VENV, "bin", "python"))
GPU_READY = os.path.exists(GPU_PYTHON if "GENRE_MLP_GPU_PYTHON" in os.environ else os.path.join(GPU_VENV, ".ready"))
# pocl, the OpenCL driver the GPU tests use in place of a GPU, reads the CPU's topology and
# memory from sysfs and aborts without it: a container or chroot may have no sysfs at /sys.
NO_SYSFS = None if os.path.exists("/sys/devices/system/cpu/online") else (
    "pocl (the tests' OpenCL driver) needs sysfs at /sys, which this container or chroot lacks")
USERS_THEANO_FLAGS = os.environ.get("THEANO_FLAGS", "")  # read before any test imports genre_mlp


@pytest.fixture(scope="session")
def genre_mlp():
    import genre_mlp
    return genre_mlp


@pytest.fixture(scope="session")
def compiled(genre_mlp):
    model = genre_mlp.Model()
    arrays = [param.get_value(borrow=True) for param in model.params]  # the Model's own, aligned
    return model, arrays, [array.copy() for array in arrays]


@pytest.fixture
def model(compiled):
    """The compiled lesson network, reset to its initial weights."""
    model, arrays, initial = compiled
    for param, array, value in zip(model.params, arrays, initial):
        array[...] = value  # back into the Model's own arrays, which a test may have replaced
        param.set_value(array, borrow=True)
    return model


def separable(num_rows, seed=0, width=1200):
    """Rows a network learns at once: classical sits below zero, rock above, both noisy."""
    rng = np.random.RandomState(seed)
    rows = 0.05 * rng.standard_normal((num_rows, width))
    rows[: num_rows // 2] -= 0.2
    rows[num_rows // 2:] += 0.2
    return rows.astype(np.float32)


def write_npz(path, **arrays):
    np.savez(str(path), **arrays)
    return str(path)


@pytest.fixture
def small_file(tmp_path):
    return write_npz(tmp_path / "small.npz", train=separable(400, 1), test=separable(100, 2))


# The project's packages genre_mlp.py imports as it runs (the rest are tools around it).
LESSON_PACKAGES = ("lesson_helpers", "theano_today", "gpu_route")


def copy_lesson(folder):
    """genre_mlp.py and the packages it imports, alone in `folder` (no data file beside them)."""
    shutil.copy(os.path.join(ROOT, "genre_mlp.py"), folder)
    for package in LESSON_PACKAGES:
        shutil.copytree(os.path.join(ROOT, package), os.path.join(str(folder), package),
                        ignore=shutil.ignore_patterns("__pycache__"))
    return folder


SCRIPT = os.path.join(ROOT, "genre_mlp.py")


LESSON_CODE = {}


def lesson_code(script=SCRIPT):
    """The script compiled once: a test that runs it as another user (nobody, who may not read a
    checkout in a private temporary folder) reads it first, as itself."""
    if script not in LESSON_CODE:
        with open(script) as source:
            LESSON_CODE[script] = compile(source.read(), script, "exec")
    return LESSON_CODE[script]


def run_lesson(argv, script=SCRIPT):
    """genre_mlp.py's cells run in this process as `python genre_mlp.py ARGV` runs them (Theano
    loaded once for all tests), ending as the script ends: an error or a Ctrl-C becomes the
    SystemExit the script's hook makes of it. Returns the cells' variables."""
    from lesson_helpers.command_line import errors
    saved = sys.argv, sys.excepthook
    sys.argv = [script] + list(argv)
    # As runpy.run_path(script, run_name="__main__") runs it, from the code read once.
    import types
    main = types.ModuleType("__main__")
    main.__file__ = script
    saved_main = sys.modules["__main__"]
    sys.modules["__main__"] = main
    try:
        exec(lesson_code(script), vars(main))
        return vars(main)
    except BaseException as error:
        ending = errors.as_exit(error)
        if ending is None:
            raise
        raise ending from None
    finally:
        sys.argv, sys.excepthook = saved
        sys.modules["__main__"] = saved_main


def parse_args(argv):
    """The lesson's options parsed as the script parses them, its constants the defaults."""
    import genre_mlp
    from lesson_helpers.command_line import options
    return options.parse_args(argv, options.lesson_defaults(vars(genre_mlp)))


def report_lines(stdout):
    """The script's lines up to the end of its report: the confusion matrix's three lines and the
    verdict come after it."""
    lines = stdout.splitlines()
    assert len(lines) > 4 and lines[-4].split() == ["said", "classical", "said", "rock"], lines[-4:]
    assert lines[-1].startswith("Verdict"), lines[-1]
    return lines[:-4]


def run_script(*args, env=None, cwd=ROOT, script=None):
    """genre_mlp.py as a user runs it; returns the finished process."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, script or os.path.join(ROOT, "genre_mlp.py")] + list(args),
                          capture_output=True, text=True, env=full_env, cwd=cwd, timeout=600)


def gitignore_patterns():
    """The root .gitignore's patterns, as (pattern, folders only); a line this reader does not
    understand fails here, so that the walk below never silently disagrees with git."""
    patterns = []
    with open(os.path.join(ROOT, ".gitignore")) as lines:
        for line in lines:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("!") or "**" in line or "/" in line.rstrip("/") or line != line.strip():
                raise ValueError("tests/conftest.py cannot read the .gitignore line %r: teach gitignored() it" % line)
            patterns.append((line.rstrip("/"), line.endswith("/")))
    return patterns


def gitignored(path, is_folder=False, patterns=None):
    """Whether git would ignore `path` (relative to ROOT) by the root .gitignore: a pattern
    without a slash matches a name at any depth, and one ending in / only a folder."""
    parts = path.split("/")
    for pattern, folders_only in patterns or gitignore_patterns():
        for depth, name in enumerate(parts):
            is_dir = is_folder or depth < len(parts) - 1  # every part above the last is a folder
            if (is_dir or not folders_only) and fnmatch.fnmatchcase(name, pattern):
                return True
    return False


def project_files():
    """The project's files, relative to ROOT: git's list where git and a checkout are at hand;
    else (GitHub's "Download ZIP", no git installed) the tree less .git and what .gitignore ignores."""
    try:
        tracked = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True)
        if tracked.returncode == 0 and tracked.stdout:
            return sorted(tracked.stdout.splitlines())
    except OSError:  # no git
        pass
    return walked_files()


def walked_files():
    """Every file under ROOT that git would list, found without git."""
    patterns, found = gitignore_patterns(), []
    for folder, folders, files in os.walk(ROOT):
        relative = os.path.relpath(folder, ROOT)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        links = [name for name in folders if os.path.islink(os.path.join(folder, name))]  # git lists a link
        folders[:] = sorted(name for name in folders if name not in links and name != ".git"
                            and not gitignored(prefix + name, True, patterns))
        found += [prefix + name for name in files + links
                  if not (prefix == "" and name == ".git") and not gitignored(prefix + name, False, patterns)]
    return sorted(found)


# What a run prints on stderr when it has to compile (an empty Theano cache, as on a
# new machine); the tests that read stderr leave it out, whatever ran before them.
COMPILE_NOTICE = "notice: Compiling the network to C"


def stderr_lines(result):
    return [line for line in result.stderr.splitlines() if line.strip() and not line.startswith(COMPILE_NOTICE)]
