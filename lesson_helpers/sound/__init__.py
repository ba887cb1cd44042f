"""Audio in and out of the lesson: decoding a file, making it mono, resampling it to 400 Hz
with an anti-aliasing filter and cutting 3-s excerpts (audio), classifying files with a
trained model for --predict, the middle 3 s deciding and a vote over a longer file's
windows (predict), and the notebook's players, which resample an excerpt to a rate a
browser plays and write the lesson's WAV files into one folder (listen). soundfile is
imported only where a file is read or written.
"""
