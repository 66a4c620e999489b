"""Shared fixtures of the Python package's tests (run by ctest through /usr/bin/python3 -m pytest,
with PYTHONPATH naming build/python; see tests/CMakeLists.txt)."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("HEADSCOPE_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
BUILD_DIR = os.environ.get("HEADSCOPE_BINARY_DIR", os.path.join(SOURCE_DIR, "build"))
SHARED_DIR = os.environ.get("HEADSCOPE_SHARED_DIR", os.path.join(SOURCE_DIR, "..", "shared"))
CLI = os.environ.get("HEADSCOPE_CLI", os.path.join(BUILD_DIR, "app", "cli", "headscope"))
PYTHON = "/usr/bin/python3"

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "reference"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "tools"))

import headscope  # noqa: E402  (after the paths above)

STORIES = os.path.join(SHARED_DIR, "models", "stories260K")
TINY_WORLD = os.path.join(SOURCE_DIR, "data", "models", "tiny-world")
IOI = os.path.join(SOURCE_DIR, "data", "prompts", "ioi.jsonl")
IOI_PROMPT = "When Mary and John went to the store, John gave a drink to"


def run_cli(*args, check=True, env=None):
    """Runs the headscope CLI; returns the CompletedProcess (text)."""
    r = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, env=env, timeout=600)
    if check and r.returncode != 0:
        raise AssertionError(f"headscope {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stderr}")
    return r


def cli_error(*args):
    """The message the CLI prints for a failing command (without 'headscope: error: ')."""
    r = run_cli(*args, check=False)
    assert r.returncode != 0, r.stdout
    marker = "headscope: error: "
    assert marker in r.stderr, r.stderr
    return r.stderr[r.stderr.index(marker) + len(marker):].rstrip("\n")  # a message may span lines


def read_run(path):
    """A `headscope run` file: tokens, logits and every cached activation as numpy arrays."""
    with h5py.File(path, "r") as f:
        acts = {k: f["activations"][k][()] for k in f["activations"]} if "activations" in f else {}
        return f["tokens"][()], f["logits"][()], acts


def reference_tolerance(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


@pytest.fixture(scope="session")
def tiny_world():
    return headscope.load("tiny-world")


@pytest.fixture
def tmp(tmp_path):
    return tmp_path
