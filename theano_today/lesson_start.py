"""prepare_theano_for_today(), the one call in each lesson's first cell: everything that must
happen before the lesson imports Theano, and that the lesson does not teach.

As the script: --help, or an option it cannot take, is answered before Theano loads (a
second or more); a Ctrl-C while Theano loads gets one line; and the project's own errors
and Ctrl-C end in one line and exit status 1 or 130 (lesson_helpers/command_line/errors.py).
In a notebook kernel without the lesson's packages (a hosted one, such as Colab's), they
are installed into the kernel's Python first. Then, in every case, Theano is imported
with the flags, the NumPy 2 glue and the BLAS of theano_setup. Imported (by the tests or
the benchmark), it prints nothing and changes no hook.
"""
import sys

from lesson_helpers import route

BLAS_NAME = None  # what theano_setup found to link, once Theano is imported
_theano = []      # Theano, once prepared: genre_cnn.py's first cell prepares it, then genre_mlp's finds it


def prepare_theano_for_today():
    global BLAS_NAME
    if _theano:
        return _theano[0]
    script = route.as_script()
    if route.in_kernel():
        from lesson_helpers.notebook_route.notebook import install_missing_packages
        install_missing_packages()  # only where the kernel cannot import them yet
    if script:
        from lesson_helpers.command_line import errors, options, stopped
        options.answer_before_theano(sys.modules["__main__"].__file__, sys.argv[1:])
        stopped.while_loading("loading Theano")
    from theano_today.theano_setup import SetupError, import_theano
    try:
        theano, BLAS_NAME = import_theano()
    except SetupError as error:
        sys.exit("error: %s" % error)
    if script:
        stopped.loaded()
        errors.one_line_for_the_script()
    _theano.append(theano)
    return theano


def device_name():
    """Where the work runs: cpu, or the gpuarray context Theano opened (e.g. cuda0: <name>)."""
    import theano
    from theano_today import theano_setup
    if theano.config.device.startswith(("cuda", "opencl")) and theano.gpuarray.pygpu_activated:
        if theano.config.device.startswith("cuda") and theano_setup.CUDA_LIBRARIES:
            return "%s: %s" % (theano.config.device, theano_setup.CUDA_LIBRARIES)  # names the libraries too
        return "%s: %s" % (theano.config.device, theano.gpuarray.type.get_context(None).devname)
    return "cpu"


def where_it_runs():
    import theano
    return "Theano %s on %s, floatX=%s, BLAS: %s" % (theano.__version__, device_name(), theano.config.floatX,
                                                     BLAS_NAME)
