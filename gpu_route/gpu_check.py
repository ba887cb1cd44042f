"""Proves the CUDA route on a machine with an NVIDIA GPU: same lesson, same seed, cuda and cpu.

    make gpu-check                       # = .venv-gpu-3.X/bin/python gpu_route/gpu_check.py
    .venv-gpu-3.12/bin/python gpu_route/gpu_check.py --lesson cnn --updates 200

Prints the device, driver, NVRTC and cuBLAS versions that device=cuda uses, then, for
each lesson in turn (--lesson mlp, cnn, or both, the default: genre_mlp.py for 500
updates, then genre_cnn.py for 200), runs it for --updates updates on cuda
(force_device=True, so that no silent CPU fallback can pass, and dnn.enabled=False:
the MLP needs no cuDNN, and the CNN's convolutions are then Theano's own GpuCorrMM;
--cudnn leaves that to Theano) and on cpu, each in its own process, on the stand-in
(--stand-in: the same data on both, and no download), and shows both accuracies
after the last update side by side with each one's time per update. Exits 1 if the
GPU cannot be used or a lesson's accuracies differ by more than 0.1 percentage point.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from lesson_helpers.command_line import cli  # noqa: E402 (after the path)
from gpu_route import cuda_libs  # noqa: E402 (after the path)

TOLERANCE_PP = 0.1
ACCURACY = re.compile(r"^Accuracy after update (\d+)/(\d+): ([\d.]+)%", re.M)
PER_UPDATE = re.compile(r"\(\d+ updates, (\d+) us each\)")
LESSONS = {"mlp": ("genre_mlp.py", 500), "cnn": ("genre_cnn.py", 200)}  # the script, its default --updates


def run_lesson(device, updates, seed, extra_flags, lesson="mlp"):
    flags = ",".join(filter(None, [os.environ.get("THEANO_FLAGS"), "device=" + device, extra_flags]))
    # The stand-in: the same data on both devices, and no download (a GPU machine may have no network).
    script = LESSONS[lesson][0]
    result = subprocess.run([sys.executable, os.path.join(ROOT, script), "--stand-in", "--updates", str(updates),
                             "--eval-step", str(updates), "--seed", str(seed)],
                            capture_output=True, text=True, env=dict(os.environ, THEANO_FLAGS=flags))
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["exit status %d, nothing on stderr" % result.returncode])[-1]
        sys.exit("error: the %s run of %s failed: %s" % (device, script, last))
    return read_run(device, result.stdout, updates)


def read_run(device, stdout, updates=None):
    """The device line, the accuracy after the last update and the time per update of one run's output.
    With `updates`, the accuracy is the line of update updates/updates (genre_cnn.py prints the MLP's
    own line after it); without, the last line's."""
    accuracy = [(done, total, value) for done, total, value in ACCURACY.findall(stdout)
                if updates is None or int(done) == int(total) == updates]
    per_update = PER_UPDATE.search(stdout)
    device_line = next((line for line in stdout.splitlines() if line.startswith("Theano ")), None)
    # A lesson whose lines changed must not pass, nor end in a traceback.
    for missing, what in ((device_line, "no 'Theano ... on' line"), (accuracy, "no accuracy line"),
                          (per_update, "no time per update")):
        if not missing:
            sys.exit("error: the %s run printed %s; does gpu_check.py match this lesson?" % (device, what))
    return device_line, float(accuracy[-1][2]), int(per_update.group(1))


def compare(lesson, device, updates, seed, cudnn):
    """One lesson on `device` and on cpu; prints both side by side, returns whether they agree."""
    script, default_updates = LESSONS[lesson]
    updates = updates or default_updates
    print("%s, %d updates:" % (script, updates))
    results = {}
    gpu_flags = "force_device=True" + ("" if cudnn else ",dnn.enabled=False")
    for where, extra in ((device, gpu_flags), ("cpu", "")):
        results[where] = run_lesson(where, updates, seed, extra, lesson)
        print("  %-6s %s" % (where, results[where][0]))
    print("%-8s %-28s %s" % ("", "accuracy after %d updates" % updates, "time per update"))
    for where, (_, accuracy, per_update) in results.items():
        print("%-8s %-28s %d us" % (where, "%.2f%%" % accuracy, per_update))
    difference = abs(results[device][1] - results["cpu"][1])
    same = difference <= TOLERANCE_PP
    print("difference %.2f pp: %s" % (difference, "same within %.1f pp" % TOLERANCE_PP if same else "DIFFERENT"))
    return same


def main(argv=None):
    parser = cli.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", choices=sorted(LESSONS) + ["both"], default="both",
                        help="mlp (genre_mlp.py), cnn (genre_cnn.py), or both in turn (default)")
    parser.add_argument("--updates", type=int, default=None,
                        help="updates per run (default: %s)" % ", ".join(
                            "%d for %s" % (n, lesson) for lesson, (_, n) in sorted(LESSONS.items(), reverse=True)))
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--device", default="cuda", help="cuda, cuda0, cuda1, ...")
    parser.add_argument("--cudnn", action="store_true",
                        help="leave dnn.enabled to Theano: cuDNN's convolutions where it finds a cuDNN it can use")
    args = parser.parse_args(argv)
    try:
        line = cuda_libs.prepare(args.device)
    except cuda_libs.CudaLibsError as error:
        sys.exit("error: %s" % error)
    if line is None:
        sys.exit("error: no NVIDIA driver here (libcuda.so.1 cannot be loaded); this check needs a GPU")
    print("%s: %s" % (args.device, line))
    lessons = ["mlp", "cnn"] if args.lesson == "both" else [args.lesson]
    verdicts = [(lesson, compare(lesson, args.device, args.updates, args.seed, args.cudnn)) for lesson in lessons]
    if len(verdicts) > 1:
        print("; ".join("%s %s" % (LESSONS[lesson][0], "same" if same else "DIFFERENT") for lesson, same in verdicts))
    sys.exit(0 if all(same for _, same in verdicts) else 1)


if __name__ == "__main__":
    main()
