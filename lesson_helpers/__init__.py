"""What genre_mlp.py calls while it runs and does not teach, grouped by what it is for:
the data, its fetch and the loudness baseline (data), the command line with its options, model
files and one-line errors (command_line), audio files and --predict (sound), the pictures
(drawing), and the notebook route: make ipynb, make notebook, make html and a hosted
kernel's install (notebook_route). Atomic writes (files) serve every package of the
project and stay at the top, beside which way the cells run: as the script, in a
notebook, or imported (route), and `make exercises` (exercises), which runs the lesson
again for the record its Exercises' answers quote. A reader of the lesson meets each through a name that says
what it does. None imports Theano or genre_mlp; an extra package (matplotlib, soundfile,
pydot, nbclient) loads only where its feature is used.
"""
