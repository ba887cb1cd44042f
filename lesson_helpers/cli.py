"""argparse for this project's commands: a bad option gets one line, not the whole usage; and the
command that installs lesson_helpers' own packages."""
import argparse
import os
import shlex
import sys

REQUIREMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements.txt")


def install_hint():
    """pip for this Python, the requirements file by its absolute path: it works from any folder."""
    return "%s -m pip install -r %s" % (shlex.quote(sys.executable), shlex.quote(REQUIREMENTS))


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # The usage is one --help away; the line names the problem, and the option.
        self.exit(2, "error: %s; see %s --help\n" % (message, self.prog))
