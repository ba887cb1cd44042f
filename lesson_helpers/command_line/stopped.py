"""Ctrl-C: one line on stderr saying where the work stopped and what was and was not
written, then exit status 130 (128 + SIGINT, what a shell reports for a command Ctrl-C
ended), and no traceback. Every command of the project ends a Ctrl-C through here.
"""
import signal
import sys

EXIT_STATUS = 130


def innermost(error, names):
    """The innermost frame of the interrupted call stack whose function is in `names`, or None."""
    found, trace = None, error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_name in names:
            found = trace.tb_frame
        trace = trace.tb_next
    return found


def where(error, places):
    """Where a KeyboardInterrupt struck: `places` maps a function's name to a phrase, or to a
    function of that frame's local variables that returns one; the innermost match wins."""
    frame = innermost(error, places)
    if frame is None:
        return "before it finished"
    place = places[frame.f_code.co_name]
    return place(frame.f_locals) if callable(place) else place


def written_line(written, not_written):
    """'nothing written', or what was and what was not ("wrote a.npz; b.csv not written")."""
    parts = ["wrote %s" % ", ".join(written)] if written else []
    if not_written:
        parts.append("%s not written" % ", ".join(not_written))
    return "; ".join(parts) or "nothing written"


def exit_stopped(line):
    """Print 'stopped by Ctrl-C <line>' as the one line on stderr, and exit with status 130."""
    sys.stdout.flush()
    print("stopped by Ctrl-C %s" % line, file=sys.stderr)
    sys.exit(EXIT_STATUS)


_loading = []  # the handler while_loading() set, if it set one


def while_loading(what):
    """Until loaded(), a Ctrl-C ends the script in one line: 'while <what>; nothing written'.
    (A KeyboardInterrupt there would end in a traceback through the imports.) A SIGINT the
    shell ignores (a background job) stays ignored."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        _loading.append(lambda number, frame: exit_stopped("while %s; nothing written" % what))
        signal.signal(signal.SIGINT, _loading[-1])


def loaded():
    """Ctrl-C raises KeyboardInterrupt again, for the script's own steps to report."""
    if _loading and signal.getsignal(signal.SIGINT) is _loading[-1]:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class Stage(object):
    """Where the script is, told by the steps themselves as they start (the lesson's cells, and
    the helpers that read, draw and write), and the files it was asked for and has written:
    what a Ctrl-C's one line says."""

    def __init__(self):
        self.place, self.update, self.asked, self.written = "before it finished", None, [], []

    def now(self, place):
        self.place, self.update = place, None

    def at_update(self, update, num_updates):
        self.update = (update, num_updates)  # formatted only if a Ctrl-C comes: the loop stays fast

    def wrote(self, path):
        self.written.append(path)

    def line(self):
        place = "at update %d of %d" % self.update if self.update else self.place
        return "%s; %s" % (place, written_line(self.written, [path for path in self.asked
                                                                if path not in self.written]))


stage = Stage()
