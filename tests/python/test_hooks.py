"""Hooks from Python: a hook that zeroes a head's z equals `--intervene L1H0=zero`; a wrong shape
raises naming the hook, the point and both shapes; a raising hook propagates its own exception;
scoped hooks are removed; activations cross without copies."""
import pytest
import torch

import headscope
from conftest import IOI_PROMPT, read_run, reference_tolerance, run_cli


def zero_head_0(z, hook):
    out = z.clone()
    out[:, :, 0] = 0
    return out


def test_python_hook_zeroing_a_head_equals_cli_intervene(tiny_world, tmp):
    out = tmp / "edit.h5"
    run_cli("run", "--prompt", IOI_PROMPT, "--intervene", "L1H0=zero", "--out", out)
    _, cli_logits, _ = read_run(out)
    hooked = tiny_world.run_with_hooks(IOI_PROMPT, fwd_hooks=[("blocks.1.attn.hook_z", zero_head_0)])
    assert reference_tolerance(hooked, cli_logits) <= 1e-6
    clean = tiny_world(IOI_PROMPT)
    assert reference_tolerance(clean, cli_logits) > 1e-3  # the edit matters
    # The same edit by spec string, three ways.
    assert reference_tolerance(tiny_world(IOI_PROMPT, intervene="L1H0=zero"), cli_logits) <= 1e-6
    with tiny_world.hooks(intervene=["L1H0=zero"]):
        assert reference_tolerance(tiny_world(IOI_PROMPT), cli_logits) <= 1e-6
    with tiny_world.add_interventions("1.0=zero"):
        assert reference_tolerance(tiny_world(IOI_PROMPT), cli_logits) <= 1e-6
    assert torch.equal(tiny_world(IOI_PROMPT), clean)  # scopes ended: nothing left behind


def test_in_place_edit_and_transformerlens_name_filters(tiny_world):
    def in_place(z, hook):
        assert hook.name == "blocks.1.attn.hook_z" and hook.layer() == 1
        z[:, :, 0] = 0  # TransformerLens habit: edit in place, return nothing

    a = tiny_world.run_with_hooks(IOI_PROMPT, fwd_hooks=[(lambda name: name.endswith("1.attn.hook_z"), in_place)])
    b = tiny_world.run_with_hooks(IOI_PROMPT, fwd_hooks=[("blocks.1.attn.hook_z", zero_head_0)])
    assert torch.equal(a, b)
    seen = []
    tiny_world.run_with_hooks(IOI_PROMPT, fwd_hooks=[("blocks.*.attn.hook_pattern", lambda p, h: seen.append(h.name))])
    assert seen == [f"blocks.{l}.attn.hook_pattern" for l in range(tiny_world.cfg.n_layers)]


def test_wrong_shape_names_the_hook_and_both_shapes(tiny_world):
    def first_head_only(z, hook):
        return z[:, :, 0]

    with pytest.raises(headscope.UsageError) as e:
        tiny_world.run_with_hooks(IOI_PROMPT, fwd_hooks=[("blocks.1.attn.hook_z", first_head_only)])
    T = tiny_world.to_tokens(IOI_PROMPT).shape[1]
    message = str(e.value)
    assert "first_head_only" in message and "blocks.1.attn.hook_z" in message
    assert f"[1, {T}, 16]" in message and f"[1, {T}, 8, 16]" in message
    assert isinstance(e.value, ValueError)
    with pytest.raises(headscope.UsageError, match="returned a str"):
        tiny_world.run_with_hooks(IOI_PROMPT, fwd_hooks=[("hook_embed", lambda x, h: "no")])


def test_a_raising_hook_propagates_its_exception(tiny_world):
    class Stop(Exception):
        pass

    def stop(x, hook):
        raise Stop(hook.name)

    clean = tiny_world(IOI_PROMPT)
    with pytest.raises(Stop, match="blocks.2.hook_resid_pre"):
        tiny_world.run_with_hooks(IOI_PROMPT, fwd_hooks=[("blocks.2.hook_resid_pre", stop)])
    with pytest.raises(Stop):
        with tiny_world.hooks([("blocks.0.hook_mlp_out", stop)]):
            tiny_world(IOI_PROMPT)
    assert torch.equal(tiny_world(IOI_PROMPT), clean)  # the hooks are gone


def test_cache_access_and_storage(tiny_world):
    logits, cache = tiny_world.run_with_cache(IOI_PROMPT, names_filter=lambda n: n.endswith("hook_pattern"))
    assert len(cache) == tiny_world.cfg.n_layers
    assert cache["pattern", 0] is not None and torch.equal(cache["pattern", 0], cache["blocks.0.attn.hook_pattern"])
    assert cache["pattern", 0].data_ptr() == cache["blocks.0.attn.hook_pattern"].data_ptr()  # no copy
    assert ("pattern", 3) in cache and ("z", 0) not in cache
    with pytest.raises(headscope.UsageError, match="not in the cache"):
        cache["z", 0]
    _, full = tiny_world.run_with_cache(IOI_PROMPT)
    assert "hook_embed" in full and torch.equal(full["embed"], full["hook_embed"])
    assert torch.allclose(full["pattern", 2].sum(-1), torch.ones(1, 8, logits.shape[1]))
    with pytest.raises(headscope.UsageError, match="no hook point matches"):
        tiny_world.run_with_cache(IOI_PROMPT, names_filter="blocks.9.attn.hook_q")
    # A tensor a hook keeps is the activation itself.
    kept = []
    tiny_world.run_with_hooks(IOI_PROMPT, fwd_hooks=[("blocks.3.attn.hook_pattern", lambda p, h: kept.append(p))])
    assert torch.equal(kept[0], full["pattern", 3])


def test_batches_and_token_helpers(tiny_world):
    texts = ["When Mary and John went", "When John and Mary went"]
    tokens = tiny_world.to_tokens(texts)
    assert tokens.shape[0] == 2 and tokens.dtype == torch.int64
    batch = tiny_world(texts)
    for i, t in enumerate(texts):
        # OpenBLAS picks kernels by matrix shape: a batch of 2 rounds differently in float32
        # (logits of magnitude ~20 agree to a few ulps, ~1e-5).
        assert reference_tolerance(batch[i], tiny_world(t)[0]) < 1e-4
    with pytest.raises(headscope.UsageError, match="different lengths"):
        tiny_world.to_tokens(["a", "When Mary and John went to"])
    strs = tiny_world.to_str_tokens(IOI_PROMPT)
    assert len(strs) == tiny_world.to_tokens(IOI_PROMPT).shape[1] and strs[0] == "<|bos|>"
    assert "".join(strs[1:]) == IOI_PROMPT
    assert tiny_world.to_string(tiny_world.to_tokens(IOI_PROMPT)[0, 1:]) == IOI_PROMPT
    assert tiny_world.tokenizer.decode(tiny_world.tokenizer.encode(" Mary")) == " Mary"
    loss = tiny_world(IOI_PROMPT, return_type="loss")
    assert loss.dim() == 0 and 0 < loss.item() < 20


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_generation_equals_the_cli(temperature):
    import os
    from conftest import STORIES
    path = os.path.join(STORIES, "stories260K.bin")
    m = headscope.load(path)
    prompt = "Once upon a time"
    cli = run_cli("generate", path, "--prompt", prompt, "--max-tokens", 30, "--temperature", temperature, "--seed", 3)
    assert m.generate(prompt, max_new_tokens=30, temperature=temperature, seed=3) == cli.stdout.rstrip("\n")
    ids = run_cli("generate", path, "--prompt", prompt, "--max-tokens", 30, "--temperature", temperature, "--seed", 3,
                  "--ids", "--intervene", "L1H0=zero").stdout.split()
    tokens = m.generate(prompt, max_new_tokens=30, temperature=temperature, seed=3, intervene="L1H0=zero",
                        return_type="tokens")
    prompt_length = m.to_tokens(prompt).shape[1]
    assert tokens[0, prompt_length:].tolist() == [int(i) for i in ids]
