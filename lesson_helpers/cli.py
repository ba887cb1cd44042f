"""argparse for this project's commands: a bad option gets one line, not the whole usage."""
import argparse


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # The usage is one --help away; the line names the problem, and the option.
        self.exit(2, "error: %s; see %s --help\n" % (message, self.prog))
