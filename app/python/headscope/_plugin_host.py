"""Loads a Python analysis plugin file for a host (the CLI, the GUI, or headscope itself): called
by headscope's bridge library with the host's registry and report, so the file's analyses join
the same registry as every other analysis."""
import importlib.util
import itertools
import os
import sys
import traceback

from . import _core
from .analysis import Analysis

_counter = itertools.count()


def describe_error(exc, path, tb=None):
    """'FILE, line N: Type: message' (the innermost line of FILE, or of the error itself), then the
    traceback without headscope's own loading frames."""
    if tb is not None and exc.__traceback__ is None:
        exc = exc.with_traceback(tb)
    path = os.path.abspath(path) if path else ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith("<frozen") and os.path.abspath(f.filename) != os.path.abspath(__file__)]
    line, where, message = None, path, str(exc)
    if isinstance(exc, SyntaxError) and exc.filename:
        line, where, message = exc.lineno, exc.filename, exc.msg
    else:
        mine = [f for f in frames if path and os.path.abspath(f.filename) == path]
        frame = (mine or frames or [None])[-1]
        if frame is not None:
            line, where = frame.lineno, frame.filename
    head = f"{where}, line {line}: " if line is not None else (f"{where}: " if where else "")
    text = "".join((["Traceback (most recent call last):\n"] + traceback.format_list(frames) if frames else [])
                   + traceback.format_exception_only(type(exc), exc)).rstrip()
    return f"{head}{type(exc).__name__}: {message}\n{text}"


def _exec_file(path):
    name = f"headscope_plugin_{next(_counter)}_{os.path.splitext(os.path.basename(path))[0]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(os.path.abspath(path))
    sys.modules[name] = module
    sys.path.insert(0, folder)  # its own helpers (_helpers.py next to it) import by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        try:
            sys.path.remove(folder)
        except ValueError:
            pass
    return module


def analysis_classes(module):
    return [c for c in vars(module).values()
            if isinstance(c, type) and issubclass(c, Analysis) and c is not Analysis
            and c.__module__ == module.__name__]


def load_into(registry_address, path, report_address, identity):
    """Executes the plugin file and registers its headscope.Analysis subclasses; any failure is
    written to the report (file, line, traceback) and registers nothing."""
    classes, error, name, version = [], "", os.path.splitext(os.path.basename(path))[0], ""
    try:
        if identity != _core._core_identity():
            raise ImportError(
                f"the headscope package at {os.path.dirname(os.path.abspath(__file__))} is built against another "
                "headscope core than the program loading the plugin; use the package of the same build")
        module = _exec_file(path)
        name = getattr(module, "PLUGIN_NAME", name)
        version = str(getattr(module, "__version__", ""))
        classes = analysis_classes(module)
        if not classes:
            error = (f"{path}: defines no analysis (a subclass of headscope.Analysis with an id and a run(ctx) "
                     "method)")
    except BaseException as e:  # noqa: B902  (a plugin's import may raise anything, SystemExit included)
        error = describe_error(e, path)
    _core._register_plugin(registry_address, report_address, os.path.abspath(path), classes, name, version, error)
