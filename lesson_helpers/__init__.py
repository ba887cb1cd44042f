"""What genre_mlp.py imports while it runs, and nothing else: the data file's rules
(data_file), which data a run uses and the fetch of an absent file (lesson_data, download,
which `make data` runs too), the generated stand-in data (stand_in), model files for --save and --load
(model_file), --predict on audio files (predict, audio), the learning curve and the
pictures (curve, pictures), the loudness baseline (loudness), weights on 64-byte
boundaries (aligned), atomic writes (files), one-line option errors (cli), Ctrl-C's one
line (stopped), and the notebook's package install (notebook) and runner
(lesson_notebook, `make notebook`); `make exercises` (exercises) runs the lesson again for
the record its Exercises' answers quote.
A reader of the lesson meets each where genre_mlp.py calls it. None imports Theano or
genre_mlp; an extra package (matplotlib, soundfile, nbclient) loads only where its
feature is used.
"""
