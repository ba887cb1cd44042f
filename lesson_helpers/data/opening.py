"""Which data the lesson trains on: the file --data names; else the lesson's own file beside
genre_mlp.py, or the same file under the later name its author published it under; else the
generated stand-in, said so in three lines."""
import os

from lesson_helpers.data.stand_in import make_stand_in


def open_data(server, path, seed, candidates, dtype, log=print):
    """`server` (genre_mlp's DataServer) for `path`; with none, for the first of `candidates`
    (the lesson's file, then its later name) that exists; else for the stand-in made from `seed`.
    Returns it, and whether it serves the stand-in."""
    if path is not None:
        return server(path, seed), False
    for candidate in candidates:
        if os.path.exists(candidate):
            if candidate != candidates[0]:
                log("Using %s (the lesson's data file under its later name)." % candidate)
            return server(candidate, seed), False
    log("The lesson's data file %s was not found (`make data` downloads it; README \"The data\").\n"
        "Training on a generated stand-in of the same shape instead: 8000 + 2000 excerpts of\n"
        "sustained chords (classical) and drums with bass (rock), made from seed %d.\n"
        % (os.path.basename(candidates[0]), seed))
    return server(seed=seed, arrays=make_stand_in(seed, dtype=dtype)), True
