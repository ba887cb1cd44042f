"""Which way a lesson runs: as the script (`python genre_mlp.py`, `python genre_cnn.py`), in a
notebook kernel, or imported (tests, the benchmark, or genre_cnn.py importing the first lesson's
pieces), where it must run and print nothing. Standard library only."""
import os
import sys

SCRIPT_NAMES = ("genre_mlp.py", "genre_cnn.py")


def as_script():
    """A lesson is the program being run (its cells are __main__, from a file)."""
    main = sys.modules.get("__main__")
    return os.path.basename(getattr(main, "__file__", None) or "") in SCRIPT_NAMES


def in_kernel():
    """The cells run as a notebook's: in a Jupyter kernel, whose __main__ is no file; not
    `python -c "import genre_mlp"`, whose __main__ is no file either."""
    main = sys.modules.get("__main__")
    importing = any(name[:-3] in sys.modules for name in SCRIPT_NAMES)  # `import genre_cnn` has begun
    return not getattr(main, "__file__", None) and ("ipykernel" in sys.modules or not importing)


def lesson_folder():
    """The lessons' folder: the script's own, or a notebook's working directory."""
    main = sys.modules.get("__main__")
    return os.path.dirname(os.path.abspath(main.__file__)) if as_script() else os.getcwd()
