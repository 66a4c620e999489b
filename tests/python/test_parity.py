"""From Python, logits and cached activations equal `headscope run --cache`'s HDF5 (<= 1e-6) on
stories260K (llama2.c and GGUF) and on Hugging Face checkpoints of three families, and the
independent references (tests/reference)."""
import os

import pytest
import torch

import headscope
from conftest import STORIES, read_run, reference_tolerance, run_cli

import hf_reference
import llama2c_reference

CACHED = ["hook_embed", "blocks.*.attn.hook_pattern", "blocks.*.attn.hook_z", "blocks.*.hook_resid_post",
          "ln_final.hook_normalized"]


def compare_with_cli(model_arg, m, prompt, tmp, extra=()):
    out = tmp / "run.h5"
    args = ["run", model_arg, "--prompt", prompt, "--out", out, *extra]
    for c in CACHED:
        args += ["--cache", c]
    run_cli(*args)
    tokens, cli_logits, cli_acts = read_run(out)
    py_tokens = m.to_tokens(prompt)
    assert py_tokens.tolist() == tokens.tolist()
    logits, cache = m.run_with_cache(prompt, names_filter=CACHED)
    assert isinstance(logits, torch.Tensor) and logits.shape == cli_logits.shape
    assert reference_tolerance(logits, cli_logits) <= 1e-6
    assert sorted(cache.keys()) == sorted(cli_acts.keys())
    for name, value in cli_acts.items():
        assert isinstance(cache[name], torch.Tensor)
        assert tuple(cache[name].shape) == value.shape, name
        assert reference_tolerance(cache[name], value) <= 1e-6, name
    return tokens[0].tolist(), logits[0].double()


def test_stories260k_llama2c_equals_cli_and_reference(tmp):
    path = os.path.join(STORIES, "stories260K.bin")
    m = headscope.load(path)
    assert m.format == "llama2.c" and m.cfg.n_layers == 5
    ids, logits = compare_with_cli(path, m, "Once upon a time, there was a cat", tmp)
    ref = llama2c_reference.forward_all(llama2c_reference.load(path), ids)
    assert reference_tolerance(logits, ref) < 1e-4


def test_stories260k_gguf_equals_cli_and_reference(tmp):
    path = os.path.join(STORIES, "stories260K-f32.gguf")
    m = headscope.load(path)
    assert m.format == "gguf"
    ids, logits = compare_with_cli(path, m, "Once upon a time, there was a cat", tmp)
    ref = llama2c_reference.forward_all(llama2c_reference.load(os.path.join(STORIES, "stories260K.bin")), ids)
    assert reference_tolerance(logits, ref) < 1e-4


@pytest.mark.parametrize("family,flags", [("gpt2", []), ("gpt_neox", []), ("llama", ["--gqa"])])
def test_hf_families_equal_cli_and_reference(family, flags, tmp):
    folder = tmp / "model"
    g = torch.Generator().manual_seed(5)
    a = hf_reference.flags(flags)
    tensors, config = {"gpt2": hf_reference.make_gpt2, "gpt_neox": hf_reference.make_neox}.get(
        family, lambda g, a: hf_reference.make_llama(g, a, family))(g, a)
    hf_reference.write_checkpoint(str(folder), tensors, config, "F32", 1)
    m = headscope.load(folder)
    assert m.format == "huggingface" and m.cfg.model_type == family
    ids, logits = compare_with_cli(folder, m, "Hello headscope, from Python!", tmp)
    t = hf_reference.load_dir(str(folder))
    ref_logits, ref_patterns = hf_reference.FORWARD[family](t, config, torch.tensor(ids))
    assert reference_tolerance(logits, ref_logits) < 1e-4
    _, cache = m.run_with_cache(torch.tensor([ids]), names_filter="blocks.1.attn.hook_pattern")
    assert reference_tolerance(cache["pattern", 1][0], ref_patterns[1]) < 1e-4
