"""The script's command line, its files and its one-line errors: the options and every
check made on them before Theano loads (options, on the argparse of cli, which turns a
bad option into one line), the model files --save and --load read and write (model_file),
Ctrl-C's one line and exit status 130 (stopped), and the hook that turns the project's
own errors into one line with exit status 1, so that the lesson's cells need no
try/except (errors). The lesson meets them only through genre_mlp.py's first cell and a
few named calls; none of it is what the lesson teaches.
"""
