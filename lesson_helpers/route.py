"""Which way the lesson runs: as the script (`python genre_mlp.py`), in a notebook kernel,
or imported (tests, the benchmark), where it must run and print nothing. Standard library only."""
import os
import sys

SCRIPT_NAME = "genre_mlp.py"


def as_script():
    """genre_mlp.py is the program being run (its cells are __main__, from a file)."""
    main = sys.modules.get("__main__")
    return os.path.basename(getattr(main, "__file__", None) or "") == SCRIPT_NAME


def in_kernel():
    """The cells run as a notebook's: in a Jupyter kernel, whose __main__ is no file, and not as
    `import genre_mlp` (which a notebook never does before its first cell)."""
    main = sys.modules.get("__main__")
    return not getattr(main, "__file__", None) and "genre_mlp" not in sys.modules


def lesson_folder():
    """The folder of genre_mlp.py: the script's own, or a notebook's working directory."""
    main = sys.modules.get("__main__")
    return os.path.dirname(os.path.abspath(main.__file__)) if as_script() else os.getcwd()
