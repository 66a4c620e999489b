"""A headscope analysis written in Python: copy this file into a plugin folder (--plugin-dir DIR,
HEADSCOPE_PLUGIN_PATH, or ~/.local/share/headscope/plugins) and rename the class, its id and what
run() computes. The CLI (`headscope analyses`, `headscope analyze --analysis first_token_attention`),
the GUI and headscope.analyze() then run it like a built-in analysis. See docs/plugins.md.
"""
import torch

import headscope

__version__ = "1.0"  # shown as the plugin's version


class FirstTokenAttention(headscope.Analysis):
    id = "first_token_attention"  # a-z, 0-9 and _: used in --analysis and in result files
    title = "Attention to the first token"
    version = "1.0"
    description = "Mean attention each head gives position 0, over the query positions from `start` on."
    parameters = [
        headscope.Param("start", 1, "first query position averaged (0 counts the first token itself)", min=0),
    ]
    # Only these activations are cached for ctx.clean_run(i); names or globs. A method
    # hooks(self, cfg, params) can choose them from the model and the parameters instead.
    hooks = ["blocks.*.attn.hook_pattern"]

    def run(self, ctx):
        cfg, start = ctx.cfg, ctx.params["start"]
        share = torch.zeros(cfg.n_layers, cfg.n_heads, dtype=torch.float64)
        counted = 0
        for i in range(len(ctx)):
            _, cache = ctx.clean_run(i)  # (logits, cache) of prompt i, computed once
            for layer in range(cfg.n_layers):
                pattern = cache["pattern", layer][0].double()  # [heads, query, key]
                if pattern.shape[1] > start:
                    share[layer] += pattern[:, start:, 0].mean(-1)
            counted += pattern.shape[1] > start
            ctx.step((i + 1) / len(ctx), f"prompt {i + 1}/{len(ctx)}")  # progress; raises if cancelled
        share /= max(counted, 1)
        grid = headscope.HeadGrid("share", "Attention to the first token", share,
                                  description="Mean attention to position 0 per head", scale="sequential")
        top = ", ".join(f"{head} {value:.3f}" for head, value in grid.top(3))
        return headscope.Result([grid], summary=[f"most attention to the first token: {top}"])
