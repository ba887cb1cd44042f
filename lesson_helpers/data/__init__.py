"""The lesson's data and what is computed from it without Theano: the data file and its
rules (data_file: which arrays, which shapes, the one-line error a bad file gets, used by
genre_mlp.py and by `make_dataset.py check` alike), which data a run opens (lesson_data: --data,
--stand-in, the lesson's file or its later name, else that file fetched as `make data`
fetches it (download), and the stand-in when Drive cannot be had), the generated stand-in the lesson
trains on when the recordings are absent (stand_in), the loudness baseline every run
ends with and --same-loudness's RMS (loudness), and arrays placed on 64-byte boundaries
so that the BLAS reads the weights at its best speed (aligned). Plain NumPy throughout.
"""
