"""Building the lesson's data file (sample_3s_400Hz.npz.README says what it holds):
make_dataset.py checks a file (`check`), downloads the lesson's (`download`, `make data`,
through lesson_helpers/data/download.py, which the lesson itself uses when its file is absent), or builds one from folders of recordings (`folders`) or from
AudioSet (`audioset`). It uses lesson_helpers' data file rules and audio decoding, so a
file it writes is one genre_mlp.py accepts. Training the lesson needs none of it.
"""
