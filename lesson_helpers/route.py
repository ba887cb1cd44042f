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
    """The cells run in a Jupyter kernel (its __main__ has no file)."""
    main = sys.modules.get("__main__")
    return "ipykernel" in sys.modules and not getattr(main, "__file__", None)


def lesson_folder():
    """The folder of genre_mlp.py: the script's own, or a notebook's working directory."""
    main = sys.modules.get("__main__")
    return os.path.dirname(os.path.abspath(main.__file__)) if as_script() else os.getcwd()
