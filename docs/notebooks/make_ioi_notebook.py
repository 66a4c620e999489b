#!/usr/bin/python3
"""Writes ioi_circuit.ipynb (the cells below) without outputs; tests execute it (tests/python/test_notebook.py).
Edit the cells here and run this script again, rather than editing the .ipynb by hand."""
import os

import nbformat

md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
cells = [
    md("""# Tiny-world's IOI circuit, from Python

This notebook walks through indirect object identification (IOI) in headscope's built-in
`tiny-world` model (4 layers, 8 query / 4 kv heads, trained by `headscope train`): given
*"When Mary and John went to the store, John gave a drink to"*, the model should say *" Mary"*,
the name that was **not** repeated. We load the model, cache its activations, look at attention
patterns, attribute the answer to heads (direct logit attribution), ablate every head with a
sweep, edit one head with a hook, and finish with an analysis written in Python.

Run it with Debian's Python after building headscope (`scripts/build.sh`):
`PYTHONPATH=build/python jupyter nbconvert --execute --to notebook docs/notebooks/ioi_circuit.ipynb`,
or open it in Jupyter with that `PYTHONPATH`."""),
    code("""import os, sys
# The package is built into build/python; make this notebook work from a checkout without PYTHONPATH too.
for candidate in ("../../build/python", "build/python"):
    if os.path.isdir(os.path.join(candidate, "headscope")) and os.path.abspath(candidate) not in sys.path:
        sys.path.insert(0, os.path.abspath(candidate))
import torch
import matplotlib.pyplot as plt  # inline in Jupyter; no display needed
import headscope
torch.set_grad_enabled(False)
headscope.__version__"""),
    md("## Load the model\n`headscope.load` takes a Hugging Face folder, a `.gguf` file, a llama2.c `.bin` or a built-in name."),
    code("""m = headscope.load("tiny-world")
print(m)
m.cfg"""),
    code("""prompt = "When Mary and John went to the store, John gave a drink to"
print(m.to_str_tokens(prompt))
logits = m(prompt)                       # [batch, pos, d_vocab]
top = logits[0, -1].softmax(-1).topk(5)
[(m.to_string([int(i)]), round(float(p), 3)) for p, i in zip(top.values, top.indices)]"""),
    md("""## The logit difference we explain
The IOI metric: logit(" Mary") − logit(" John") at the last position."""),
    code("""mary, john = m.to_single_token(" Mary"), m.to_single_token(" John")
def logit_diff(logits):
    return float(logits[0, -1, mary] - logits[0, -1, john])
clean_diff = logit_diff(logits)
clean_diff"""),
    md("## Cache activations and plot attention patterns\n`run_with_cache` returns torch tensors that share memory with what the forward computed."),
    code("""logits, cache = m.run_with_cache(prompt, names_filter="blocks.*.attn.hook_pattern")
tokens = m.to_str_tokens(prompt)
fig, axes = plt.subplots(1, m.cfg.n_layers, figsize=(4 * m.cfg.n_layers, 4))
for layer, ax in enumerate(axes):
    # Attention of the last position (where the answer is predicted) for every head of the layer.
    ax.imshow(cache["pattern", layer][0, :, -1, :].numpy(), cmap="viridis", vmin=0, vmax=1)
    ax.set_title(f"layer {layer}: last query")
    ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=6)
    ax.set_ylabel("head")
fig.tight_layout()"""),
    md("""## Direct logit attribution over the IOI prompt set
`headscope.analyze` runs the same analyses as `headscope analyze`; items come back as tensors with
their labels. `head_attribution` needs answers and alternatives: the prompt set has them."""),
    code("""ioi = headscope.builtin_prompts_path("ioi")
r = headscope.analyze(m, "head_attribution", prompts=ioi)
print("\\n".join(r.summary[:3]))
dla = r["dla_heads"]
fig, ax = plt.subplots(figsize=(5, 3))
im = ax.imshow(dla.values.numpy(), cmap="RdBu", vmin=-dla.values.abs().max(), vmax=dla.values.abs().max())
ax.set_xlabel("head"); ax.set_ylabel("layer"); ax.set_title(dla.title); fig.colorbar(im)
dla.top(5)"""),
    md("""## Ablate every head: a sweep
`HeadSweep` caches the residual stream once and re-runs only the layers from the edited one on;
each candidate zeroes one head's output. The drop in logit difference ranks heads by necessity."""),
    code("""sweep = headscope.HeadSweep(m, prompt)
ablated = sweep.run("all", "zero")           # [n_heads_total, 1, 1, d_vocab] at the last position
drop = torch.tensor([clean_diff - float(l[0, 0, mary] - l[0, 0, john]) for l in ablated])
drop = drop.view(m.cfg.n_layers, m.cfg.n_heads)
fig, ax = plt.subplots(figsize=(5, 3))
im = ax.imshow(drop.numpy(), cmap="Reds"); ax.set_xlabel("head"); ax.set_ylabel("layer")
ax.set_title("logit-difference drop when the head is zeroed"); fig.colorbar(im)
layer, head = divmod(int(drop.argmax()), m.cfg.n_heads)
print(f"most necessary head: L{layer}H{head}, drop {float(drop.max()):.2f} of {clean_diff:.2f}")"""),
    md("""## The same edit by hand, with a hook
A hook gets the activation and its hook point and may return a replacement — TransformerLens'
`run_with_hooks`. Zeroing the head's `hook_z` equals the sweep's candidate (and `--intervene LxHy=zero`)."""),
    code("""def zero_head(z, hook):
    z = z.clone()
    z[:, :, head] = 0
    return z

hooked = m.run_with_hooks(prompt, fwd_hooks=[(f"blocks.{layer}.attn.hook_z", zero_head)])
by_spec = m(prompt, intervene=f"L{layer}H{head}=zero")
print(logit_diff(hooked), logit_diff(by_spec), clean_diff - float(drop.max()))
assert abs(logit_diff(hooked) - logit_diff(by_spec)) < 1e-4"""),
    code("""# Where does that head look from the last position? Its pattern, from the cache above.
fig, ax = plt.subplots(figsize=(6, 2))
ax.bar(range(len(tokens)), cache["pattern", layer][0, head, -1].numpy())
ax.set_xticks(range(len(tokens)), tokens, rotation=90); ax.set_title(f"L{layer}H{head} attention from the last token")
fig.tight_layout()"""),
    md("""## An analysis written in Python
Subclass `headscope.Analysis`: declare an id, parameters and the hooks to cache; `run(ctx)`
returns items. Registered here for this session; saved as a `.py` file in a plugin folder, the
CLI and the GUI run it too (see `plugins/python_template/`)."""),
    code("""class IndirectObjectAttention(headscope.Analysis):
    id = "io_attention"
    title = "Attention from the last token to the indirect object"
    description = "Mean attention of each head, from the final position, to the answer name's first occurrence."
    hooks = ["blocks.*.attn.hook_pattern"]

    def run(self, ctx):
        cfg = ctx.cfg
        score = torch.zeros(cfg.n_layers, cfg.n_heads, dtype=torch.float64)
        counted = 0
        for i, p in enumerate(ctx.prompts):
            if p["answer_id"] not in p["ids"]:
                continue
            position = p["ids"].index(p["answer_id"])
            _, cache = ctx.clean_run(i)
            for layer in range(cfg.n_layers):
                score[layer] += cache["pattern", layer][0, :, -1, position].double()
            counted += 1
            ctx.step((i + 1) / len(ctx), "prompt")
        return [headscope.HeadGrid("score", self.title, score / max(counted, 1))]

headscope.register_analysis(IndirectObjectAttention)
io = headscope.analyze(m, "io_attention", prompts=ioi)
io["score"].top(3)"""),
    md("## Save the results and render a report\nThe `.h5` is the same format `headscope analyze` writes; `headscope report` renders it too."),
    code("""import tempfile
out = tempfile.mkdtemp()
headscope.save_results(os.path.join(out, "ioi.h5"), [r, io])
headscope.report(os.path.join(out, "ioi.h5"), html=os.path.join(out, "ioi.html"))
back = headscope.read_results(os.path.join(out, "ioi.h5"))
back.ids(), os.path.getsize(os.path.join(out, "ioi.html")) > 0"""),
]
nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                    "language": "python"}})
nbformat.write(nb, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ioi_circuit.ipynb"))
