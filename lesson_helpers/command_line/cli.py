"""argparse for this project's commands: a bad option gets one line, not the whole usage; and the
command that installs lesson_helpers' own packages."""
import argparse
import difflib
import os
import shlex
import sys

REQUIREMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "requirements.txt")


def install_hint(*requirements):
    """pip for this Python, the requirements files (lesson_helpers' by default) by their absolute
    paths: it works from any folder."""
    return " ".join([shlex.quote(sys.executable), "-m pip install"] +
                    ["-r " + shlex.quote(str(path)) for path in requirements or (REQUIREMENTS,)])


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # argparse would take --same-loudnes for --same-loudness unasked; a typo is named instead.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.commands = []  # the subcommands' parsers: their options are known too
        self.words = []     # the command line parse_args() was given

    def add_subparsers(self, **kwargs):
        action = super().add_subparsers(**kwargs)
        self.commands.append(action.choices)
        return action

    def parse_args(self, args=None, namespace=None):
        self.words = list(sys.argv[1:] if args is None else args)  # for closest(): the command given
        return super().parse_args(args, namespace)

    def error(self, message):
        # The usage is one --help away; the line names the problem, and the option.
        self.exit(2, "error: %s%s; see %s --help\n" % (message, self.closest(message), self.prog))

    def closest(self, message):
        """' (did you mean --x?)' for the first unknown option in `message` that is near a known one."""
        if not message.startswith("unrecognized arguments: "):
            return ""  # other messages name known options, in their own words
        # This parser's options, and those of the subcommand given (its first word that names one).
        parsers = [self] + [next((commands[word] for word in self.words if word in commands), None)
                            for commands in self.commands]
        parsers = [parser for parser in parsers if parser is not None]
        known = [name for parser in parsers for name in parser._option_string_actions if name.startswith("--")]
        for word in message.split()[2:]:
            name = word.split("=")[0]
            if name.startswith("--") and name not in known:
                near = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
                if near:
                    return " (did you mean %s?)" % near[0]
        return ""
