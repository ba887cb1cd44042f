"""The lesson's pictures, each drawn with matplotlib or Graphviz only where it is asked for:
random excerpts of each class, the most confident mistakes (pictures), the learning curve
and its CSV file (curve), and the compiled graph of a Theano function drawn by
theano.printing.pydotprint (graph: the drawing itself happens in genre_mlp.py, which owns
Theano; this module only finds `dot` and writes the file atomically). A picture is shown
inline in a notebook and, where an option names a file, written there atomically.
"""
