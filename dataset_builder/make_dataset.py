"""Check, or build, a data file in the lesson's format (see sample_3s_400Hz.npz.README).

    python dataset_builder/make_dataset.py check sample_3s_400Hz.npz
    python dataset_builder/make_dataset.py download [-o PATH] [--force] [--url URL]   # the lesson's file
    python dataset_builder/make_dataset.py folders my/classical my/rock -o mine.npz [--per-file 3]
    python dataset_builder/make_dataset.py audioset --csv balanced_train_segments.csv \\
        --csv unbalanced_train_segments.csv -o audioset.npz [--jobs 4] [--per-class 5000]

The file holds `train` and `test`, float32 rows of 1200 samples (3 s mono at
400 Hz); the first half of each split is classical (0), the second half rock (1).
A manifest (`train_source`, `train_start`, `train_label`, and the same for
`test`) says where each row came from; genre_mlp.py ignores it.

`audioset` fetches each YouTube video's audio with yt-dlp (or --fetch-command),
cuts the labelled segment, takes its middle 3 s and caches the excerpt in the
work folder, so a rerun of the same command resumes where the last one stopped.
Segments that fail are listed in WORK/failed.tsv and skipped; delete it to retry them.
"""
import argparse
import concurrent.futures
import csv
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the project's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lesson_helpers.data import data_file, download
from lesson_helpers.command_line import stopped
from lesson_helpers.command_line.cli import Parser, install_hint
from lesson_helpers.files import WriteError, write_atomically

try:  # `check` needs NumPy alone, so that it works in the venv `make run` made
    from tqdm import tqdm
    from lesson_helpers.sound import audio
except ModuleNotFoundError:
    pass  # main() names what the command needs and this Python lacks, before it starts
# The packages each command needs beyond NumPy (make data installs them all).
NEEDS = {"download": ("gdown", "requests", "tqdm"), "folders": ("scipy", "soundfile", "tqdm"),
         "audioset": ("scipy", "soundfile", "tqdm")}
REQUIREMENTS = [Path(__file__).resolve().parent.parent / folder / "requirements.txt"
                for folder in (".", "lesson_helpers", "dataset_builder")]  # all at once: NumPy stays on its pin

CLASSES = ("classical", "rock")                 # label 0, label 1: the order of the halves
AUDIOSET_LABELS = ("/m/0ggq0m", "/m/06by7")     # AudioSet's "Classical music", "Rock music"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus", ".aiff", ".aif")
TRAIN_FRACTION = 0.8
YTID = re.compile(r"[A-Za-z0-9_-]{6,20}")      # YouTube ids; may begin with "-"
# yt-dlp as a module of this Python, so it is found wherever the requirements were installed
DEFAULT_FETCH = (f"{shlex.quote(sys.executable)} -m yt_dlp --quiet --no-warnings --no-playlist "
                 "--format bestaudio/best --output {out}.%(ext)s {url}")
FETCH_TIMEOUT_S = 600
FAILURES_IN_A_ROW = 25  # a broken network or fetcher, not gone videos: stop before marking them all


class InputError(Exception):
    """Bad input: main() prints it as one line, `error: <problem>; <fix>`, and exits non-zero."""


def warn(message):
    tqdm.write(f"warning: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Writing the file: balance, split, manifest, atomic write
# ---------------------------------------------------------------------------------------------

def cut_excerpts(x, count, source):
    """Up to `count` non-overlapping excerpts spread evenly over x (count 1: its middle),
    with their start times in seconds."""
    if len(x) < audio.WIDTH:
        raise audio.AudioError(f"{source}: it lasts {len(x) / audio.RATE:.2f} s; "
                               "use recordings of at least 3 s")
    count = max(1, min(count, len(x) // audio.WIDTH - 1))  # room for gaps, so no two overlap
    starts = [int((len(x) - audio.WIDTH) * (i + 0.5) / count) for i in range(count)]
    return [x[s:s + audio.WIDTH] for s in starts], [s / audio.RATE for s in starts]


def split_rows(rows, per_class_train, per_class_test):
    """rows[split][label]: lists of (excerpt, source, start) -> the npz arrays, classical half first."""
    arrays = {}
    for split, count in (("train", per_class_train), ("test", per_class_test)):
        chosen = [row + (label,) for label in (0, 1) for row in rows[split][label][:count]]
        arrays[split] = np.array([row[0] for row in chosen], dtype=np.float32).reshape(-1, audio.WIDTH)
        arrays[split + "_source"] = np.array([str(row[1]) for row in chosen], dtype=str)
        arrays[split + "_start"] = np.array([row[2] for row in chosen], dtype=np.float64)
        arrays[split + "_label"] = np.array([row[3] for row in chosen], dtype=np.int8)
    return arrays


def write_npz(arrays, out):
    """Write atomically: a killed run never leaves a half-written file under the real name."""
    try:
        write_atomically(out, lambda stream: np.savez(stream, **arrays))
    except WriteError as error:
        raise InputError(str(error)) from None


def check_output(out, force):
    if out.exists() and not force:
        raise InputError(f"{out} already exists; choose another -o or add --force to replace it")
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist; create it or choose another -o")


def summary(arrays, out):
    return (f"wrote {out}: train {len(arrays['train'])} x {audio.WIDTH}, test {len(arrays['test'])} "
            f"x {audio.WIDTH}, half classical (0) then half rock (1) in each")


# ---------------------------------------------------------------------------------------------
# folders: the user's own recordings, split by recording
# ---------------------------------------------------------------------------------------------

def build_from_folders(folders, out, per_file=1, seed=0, force=False):
    out = Path(out)
    check_output(out, force)
    listed = []
    for label, folder in enumerate(map(Path, folders)):  # all input checks before any decoding
        if not folder.is_dir():
            raise InputError(f"{folder} is not a folder; give one folder of {CLASSES[label]} recordings")
        listed.append(sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES))
        if not listed[-1]:
            raise InputError(f"no audio files ({' '.join(AUDIO_SUFFIXES)}) in {folder}; "
                             f"put the {CLASSES[label]} recordings there")
    rows = {"train": ([], []), "test": ([], [])}
    rng = np.random.default_rng(seed)
    for label, (folder, paths) in enumerate(zip(folders, listed)):
        name = CLASSES[label]
        recordings = []  # one entry per usable file: the file is the unit of the split
        for path in tqdm(paths, desc=name, unit="file"):
            try:
                excerpts, starts = cut_excerpts(audio.load_mono_400hz(path), per_file, path)
            except audio.AudioError as error:
                warn(f"skipped {error}")  # the message starts with the path
                continue
            recordings.append([(x, path, start) for x, start in zip(excerpts, starts)])
        if len(recordings) < 2:
            raise InputError(f"{'too few' if recordings else 'no'} excerpts for {name}: {len(recordings)} of "
                             f"{len(paths)} files in {folder} are usable; add at least 2 recordings "
                             "of 3 s or more (see the warnings)")
        order = rng.permutation(len(recordings))
        num_test = min(len(recordings) - 1, max(1, round((1 - TRAIN_FRACTION) * len(recordings))))
        for split, picked in (("test", order[:num_test]), ("train", order[num_test:])):
            excerpts = [row for i in picked for row in recordings[i]]
            rows[split][label].extend(excerpts[i] for i in rng.permutation(len(excerpts)))
    # each class gives the same number of rows to each split; the larger one is trimmed
    train_count, test_count = (min(len(rows[s][0]), len(rows[s][1])) for s in ("train", "test"))
    arrays = split_rows(rows, train_count, test_count)
    write_npz(arrays, out)
    print(summary(arrays, out))


# ---------------------------------------------------------------------------------------------
# audioset: segment CSVs -> yt-dlp -> cached excerpts
# ---------------------------------------------------------------------------------------------

class Segment:
    def __init__(self, ytid, start, end, label):
        self.ytid, self.start, self.end, self.label = ytid, start, end, label
        self.key = f"{ytid}_{round(start * 1000)}"  # the cache's file name: one per segment


def read_segments(csv_paths):
    """Segments labelled with exactly one of the two genres; malformed lines are reported and skipped."""
    segments, seen = ([], []), set()
    for csv_path in map(Path, csv_paths):
        with open(csv_path, newline="", encoding="utf-8", errors="replace") as file:
            for number, fields in enumerate(csv.reader(file, skipinitialspace=True), 1):
                if not fields or fields[0].startswith("#"):
                    continue
                try:
                    ytid, start, end, labels = fields
                    start, end = float(start), float(end)
                    if not YTID.fullmatch(ytid) or not 0 <= start < end:
                        raise ValueError
                except ValueError:
                    warn(f'{csv_path} line {number} is malformed (want YTID, start, end, "labels"); skipped')
                    continue
                genres = [label for label, mid in enumerate(AUDIOSET_LABELS) if mid in labels.split(",")]
                if len(genres) == 1 and (ytid, start) not in seen:  # both genres: ambiguous, dropped
                    seen.add((ytid, start))
                    segments[genres[0]].append(Segment(ytid, start, end, genres[0]))
    for label, found in enumerate(segments):
        if not found:
            raise InputError(f"no segment in the CSVs is labelled {CLASSES[label]} alone "
                             f"({AUDIOSET_LABELS[label]}); give AudioSet's segment CSVs with --csv")
    return segments


class FetchError(Exception):
    pass


def fetch_excerpt(segment, work, fetch_command):
    """Fetch one video's audio, cut the segment's middle 3 s, cache it; returns (excerpt, start)."""
    folder = work / "downloads" / segment.key
    shutil.rmtree(folder, ignore_errors=True)  # a leftover from a killed run
    folder.mkdir(parents=True)
    try:
        url = f"https://www.youtube.com/watch?v={segment.ytid}"
        out = str(folder / "audio")
        argv = [arg.replace("{ytid}", segment.ytid).replace("{url}", url).replace("{out}", out)
                for arg in fetch_command]
        try:  # an argument list, never a shell: ids and paths are passed as they are
            result = subprocess.run(argv, capture_output=True, text=True, timeout=FETCH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise FetchError(f"fetch timed out after {FETCH_TIMEOUT_S} s") from None
        fetched = sorted(p for p in folder.iterdir() if p.suffix not in (".part", ".ytdl"))
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
            raise FetchError(f"fetch failed: {audio.one_line(reason)}")
        if not fetched:
            raise FetchError("the fetch command wrote no file at {out}")
        x = audio.load_mono_400hz(fetched[0], segment.start, segment.end - segment.start)
        (excerpt,), (offset,) = cut_excerpts(x, 1, "the segment")
        cache_path = work / "excerpts" / f"{segment.key}.npz"
        try:  # only finished excerpts ever carry the real name; a cut write leaves no temporary
            write_atomically(str(cache_path), lambda stream: np.savez(stream, excerpt=excerpt,
                                                                      start=segment.start + offset))
        except WriteError as error:
            raise InputError(f"the excerpt cache in {work}: {error}") from None  # the disk's fault, not the video's
        return excerpt, segment.start + offset
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load_cached(segment, work):
    path = work / "excerpts" / f"{segment.key}.npz"
    if not path.is_file():
        return None
    with np.load(path) as cached:
        return cached["excerpt"], float(cached["start"])


def build_from_audioset(csv_paths, out, work=None, jobs=4, per_class=5000, seed=0, force=False,
                        fetch_command=DEFAULT_FETCH):
    out = Path(out)
    check_output(out, force)
    for csv_path in map(Path, csv_paths):  # all input checks before any work
        if not csv_path.is_file():
            raise InputError(f"CSV {csv_path} not found; download AudioSet's segment CSVs "
                             "(e.g. balanced_train_segments.csv) and give their paths")
    if fetch_command == DEFAULT_FETCH:  # (main() has checked that yt-dlp is installed)
        if shutil.which("ffmpeg") is None:
            raise InputError("ffmpeg not found, and YouTube's audio (WebM, M4A) needs it; "
                             "install it (apt-get install ffmpeg)")
    fetch_command = shlex.split(fetch_command)
    if not fetch_command or shutil.which(fetch_command[0]) is None:
        raise InputError(f"fetch program {' '.join(fetch_command[:1])!r} not found; fix --fetch-command")
    segments = read_segments(csv_paths)
    rng = np.random.default_rng(seed)
    candidates = [[found[i] for i in rng.permutation(len(found))] for found in segments]
    work = Path(work) if work else out.with_name(out.stem + ".work")
    (work / "excerpts").mkdir(parents=True, exist_ok=True)
    chosen, num_failed = collect_excerpts(candidates, per_class, work, jobs, fetch_command)

    failures = f"; {num_failed} failed this run, listed in {work / 'failed.tsv'}" if num_failed else ""
    for label in (0, 1):
        if len(chosen[label]) < 2:
            raise InputError(f"{'too few' if chosen[label] else 'no'} excerpts for {CLASSES[label]}: "
                             f"{len(chosen[label])} of {len(candidates[label])} segments worked{failures}; "
                             "check that the fetch command works, give more CSVs, or delete failed.tsv "
                             "to retry")
    count = min(len(found) for found in chosen)
    if count < per_class:
        warn(f"only {count} excerpts per class (asked for {per_class}){failures}; "
             "the file is balanced at that size")
    rows = {"train": ([], []), "test": ([], [])}
    num_train = round(TRAIN_FRACTION * count)
    for label in (0, 1):
        ordered = [(x, candidates[label][i].ytid, start)
                   for i, (x, start) in sorted(chosen[label].items())][:count]
        rows["train"][label].extend(ordered[:num_train])
        rows["test"][label].extend(ordered[num_train:])
    arrays = split_rows(rows, num_train, count - num_train)
    write_npz(arrays, out)
    print(summary(arrays, out) + failures)


def collect_excerpts(candidates, per_class, work, jobs, fetch_command):
    """Up to `per_class` excerpts per class, from the cache or fetched `jobs` at a time.

    Each class's shuffled candidates are walked in order, in waves of just as many as are still
    missing: the result is the first `per_class` that work, whatever order downloads finish in.
    Returns ({candidate index: (excerpt, start)} per class, the number that failed this run).
    """
    failed_log = work / "failed.tsv"
    failed = set()
    if failed_log.is_file():
        failed = {line.split("\t")[0] for line in failed_log.read_text().splitlines()}
    chosen = ({}, {})
    position = [0, 0]
    num_failed = in_a_row = 0
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    bar = tqdm(total=2 * per_class, desc="excerpts", unit="excerpt")
    try:
        while True:
            wave = []
            for label in (0, 1):
                missing = per_class - len(chosen[label])
                while missing > 0 and position[label] < len(candidates[label]):
                    index, segment = position[label], candidates[label][position[label]]
                    position[label] += 1
                    if segment.key in failed:
                        continue
                    missing -= 1
                    cached = load_cached(segment, work)
                    if cached is None:
                        wave.append((index, segment))
                    else:
                        chosen[label][index] = cached
                        bar.update()
            if not wave:
                break
            futures = {pool.submit(fetch_excerpt, segment, work, fetch_command): (index, segment)
                       for index, segment in wave}
            for future in concurrent.futures.as_completed(futures):
                index, segment = futures[future]
                try:
                    chosen[segment.label][index] = future.result()
                    bar.update()
                    in_a_row = 0
                except (FetchError, audio.AudioError, OSError) as error:
                    num_failed += 1
                    in_a_row += 1
                    warn(f"skipped {segment.ytid} at {segment.start:g} s: {audio.one_line(error)}")
                    with open(failed_log, "a") as log:
                        fields = (segment.key, segment.ytid, f"{segment.start:g}", audio.one_line(error))
                        log.write("\t".join(fields) + "\n")
                    if in_a_row == FAILURES_IN_A_ROW:
                        raise InputError(f"{in_a_row} fetches in a row failed, the last with "
                                         f"'{audio.one_line(error)}'; check the network and the "
                                         "fetch command (pip install -U yt-dlp), then delete "
                                         f"{failed_log} and rerun")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()

    return chosen, num_failed


# ---------------------------------------------------------------------------------------------
# check: what a file holds, and whether genre_mlp.py can train on it
# ---------------------------------------------------------------------------------------------

def check(path):
    """Print a summary of `path`; returns True when genre_mlp.py can train on it.

    The verdict applies the same rules as genre_mlp.py (lesson_helpers/data/data_file.py).
    """
    path = Path(path)
    arrays = data_file.read_npz(str(path), InputError, "download it again or rebuild it with this tool")
    print(f"file      {path} ({path.stat().st_size / 1e6:.1f} MB), keys: {', '.join(sorted(arrays))}")
    for split in data_file.SPLITS:
        x = arrays.get(split)
        if x is None:
            continue
        shape = " x ".join(map(str, x.shape))
        if not data_file.is_numeric(x):
            print(f"{split:<9} {shape}  {x.dtype}")
            continue
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        finite = x[np.isfinite(x)]
        value_range = f"[{finite.min():.4f}, {finite.max():.4f}]" if finite.size else "(no finite samples)"
        print(f"{split:<9} {shape}  {x.dtype}  range {value_range}  NaN/inf: {bad}")
        if x.ndim == 2 and len(x) >= 2 and not bad:
            rms = np.sqrt(np.mean(np.square(x, dtype=np.float64), axis=1))
            half = len(x) // 2
            print(f"{'':<9} mean RMS loudness: classical (first half) {rms[:half].mean():.4f}, "
                  f"rock (second half) {rms[half:].mean():.4f}")
    if all(f"{split}_source" in arrays for split in ("train", "test")):
        sources = {split: set(arrays[f"{split}_source"].tolist()) for split in ("train", "test")}
        for split in ("train", "test"):
            labels = arrays.get(f"{split}_label", np.array([]))
            rows, labels = arrays[f"{split}_source"], arrays.get(f"{split}_label", np.array([]))
            print(f"{'manifest' if split == 'train' else '':<9} {split}: {len(rows)} rows from "
                  f"{len(sources[split])} sources, {int(np.sum(labels == 0))} classical, "
                  f"{int(np.sum(labels == 1))} rock")
        print(f"{'':<9} sources in both splits: {len(sources['train'] & sources['test'])}")
    else:
        print("manifest  none (a file not built by this tool, such as the lesson's)")
    problems = data_file.problems(arrays)
    if problems:
        print(f"verdict   genre_mlp.py CANNOT train on this file: {'; '.join(problems)}")
        return False
    print(f"verdict   OK: genre_mlp.py can train on this file "
          f"({len(arrays['train'])} train and {len(arrays['test'])} test excerpts)")
    return True


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def positive_int(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def whole_number(text):
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (0 or more)")
    return int(text)


def parse_args(argv):
    parser = Parser(prog="python dataset_builder/make_dataset.py", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    check_parser = commands.add_parser("check", help="summarise a data file and say if it is trainable")
    check_parser.add_argument("path", help="the .npz file")
    folders = commands.add_parser("folders", help="build from your own recordings, one folder per class")
    folders.add_argument("classical_dir")
    folders.add_argument("rock_dir")
    folders.add_argument("--per-file", type=positive_int, default=1,
                         help="excerpts per recording, spread evenly, 1 = its middle 3 s (default 1)")
    fetch = commands.add_parser("download", help="download the lesson's file (lesson_helpers/data/download.py), "
                                "check it, and save it beside genre_mlp.py")
    fetch.add_argument("-o", "--out", help=f"where to save it: a file or a folder (default: {download.FILE_NAME} "
                       "beside genre_mlp.py)")
    fetch.add_argument("--url", help="a plain HTTP(S) mirror of the file, instead of Google Drive")
    fetch.add_argument("--force", action="store_true", help="replace OUT if it exists (only once the "
                       "new file has passed the checks)")
    fetch.add_argument("--retries", type=whole_number, default=download.RETRIES, help="reconnections within "
                       "this run after the transfer breaks, each resuming it (default %(default)s)")
    audioset = commands.add_parser("audioset", help="build from AudioSet segment CSVs and YouTube")
    audioset.add_argument("--csv", action="append", required=True, help="a segment CSV; repeat for more")
    audioset.add_argument("--work", help="cache folder for a resumable run (default: OUT.work beside OUT)")
    audioset.add_argument("--jobs", type=positive_int, default=4, help="downloads at a time (default 4)")
    audioset.add_argument("--per-class", type=positive_int, default=5000,
                          help="excerpts per class (default 5000)")
    audioset.add_argument("--fetch-command", default=DEFAULT_FETCH,
                          help="command that writes a video's whole audio to {out} (an extension may be "
                               "added); placeholders {ytid} {url} {out} (default: %(default)s)")
    for command in (folders, audioset):
        command.add_argument("-o", "--out", required=True, help="the .npz file to write")
        command.add_argument("--seed", type=int, default=0,
                             help="seeds the selection and the split (default 0)")
        command.add_argument("--force", action="store_true", help="replace OUT if it exists")
    return parser.parse_args(argv)


def not_installed(args):
    """The one line for a command whose packages this Python lacks, or None."""
    needs = NEEDS.get(args.command, ()) + (("yt_dlp",) if getattr(args, "fetch_command", None) == DEFAULT_FETCH
                                           else ())
    missing = [name.replace("_", "-") for name in needs if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return (f"{args.command} needs {', '.join(missing)}, which this Python lacks; run `make data` (its venv has "
            f"them) or `{install_hint(*REQUIREMENTS)}`")


def main(argv=None):
    args = parse_args(argv)
    missing = not_installed(args)
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 1
    try:
        if args.command == "check":
            return 0 if check(args.path) else 1
        if args.command == "download":
            download.download(args.out, args.url, args.force, args.retries, check, InputError)
            return 0
        if args.command == "folders":
            build_from_folders((args.classical_dir, args.rock_dir), args.out, args.per_file, args.seed,
                               args.force)
        else:
            build_from_audioset(args.csv, args.out, args.work, args.jobs, args.per_class, args.seed,
                                args.force, args.fetch_command)
        return 0
    except (InputError, download.DownloadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except download.Stopped as stop:  # it says where the download stopped and what it kept
        print(f"stopped by Ctrl-C {stop}", file=sys.stderr)
        return stopped.EXIT_STATUS
    except KeyboardInterrupt:
        print("stopped by Ctrl-C: no file written; rerun the same command (audioset resumes where it "
              "stopped)", file=sys.stderr)
        return stopped.EXIT_STATUS


if __name__ == "__main__":
    sys.exit(main())
