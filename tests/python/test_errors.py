"""Errors become Python exceptions of headscope.Error's hierarchy, with the CLI's messages."""

import pytest

import headscope
from conftest import IOI_PROMPT, cli_error


def test_exception_hierarchy():
    for name in ("FormatError", "ConfigError", "UsageError", "IoError", "ResourceError", "Cancelled", "AnalysisError"):
        assert issubclass(getattr(headscope, name), headscope.Error)
    assert issubclass(headscope.UsageError, ValueError)
    assert issubclass(headscope.IoError, OSError)
    assert issubclass(headscope.ResourceError, MemoryError)


def test_missing_file_same_message_as_cli(tmp):
    missing = str(tmp / "nothing-here.gguf")
    with pytest.raises(headscope.IoError) as e:
        headscope.load(missing)
    assert str(e.value) == cli_error("info", missing)


def test_pickle_checkpoint_refused_with_the_cli_message(tmp):
    folder = tmp / "old"
    folder.mkdir()
    (folder / "pytorch_model.bin").write_bytes(b"PK\x03\x04 not really")
    (folder / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(headscope.Error) as e:
        headscope.load(folder)
    assert str(e.value) == cli_error("info", folder)
    assert "safetensors" in str(e.value)


def test_truncated_gguf_is_a_format_error_naming_the_file(tmp):
    bad = tmp / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 5)
    with pytest.raises(headscope.FormatError) as e:
        headscope.load(bad)
    assert e.value.file == str(bad) and e.value.problem
    assert str(e.value) == cli_error("info", bad)


def test_bad_intervention_and_memory_budget_same_as_cli(tiny_world):
    with pytest.raises(headscope.UsageError) as e:
        tiny_world(IOI_PROMPT, intervene="L1H4=explode")
    assert str(e.value) == cli_error("run", "--prompt", IOI_PROMPT, "--intervene", "L1H4=explode", "--out", "/tmp/x.h5")
    with pytest.raises(headscope.ResourceError) as e:
        headscope.load("tiny-world", max_memory_gb=1e-6)
    assert str(e.value) == cli_error("run", "--prompt", "x", "--max-memory", "1e-6", "--out", "/tmp/x.h5")


def test_unknown_analysis_lists_the_known_ones(tiny_world):
    with pytest.raises(headscope.UsageError, match="unknown analysis 'nope' .known: .*head_attribution"):
        headscope.analyze(tiny_world, "nope", prompt="x")
    with pytest.raises(headscope.UsageError, match="head_intervention"):
        headscope.analyze(tiny_world, "head_intervention", prompt="x", scale="not a number")
