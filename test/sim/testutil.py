"""Shared bits of the simulator's own tests: the data directory and the runner (test/lib/pyrun.py:
every TestCase of the module, ending with "N passed, N failed, N skipped")."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(os.path.dirname(HERE), "data")


sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "test", "lib"))
import pyrun  # noqa: E402


def run_main(module_name="__main__"):
    pyrun.run_module(module_name)
