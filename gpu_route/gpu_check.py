"""Proves the CUDA route on a machine with an NVIDIA GPU: same lesson, same seed, cuda and cpu.

    make gpu-check                       # = .venv-gpu-3.X/bin/python gpu_route/gpu_check.py
    .venv-gpu-3.12/bin/python gpu_route/gpu_check.py --updates 500

Prints the device, driver, NVRTC and cuBLAS versions that device=cuda uses, runs
genre_mlp.py for --updates updates on cuda (force_device=True, so that no silent
CPU fallback can pass, and dnn.enabled=False: the network needs no cuDNN) and on cpu, each in its own process,
on the stand-in (--stand-in: the same data on both, and no download), and shows both
accuracy lines side by side with each one's time per update. Exits 1 if the GPU
cannot be used or the accuracies differ by more than 0.1 percentage point.
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
ACCURACY = re.compile(r"^Accuracy after update (\d+)/\d+: ([\d.]+)%", re.M)
PER_UPDATE = re.compile(r"\(\d+ updates, (\d+) us each\)")


def run_lesson(device, updates, seed, extra_flags):
    flags = ",".join(filter(None, [os.environ.get("THEANO_FLAGS"), "device=" + device, extra_flags]))
    # The stand-in: the same data on both devices, and no download (a GPU machine may have no network).
    result = subprocess.run([sys.executable, os.path.join(ROOT, "genre_mlp.py"), "--stand-in", "--updates", str(updates),
                             "--eval-step", str(updates), "--seed", str(seed)],
                            capture_output=True, text=True, env=dict(os.environ, THEANO_FLAGS=flags))
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["exit status %d, nothing on stderr" % result.returncode])[-1]
        sys.exit("error: the %s run failed: %s" % (device, last))
    return read_run(device, result.stdout)


def read_run(device, stdout):
    """The device line, the last accuracy and the time per update of one run's output."""
    accuracy = ACCURACY.findall(stdout)
    per_update = PER_UPDATE.search(stdout)
    device_line = next((line for line in stdout.splitlines() if line.startswith("Theano ")), None)
    # A lesson whose lines changed must not pass, nor end in a traceback.
    for missing, what in ((device_line, "no 'Theano ... on' line"), (accuracy, "no accuracy line"),
                          (per_update, "no time per update")):
        if not missing:
            sys.exit("error: the %s run printed %s; does gpu_check.py match this genre_mlp.py?" % (device, what))
    return device_line, float(accuracy[-1][1]), int(per_update.group(1))


def main(argv=None):
    parser = cli.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--device", default="cuda", help="cuda, cuda0, cuda1, ...")
    args = parser.parse_args(argv)
    try:
        line = cuda_libs.prepare(args.device)
    except cuda_libs.CudaLibsError as error:
        sys.exit("error: %s" % error)
    if line is None:
        sys.exit("error: no NVIDIA driver here (libcuda.so.1 cannot be loaded); this check needs a GPU")
    print("%s: %s" % (args.device, line))
    results = {}
    for device, extra in ((args.device, "force_device=True,dnn.enabled=False"), ("cpu", "")):
        results[device] = run_lesson(device, args.updates, args.seed, extra)
        print("  %-6s %s" % (device, results[device][0]))
    print("%-8s %-28s %s" % ("", "accuracy after %d updates" % args.updates, "time per update"))
    for device, (_, accuracy, per_update) in results.items():
        print("%-8s %-28s %d us" % (device, "%.2f%%" % accuracy, per_update))
    difference = abs(results[args.device][1] - results["cpu"][1])
    verdict = "same within %.1f pp" % TOLERANCE_PP if difference <= TOLERANCE_PP else "DIFFERENT"
    print("difference %.2f pp: %s" % (difference, verdict))
    sys.exit(0 if difference <= TOLERANCE_PP else 1)


if __name__ == "__main__":
    main()
