"""Lets Theano 1.0.5's setup.py run on Python 3.12 and later; used only while pip builds it.

Its versioneer reads setup.cfg through configparser.SafeConfigParser and readfp(),
both removed in Python 3.12 (they were old names for ConfigParser and read_file).
The Makefile puts this folder on PYTHONPATH for that one pip command, with
--no-build-isolation so that pip's build process keeps PYTHONPATH; Python then
imports this module at start-up. Theano itself never needs it at run time.
"""
import configparser

if not hasattr(configparser, "SafeConfigParser"):
    class SafeConfigParser(configparser.ConfigParser):
        readfp = configparser.ConfigParser.read_file

    configparser.SafeConfigParser = SafeConfigParser
