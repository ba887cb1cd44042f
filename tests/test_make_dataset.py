"""dataset_builder/make_dataset.py: the builder's three commands, offline. A fake fetch command serves
recordings made here for given YouTube ids; every excerpt carries a marker at its segment's middle."""
import errno
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from dataset_builder import make_dataset

ROOT = Path(__file__).resolve().parent.parent
BUILDER = ROOT / "dataset_builder" / "make_dataset.py"
CLASSICAL, ROCK = "/m/0ggq0m", "/m/06by7"

FAKE_FETCH = '''
import os, pathlib, shutil, signal, sys
library, ytid, out = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(library / "calls.log", "a") as log:
    log.write(ytid + "\\n")
calls = len((library / "calls.log").read_text().split())
if calls == int(os.environ.get("FAKE_KILL_AT", 0)):  # a killed run, as by `kill -9`
    os.kill(os.getppid(), signal.SIGKILL)
    sys.exit(1)
found = sorted(library.glob(ytid + ".*"))
if not found:
    sys.exit("ERROR: [youtube] " + ytid + ": Video unavailable")
shutil.copy(found[0], out + found[0].suffix)
'''

SEGMENT = (4.0, 14.0)      # every good segment; its middle, 9 s, carries the marker
# (ytid, file format, subtype, sample rate, channels); the rates and formats vary on purpose
GOOD = {0: [("clas0000001", "wav", "PCM_16", 8000, 1), ("clas0000002", "wav", "FLOAT", 44100, 2),
            ("clas0000003", "flac", "PCM_16", 22050, 2), ("-clas000004", "ogg", "VORBIS", 48000, 1),
            ("clas0000005", "wav", "PCM_24", 16000, 2)],
        1: [("rock0000001", "flac", "PCM_24", 44100, 2), ("-rock000002", "wav", "PCM_16", 11025, 1),
            ("rock0000003", "wav", "FLOAT", 48000, 2), ("rock0000004", "ogg", "VORBIS", 22050, 2),
            ("rock0000005", "wav", "PCM_16", 8000, 1)]}


def recording(label, seconds, rate, channels, seed, marker_at=None):
    """Quiet low tones for classical, loud bass for rock; a 20-ms marker stands out of both."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    if label == 0:
        x = 0.05 * np.sin(2 * np.pi * rng.uniform(40, 70) * t)
    else:
        x = 0.2 * np.sign(np.sin(2 * np.pi * rng.uniform(60, 90) * t)) + 0.05 * rng.standard_normal(len(t))
    if marker_at is not None:
        x[int((marker_at - 0.01) * rate):int((marker_at + 0.01) * rate)] = 0.95
    return np.tile(x[:, None], (1, channels))


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Audio files named by YouTube id, a segment CSV that lists them, and a fake fetch command."""
    folder = tmp_path_factory.mktemp("library")
    lines = ["# Segments csv created for the tests", "# num_ytids=14, num_segs=14",
             "# YTID, start_seconds, end_seconds, positive_labels"]
    for label, entries in GOOD.items():
        for seed, (ytid, extension, subtype, rate, channels) in enumerate(entries):
            x = recording(label, 16, rate, channels, seed + 10 * label, marker_at=sum(SEGMENT) / 2)
            soundfile.write(folder / f"{ytid}.{extension}", x, rate, subtype=subtype)
            other = "/m/04rlf," if seed % 2 else ""
            lines.append(f'{ytid}, {SEGMENT[0]:.3f}, {SEGMENT[1]:.3f}, "{other}{(CLASSICAL, ROCK)[label]}"')
    soundfile.write(folder / "shrt0000001.wav", recording(0, 2, 8000, 1, 99), 8000)  # too short
    (folder / "crpt0000001.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio" * 40)  # corrupt
    soundfile.write(folder / "both0000001.wav", recording(1, 16, 8000, 1, 98), 8000)
    lines += ['shrt0000001, 0.000, 10.000, "/m/0ggq0m"',
              'crpt0000001, 4.000, 14.000, "/m/06by7"',
              'gone0000001, 4.000, 14.000, "/m/06by7"',             # the fetch fails
              f'both0000001, 4.000, 14.000, "{CLASSICAL},{ROCK}"',  # both genres: dropped
              'othr0000001, 4.000, 14.000, "/m/04rlf"',              # neither genre: ignored
              'this line is malformed']
    (folder / "segments.csv").write_text("\n".join(lines) + "\n")
    (folder / "fetch.py").write_text(FAKE_FETCH)
    fetch = " ".join(shlex.quote(str(part)) for part in (sys.executable, folder / "fetch.py", folder))
    return folder, fetch + " {ytid} {out}"


def calls(library_folder):
    log = library_folder / "calls.log"
    return log.read_text().split() if log.exists() else []


def build_audioset(library, out, *options):
    folder, fetch = library
    return make_dataset.main(["audioset", "--csv", str(folder / "segments.csv"), "-o", str(out),
                              "--fetch-command", fetch, *options])


def run_builder(*args, **kwargs):
    return subprocess.run([sys.executable, str(BUILDER), *map(str, args)], capture_output=True,
                          text=True, timeout=120, **kwargs)


def load(path):
    with np.load(path, allow_pickle=False) as data:  # a manifest of plain arrays needs no pickle
        return {key: data[key] for key in data.files}


def rms(rows):
    return np.sqrt(np.mean(rows ** 2, axis=1))


def test_audioset_writes_the_lessons_format_and_skips_what_fails(library, tmp_path, capsys):
    out = tmp_path / "set.npz"
    assert build_audioset(library, out, "--jobs", "3", "--per-class", "6") == 0  # more than exist
    data = load(out)
    manifest = {f"{split}_{key}" for split in ("train", "test") for key in ("source", "start", "label")}
    assert set(data) == {"train", "test"} | manifest
    assert data["train"].shape == (8, 1200) and data["test"].shape == (2, 1200)  # 5 + 5, 80/20
    assert data["train"].dtype == data["test"].dtype == np.float32
    for split, half in (("train", 4), ("test", 1)):
        x, labels, sources = data[split], data[split + "_label"], data[split + "_source"]
        assert labels.tolist() == [0] * half + [1] * half  # classical half first, then rock
        assert set(sources[:half]) <= {entry[0] for entry in GOOD[0]}
        assert set(sources[half:]) <= {entry[0] for entry in GOOD[1]}
        assert rms(x[:half]).max() < rms(x[half:]).min()
        assert np.allclose(np.abs(x[:half, :500]).max(axis=1), 0.05, atol=0.005)  # as decoded, not normalised
        # the middle 3 s of the segment [4 s, 14 s] is centred on the 9-s marker
        assert np.all(np.abs(np.argmax(np.abs(x), axis=1) - 600) <= 4)
        assert np.allclose(data[split + "_start"], 7.5, atol=0.01)
    all_sources = set(data["train_source"]) | set(data["test_source"])
    assert all_sources == {entry[0] for entries in GOOD.values() for entry in entries}

    report = capsys.readouterr()
    for skipped in ("line 19 is malformed", "gone0000001", "crpt0000001", "shrt0000001"):
        assert skipped in report.err
    failed = (tmp_path / "set.work" / "failed.tsv").read_text().splitlines()
    assert sorted(line.split("\t")[1] for line in failed) == ["crpt0000001", "gone0000001", "shrt0000001"]
    assert "3 failed" in report.out and "only 5 excerpts per class" in report.err


def test_audioset_is_deterministic_for_a_seed(library, tmp_path):
    made = {}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        out = tmp_path / f"{name}.npz"
        assert build_audioset(library, out, "--per-class", "3", "--seed", str(seed), "--jobs", "3") == 0
        made[name] = load(out)
        assert made[name]["train"].shape == (4, 1200) and made[name]["test"].shape == (2, 1200)
    for key in made["a"]:
        assert np.array_equal(made["a"][key], made["b"][key]), key
    assert not all(np.array_equal(made["a"][key], made["c"][key]) for key in made["a"])


def test_audioset_resumes_after_a_killed_run_and_gives_the_same_file(library, tmp_path):
    folder, fetch = library
    reference = tmp_path / "reference.npz"
    assert build_audioset(library, reference, "--per-class", "4", "--jobs", "1") == 0

    (folder / "calls.log").unlink(missing_ok=True)
    out = tmp_path / "resumed.npz"
    command = ["audioset", "--csv", folder / "segments.csv", "-o", out, "--fetch-command", fetch,
               "--per-class", "4", "--jobs", "1"]
    killed = run_builder(*command, env={**os.environ, "FAKE_KILL_AT": "4"})
    assert killed.returncode == -signal.SIGKILL and not out.exists()
    first_run = calls(folder)
    assert len(first_run) == 4
    assert not list(out.parent.glob("resumed.npz.*"))  # no temporary file left behind

    (folder / "calls.log").unlink()
    assert run_builder(*command).returncode == 0
    assert not set(first_run[:3]) & set(calls(folder))  # what finished was not fetched again
    assert first_run[3] in calls(folder)                # what was cut short was
    resumed, expected = load(out), load(reference)
    for key in expected:
        assert np.array_equal(resumed[key], expected[key]), key


def make_folders(root, recordings_per_class=6, seconds=12):
    """One folder per class with recordings of mixed formats and rates, plus a corrupt and a short file."""
    folders = []
    for label, name in enumerate(("classical", "rock")):
        folder = root / name
        (folder / "album").mkdir(parents=True)  # recordings in sub-folders count too
        for i in range(recordings_per_class):
            _, extension, subtype, rate, channels = GOOD[label][i % len(GOOD[label])]
            where = folder / "album" if i % 2 else folder
            soundfile.write(where / f"{name}{i}.{extension}",
                            recording(label, seconds, rate, channels, 100 * label + i), rate, subtype=subtype)
        folders.append(folder)
    (folders[0] / "broken.wav").write_bytes(b"not audio at all" * 30)
    soundfile.write(folders[1] / "short.wav", recording(1, 1, 8000, 1, 7), 8000)
    return folders


def test_folders_never_puts_one_recording_in_both_splits(tmp_path, capsys):
    classical, rock = make_folders(tmp_path)
    out = tmp_path / "mine.npz"
    assert make_dataset.main(["folders", str(classical), str(rock), "-o", str(out), "--per-file", "3"]) == 0
    data = load(out)
    # 6 usable recordings per class: 5 for train, 1 for test, 3 excerpts each
    assert data["train"].shape == (30, 1200) and data["test"].shape == (6, 1200)
    assert data["train_label"].tolist() == [0] * 15 + [1] * 15
    assert all("classical" in source for source in data["train_source"][:15])
    assert all("rock" in source for source in data["train_source"][15:])
    assert not set(data["train_source"]) & set(data["test_source"])
    for source in set(data["train_source"]):  # excerpts of one recording never overlap
        starts = np.sort(data["train_start"][data["train_source"] == source])
        assert len(starts) == 3 and np.all(np.diff(starts) >= 3.0)
    assert rms(data["train"][:15]).max() < rms(data["train"][15:]).min()
    report = capsys.readouterr().err
    assert "broken.wav" in report and "short.wav" in report

    again = tmp_path / "again.npz"
    assert make_dataset.main(["folders", str(classical), str(rock), "-o", str(again), "--per-file", "3"]) == 0
    assert all(np.array_equal(data[key], value) for key, value in load(again).items())


def test_check_summarises_a_file_and_gives_a_verdict(tmp_path):
    classical, rock = make_folders(tmp_path, recordings_per_class=4, seconds=4)
    out = tmp_path / "mine.npz"
    assert run_builder("folders", classical, rock, "-o", out).returncode == 0
    result = run_builder("check", out)
    assert result.returncode == 0, result.stdout + result.stderr
    for expected in ("train", "6 x 1200", "2 x 1200", "float32", "range", "NaN/inf: 0",
                     "RMS", "sources in both splits: 0", "verdict   OK"):
        assert expected in result.stdout

    lesson_like = tmp_path / "lesson_like.npz"  # no manifest, as the lesson's file
    np.savez(lesson_like, train=np.zeros((8, 1200), np.float32), test=np.zeros((4, 1200), np.float32))
    result = run_builder("check", lesson_like)
    assert result.returncode == 0 and "manifest  none" in result.stdout

    untrainable = tmp_path / "untrainable.npz"
    np.savez(untrainable, train=np.full((7, 1000), np.nan, np.float32))
    result = run_builder("check", untrainable)
    assert result.returncode == 1
    verdict = result.stdout.strip().splitlines()[-1]
    assert verdict.startswith("verdict") and "CANNOT" in verdict
    for problem in ("no `test`", "7 x 1000", "odd", "NaN"):
        assert problem in verdict


# The builder as a venv made by `make run` alone has it: NumPy and SciPy, none of make data's
# packages (a module set to None in sys.modules cannot be imported, and find_spec says None).
WITHOUT_THE_EXTRAS = """
import runpy, sys
sys.modules.update(dict.fromkeys(["gdown", "requests", "soundfile", "tqdm", "yt_dlp"]))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_check_needs_numpy_alone_and_the_other_commands_say_what_they_lack(tmp_path):
    # genre_mlp.py's data errors advise `make_dataset.py check` with the lesson's own Python.
    lesson_like = tmp_path / "lesson_like.npz"
    np.savez(lesson_like, train=np.zeros((8, 1200), np.float32), test=np.zeros((4, 1200), np.float32))

    def run(*args):
        return subprocess.run([sys.executable, "-c", WITHOUT_THE_EXTRAS, str(BUILDER), *map(str, args)],
                              capture_output=True, text=True, cwd=str(tmp_path))
    result = run("check", lesson_like)
    assert result.returncode == 0 and "verdict   OK" in result.stdout, result.stderr
    install = "%s -m pip install -r %s -r %s -r %s" % (
        sys.executable, *(Path(ROOT) / folder / "requirements.txt" for folder in (".", "lesson_helpers",
                                                                                    "dataset_builder")))
    for args, lacks in ((["download", "-o", tmp_path / "x.npz"], "download needs gdown, requests, tqdm"),
                        (["folders", tmp_path, tmp_path, "-o", tmp_path / "y.npz"], "folders needs soundfile, tqdm"),
                        (["audioset", "--csv", "a.csv", "-o", tmp_path / "z.npz"],
                         "audioset needs soundfile, tqdm, yt-dlp")):
        result = run(*args)
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == ("error: %s, which this Python lacks; run `make data` (its venv has them) or `%s`\n"
                                 % (lacks, install))
    assert sorted(os.listdir(tmp_path)) == ["lesson_like.npz"]


def test_a_subcommands_option_mistyped_or_abbreviated_is_named(capsys):
    for args, guess in ((["download", "--retrys", "3"], "--retries"), (["folders", "a", "b", "-o", "x.npz",
                                                                         "--per-fil", "3"], "--per-file")):
        with pytest.raises(SystemExit) as stop:
            make_dataset.main(args)
        assert stop.value.code == 2
        assert "(did you mean %s?); see python dataset_builder/make_dataset.py --help\n" % guess in capsys.readouterr().err
    # download's --retries is not a guess for folders, which has no such option.
    with pytest.raises(SystemExit):
        make_dataset.main(["folders", "a", "b", "-o", "x.npz", "--retrys", "3"])
    assert capsys.readouterr().err == ("error: unrecognized arguments: --retrys 3; see python "
                                       "dataset_builder/make_dataset.py --help\n")


def assert_one_line_error(result, *words):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "; " in lines[-1], result.stderr
    for word in words:
        assert word in lines[-1]
    return lines


def test_bad_input_gets_one_line_error_and_non_zero_exit(library, tmp_path):
    folder, fetch = library
    existing = tmp_path / "existing.npz"
    existing.write_bytes(b"this is no npz")
    empty = tmp_path / "empty"
    empty.mkdir()
    classical, rock = make_folders(tmp_path / "music", recordings_per_class=2, seconds=4)

    cases = [  # (arguments, words the message must hold); each fails before any work, in one line
        (["audioset", "--csv", tmp_path / "missing.csv", "-o", tmp_path / "x.npz"],
         ["missing.csv", "not found"]),
        (["audioset", "--csv", folder / "segments.csv", "-o", existing], ["already exists", "--force"]),
        (["folders", empty, rock, "-o", tmp_path / "y.npz"], ["no audio files", "empty"]),
        (["folders", classical, tmp_path / "nowhere", "-o", tmp_path / "y.npz"], ["not a folder"]),
        (["check", existing], ["is not a .npz file"]),
        (["check", tmp_path / "absent.npz"], ["absent.npz not found"]),
        (["audioset", "-o", tmp_path / "z.npz"], ["--csv"]),
        (["audioset", "--csv", folder / "segments.csv", "-o", tmp_path / "z.npz", "--jobs", "0"], ["--jobs"]),
        (["audioset", "--csv", folder / "segments.csv", "-o", tmp_path / "z.npz",
          "--fetch-command", "no-such-fetcher {ytid} {out}"], ["no-such-fetcher", "not found"]),
    ]
    for args, words in cases:
        lines = assert_one_line_error(run_builder(*args), *words)
        assert len(lines) == 1, lines
    assert existing.read_bytes() == b"this is no npz"  # never replaced without --force


def test_no_excerpts_for_a_class_is_an_error(library, tmp_path):
    folder, fetch = library
    # two good classical segments, and only failing rock ones: a missing video and a corrupt file
    csv = tmp_path / "few.csv"
    failing = ['crpt0000001, 4.000, 14.000, "/m/06by7"', 'gone0000001, 4.000, 14.000, "/m/06by7"']
    csv.write_text("\n".join((folder / "segments.csv").read_text().splitlines()[:5] + failing))
    result = run_builder("audioset", "--csv", csv, "-o", tmp_path / "a.npz", "--fetch-command", fetch)
    assert_one_line_error(result, "no excerpts for rock")
    assert not (tmp_path / "a.npz").exists()

    classical, rock = make_folders(tmp_path, recordings_per_class=2, seconds=4)
    for path in rock.rglob("*.*"):
        path.write_bytes(b"damaged")
    result = run_builder("folders", classical, rock, "-o", tmp_path / "b.npz")
    assert_one_line_error(result, "no excerpts for rock")


def test_the_written_file_loads_in_dataserver_and_trains(tmp_path):
    import genre_mlp

    classical, rock = make_folders(tmp_path, recordings_per_class=10, seconds=12)
    out = tmp_path / "mine.npz"
    assert make_dataset.main(["folders", str(classical), str(rock), "-o", str(out), "--per-file", "3"]) == 0
    server = genre_mlp.DataServer(str(out), seed=0)
    x, y = server.get_test()
    assert x.shape == (12, 1200) and x.dtype == np.float32
    assert y.tolist() == [0] * 6 + [1] * 6
    batch, targets = server.get_train_sample(16)
    assert batch.shape == (16, 1200) and targets.shape == (16,)

    result = subprocess.run([sys.executable, "genre_mlp.py", "--data", str(out), "--updates", "200",
                             "--eval-step", "100"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sum(line.startswith("Accuracy after update") for line in result.stdout.splitlines()) == 2


def test_a_run_of_failed_fetches_stops_the_build(library, tmp_path, capsys):
    folder, fetch = library
    csv = tmp_path / "gone.csv"
    csv.write_text("\n".join(f'gone{i:07d}, 4.000, 14.000, "{CLASSICAL}"' for i in range(40)) + "\n"
                   + 'rock0000001, 4.000, 14.000, "/m/06by7"\n')
    (folder / "calls.log").unlink(missing_ok=True)
    assert make_dataset.main(["audioset", "--csv", str(csv), "-o", str(tmp_path / "g.npz"),
                              "--fetch-command", fetch, "--jobs", "1", "--per-class", "40"]) == 1
    assert "25 fetches in a row failed" in capsys.readouterr().err.splitlines()[-1]
    assert len(calls(folder)) < 30  # stopped, rather than marking every video as failed


KILLED_DURING_THE_WRITE = '''
import os, signal, sys
import numpy as np
from dataset_builder import make_dataset
real_savez = np.savez
def savez_then_killed(stream, **arrays):
    real_savez(stream, **arrays)
    stream.flush()
    stream.truncate(stream.tell() // 2)  # half the file is on disk when the kill comes
    os.kill(os.getpid(), signal.SIGKILL)
np.savez = savez_then_killed
sys.exit(make_dataset.main(sys.argv[1:]))
'''


def test_a_kill_during_the_final_write_leaves_the_old_file(tmp_path):
    classical, rock = make_folders(tmp_path, recordings_per_class=2, seconds=4)
    out = tmp_path / "mine.npz"
    out.write_bytes(b"the file from yesterday")
    killed = subprocess.run([sys.executable, "-c", KILLED_DURING_THE_WRITE, "folders", str(classical),
                             str(rock), "-o", str(out), "--force"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert out.read_bytes() == b"the file from yesterday"  # the half-written file never took its name
    leftovers = [path for path in tmp_path.iterdir() if path.name.startswith(".mine.npz.")]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 1000  # though the write had begun


def test_the_excerpt_cache_never_holds_a_partial_file_under_its_name(library, tmp_path, monkeypatch):
    folder, fetch = library
    work = tmp_path / "work"
    (work / "excerpts").mkdir(parents=True)
    segment = make_dataset.Segment("rock0000001", *SEGMENT, 1)
    final = work / "excerpts" / f"{segment.key}.npz"
    real_savez, seen = np.savez, []

    def savez_then_interrupted(file, **arrays):
        real_savez(file, **arrays)
        if isinstance(file, (str, os.PathLike)):  # written straight to a name
            os.truncate(file, os.path.getsize(file) // 2)
        else:
            file.flush()
            file.truncate(file.tell() // 2)
        seen.append(final.exists())  # half the excerpt is written: is any of it under the final name?
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", savez_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        make_dataset.fetch_excerpt(segment, work, shlex.split(fetch))
    assert seen == [False] and not final.exists()
    assert os.listdir(work / "excerpts") == [] and os.listdir(work / "downloads") == []  # nothing left over
    assert make_dataset.load_cached(segment, work) is None  # so a rerun fetches it again

    monkeypatch.setattr(np, "savez", real_savez)
    excerpt, start = make_dataset.fetch_excerpt(segment, work, shlex.split(fetch))
    cached_excerpt, cached_start = make_dataset.load_cached(segment, work)
    assert np.array_equal(cached_excerpt, excerpt) and cached_start == start == 7.5
    assert os.listdir(work / "excerpts") == [final.name]


def test_a_full_disk_under_the_cache_stops_the_build_in_one_line(library, tmp_path, monkeypatch, capsys):
    # The disk's fault, not the videos': none of them is listed as failed, to be skipped for ever.
    def full_disk(stream, **arrays):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", full_disk)
    assert build_audioset(library, tmp_path / "set.npz", "--jobs", "2", "--per-class", "2") == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: the excerpt cache in %s: cannot write " % (tmp_path / "set.work"))
    assert last.endswith("(No space left on device); free some space or choose a folder you can write to")
    assert not (tmp_path / "set.npz").exists() and not (tmp_path / "set.work" / "failed.tsv").exists()


# ---------------------------------------------------------------------------------------------
# Excerpts of one recording never overlap; the stop counts failures in a row
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("length", [1200, 1201, 2399, 2400, 3599, 3600, 4801, 9000, 12000, 36001])
def test_excerpts_of_one_recording_never_overlap(length):
    x = np.arange(length, dtype=np.float64)  # each sample is its own index: an excerpt shows where it starts
    for asked in range(1, 13):
        excerpts, starts = make_dataset.cut_excerpts(x, asked, "a recording")
        first = [int(excerpt[0]) for excerpt in excerpts]
        # As many as asked, or as many as fit with room between them (at least one).
        assert len(excerpts) == max(1, min(asked, length // 1200 - 1))
        for excerpt, begin in zip(excerpts, first):
            np.testing.assert_array_equal(excerpt, np.arange(begin, begin + 1200))  # whole, 3 s, inside x
        assert all(later - earlier >= 1200 for earlier, later in zip(first, first[1:]))  # no sample twice
        assert starts == [begin / 400 for begin in first]
        if len(excerpts) == 1:
            assert first == [(length - 1200) // 2]  # one excerpt: the middle


def failing_fetches(monkeypatch, tmp_path, ytids, per_class):
    """collect_excerpts over these classical ytids (no shuffling), one fetch at a time, where every
    id starting "gone" fails; returns (what it gave or the InputError, the failed.tsv lines)."""
    def fetch(segment, work, fetch_command):
        if segment.ytid.startswith("gone"):
            raise make_dataset.FetchError("fetch failed: ERROR: Video unavailable")
        return np.zeros(1200, np.float32), segment.start
    monkeypatch.setattr(make_dataset, "fetch_excerpt", fetch)
    (tmp_path / "excerpts").mkdir()
    candidates = [[make_dataset.Segment(ytid, 4.0, 14.0, 0) for ytid in ytids],
                  [make_dataset.Segment("rock%07d" % i, 4.0, 14.0, 1) for i in range(per_class)]]
    try:
        outcome = make_dataset.collect_excerpts(candidates, per_class, tmp_path, 1, ["fetch"])
    except make_dataset.InputError as error:
        outcome = error
    return outcome, (tmp_path / "failed.tsv").read_text().splitlines()


def test_failures_with_successes_between_them_never_stop_the_build(monkeypatch, tmp_path):
    # 40 failures in all, but never two in a row: far more than 25, and no broken network.
    ytids = [("gone%07d" if i % 2 == 0 else "good%07d") % i for i in range(80)]
    (chosen, num_failed), failed = failing_fetches(monkeypatch, tmp_path, ytids, per_class=40)
    assert num_failed == 40 and len(failed) == 40
    assert len(chosen[0]) == len(chosen[1]) == 40


def test_24_failures_in_a_row_go_on_and_the_25th_stops(monkeypatch, tmp_path):
    ytids = ["gone%07d" % i for i in range(24)] + ["good0000001"] + ["gone%07d" % i for i in range(100, 124)]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (chosen, num_failed), _ = failing_fetches(monkeypatch, tmp_path / "a", ytids + ["good0000002"], per_class=2)
    assert num_failed == 48 and len(chosen[0]) == 2
    ytids = ["good0000001"] + ["gone%07d" % i for i in range(40)]
    stopped, failed = failing_fetches(monkeypatch, tmp_path / "b", ytids, per_class=10)
    assert isinstance(stopped, make_dataset.InputError)
    assert str(stopped).startswith("25 fetches in a row failed, the last with 'fetch failed: ERROR: Video unavailable'")
    # The first wave: 9 classical failures, then the 10 rock successes reset the count; the next
    # waves fail 25 in a row, and the build stops at the 25th, before marking the rest as gone.
    assert len(failed) == 9 + 25
