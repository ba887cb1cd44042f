"""lesson_helpers/sound/audio.py: decoding, mixing, anti-aliased resampling to 400 Hz and the 3-s cut,
checked on small recordings made here."""
import shutil
import subprocess

import numpy as np
import pytest
import soundfile

from lesson_helpers.sound import audio


def tone(freq, seconds, rate, amplitude=0.5):
    return amplitude * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)


def spectrum(x, rate=audio.RATE):
    """Amplitude per frequency (Hz -> peak amplitude), from a Hann-windowed FFT."""
    window = np.hanning(len(x))
    return np.fft.rfftfreq(len(x), 1 / rate), 2 * np.abs(np.fft.rfft(x * window)) / window.sum()


def peak_frequency(x):
    freqs, amps = spectrum(x)
    return freqs[np.argmax(amps)]


# format, subtype, sample rate, channels, how close the decoded peak must be (lossy codecs drift)
FORMATS = [("wav", "PCM_16", 8000, 1, 0.002), ("wav", "FLOAT", 44100, 2, 1e-5),
           ("wav", "PCM_24", 11025, 1, 1e-4), ("flac", "PCM_16", 22050, 2, 0.002),
           ("ogg", "VORBIS", 48000, 1, 0.05), ("mp3", "MPEG_LAYER_III", 16000, 2, 0.05)]


@pytest.mark.parametrize("extension, subtype, rate, channels, tolerance", FORMATS)
def test_formats_decode_at_full_scale_and_become_a_50hz_excerpt(tmp_path, extension, subtype, rate,
                                                                  channels, tolerance):
    signal = np.tile(tone(50, 6, rate, amplitude=0.5)[:, None], (1, channels))
    path = tmp_path / f"tone.{extension}"
    soundfile.write(path, signal, rate, subtype=subtype)

    samples, decoded_rate = audio.load_audio(path)
    assert decoded_rate == rate and samples.dtype == np.float32
    assert samples.ndim == 2 and samples.shape[1] == channels
    assert abs(np.max(np.abs(samples)) - 0.5) < tolerance  # as decoded: not normalised

    excerpt = audio.prepare_file(path)
    assert excerpt.shape == (audio.WIDTH,) and excerpt.dtype == np.float32
    assert peak_frequency(excerpt) == pytest.approx(50, abs=0.5)
    assert abs(np.max(np.abs(excerpt)) - 0.5) < tolerance + 0.01


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_resampling_keeps_50hz_and_removes_300hz_instead_of_folding_it(rate):
    kept = audio.to_mono_400hz(tone(50, 5, rate)[:, None], rate)
    assert len(kept) == 5 * audio.RATE
    freqs, amps = spectrum(kept[200:-200])  # away from the filter's edge transients
    assert freqs[np.argmax(amps)] == pytest.approx(50, abs=0.5)
    assert np.max(amps) == pytest.approx(0.5, rel=0.02)

    above_nyquist = tone(300, 5, rate)
    _, folded = spectrum(above_nyquist[:: rate // audio.RATE][200:-200])
    assert np.max(folded) > 0.3  # the test can tell: dropping samples folds 300 Hz to 100 Hz
    removed = audio.to_mono_400hz(above_nyquist, rate)[200:-200]
    _, amps = spectrum(removed)
    assert np.max(amps) < 0.005 and np.sqrt(np.mean(removed ** 2)) < 0.005


def test_stereo_is_mixed_by_the_mean_of_the_channels():
    left = tone(60, 4, 8000, amplitude=0.4)
    mono = audio.to_mono_400hz(np.stack([left, np.zeros_like(left)], axis=1), 8000)
    assert np.max(np.abs(mono[100:-100])) == pytest.approx(0.2, rel=0.02)


def test_middle_excerpt_and_windows_cut_where_they_say():
    x = np.arange(5000, dtype=np.float32)
    assert np.array_equal(audio.middle_excerpt(x), x[1900:3100])
    assert np.array_equal(audio.middle_excerpt(np.arange(1203.0)), np.arange(1, 1201))  # 3 left over: 1 before
    parts = audio.windows(np.arange(3700, dtype=np.float32))
    assert parts.shape == (3, audio.WIDTH) and parts.dtype == np.float32
    assert parts[0, 0] == 50 and np.array_equal(parts.ravel(), np.arange(50, 3650))
    # the middle window is the middle excerpt: (3700 - 1200) // 2 = 1250 samples in, worked out by hand
    assert np.array_equal(parts[1], np.arange(1250, 2450))
    # two whole windows from 2400 samples (6 s), one from a sample less, each in the middle
    assert np.array_equal(audio.windows(np.arange(2400.0)), np.arange(2400.0).reshape(2, 1200))
    assert np.array_equal(audio.windows(np.arange(2399.0)), np.arange(599.0, 1799.0)[None])
    for cut in (audio.middle_excerpt, audio.windows):
        with pytest.raises(audio.AudioError) as error:
            cut(np.ones(1199, dtype=np.float32))
        # rounded down: a sample short of 3 s must not read "3.00 s"
        assert str(error.value) == ("it lasts 2.99 s, shorter than one excerpt; "
                                    "use a recording of at least 3 s")


def test_offset_and_duration_decode_only_that_part(tmp_path):
    rate = 8000
    signal = tone(40, 10, rate, amplitude=0.01)
    signal[int(5.99 * rate):int(6.01 * rate)] = 0.9  # a 20-ms marker centred on 6 s
    path = tmp_path / "marker.wav"
    soundfile.write(path, signal, rate, subtype="FLOAT")
    x = audio.load_mono_400hz(path, offset=4.0, duration=4.0)
    assert len(x) == 4 * audio.RATE
    assert abs(np.argmax(np.abs(x)) - 2.0 * audio.RATE) <= 4  # 6 s is 2 s into the part


def one_line_error(path):
    with pytest.raises(audio.AudioError) as caught:
        audio.prepare_file(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and ";" in message
    return message


def test_unusable_files_raise_a_one_line_audio_error(tmp_path):
    silent, short, corrupt, broken = (tmp_path / name for name in
                                      ("silent.wav", "short.flac", "corrupt.wav", "nan.wav"))
    soundfile.write(silent, np.zeros(8000 * 5), 8000)
    soundfile.write(short, tone(50, 2.5, 8000), 8000)
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 50)
    with_nan = tone(50, 5, 8000)
    with_nan[1000] = np.nan
    soundfile.write(broken, with_nan, 8000, subtype="FLOAT")
    assert "silent" in one_line_error(silent)
    assert "2.50 s" in one_line_error(short) and "3 s" in one_line_error(short)
    assert "NaN" in one_line_error(broken)
    one_line_error(corrupt)
    assert "no such file" in one_line_error(tmp_path / "missing.wav")
    folder = tmp_path / "album"
    folder.mkdir()
    assert one_line_error(folder) == ("%s: it is a folder; give the audio files in it (WAV, FLAC, OGG, MP3)"
                                      % folder)


def test_without_ffmpeg_an_unknown_format_says_ffmpeg_is_needed(tmp_path, monkeypatch):
    path = tmp_path / "video.webm"
    path.write_bytes(b"\x1aE\xdf\xa3 not really a webm")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert "apt-get install ffmpeg" in one_line_error(path)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg command")
def test_ffmpeg_decodes_what_soundfile_cannot(tmp_path):
    source, converted = tmp_path / "tone.wav", tmp_path / "tone.m4a"
    soundfile.write(source, tone(50, 6, 44100, amplitude=0.5), 44100)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(source), str(converted)], check=True)
    with pytest.raises(RuntimeError):
        soundfile.info(str(converted))  # so this really goes through ffmpeg
    samples, rate = audio.load_audio(converted)
    assert rate == 44100 and samples.dtype == np.float32
    excerpt = audio.prepare_file(converted)
    assert peak_frequency(excerpt) == pytest.approx(50, abs=0.5)
    assert np.max(np.abs(excerpt)) == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("decoder", ["ffmpeg", "soundfile alone"])
def test_an_undecodable_file_is_named_once(tmp_path, monkeypatch, decoder):
    if decoder == "ffmpeg" and shutil.which("ffmpeg") is None:
        pytest.skip("needs the ffmpeg command")
    if decoder != "ffmpeg":
        monkeypatch.setattr(shutil, "which", lambda name: None)
    path = tmp_path / "cut.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    message = one_line_error(path)
    assert message.startswith("%s: " % path) and message.count(path.name) == 1, message
    # The decoder's own reason stays, without the name it repeated.
    assert ("Invalid data found" in message) if decoder == "ffmpeg" else ("soundfile cannot read it (" in message)


def test_mp3_decodes_without_ffmpeg(tmp_path, monkeypatch):
    # No ffmpeg anywhere: the MP3 must come through soundfile (libsndfile 1.1 and later).
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    monkeypatch.setattr(audio.subprocess, "run", lambda *args, **kwargs: pytest.fail("ffmpeg was run"))
    path = tmp_path / "tone.mp3"
    soundfile.write(path, tone(50, 6, 16000, amplitude=0.5), 16000, subtype="MPEG_LAYER_III")
    assert peak_frequency(audio.prepare_file(path)) == pytest.approx(50, abs=0.5)
