"""Analyses written in Python: listed with their origin, run by the CLI (embedded interpreter) and
from Python, their HeadGrid equal to the numbers computed here; a syntax error or a raising run()
is reported with file and line while the other analyses still run; no libpython without them."""
import _thread
import json
import os
import shutil

import h5py
import numpy as np
import pytest
import torch

import headscope
from conftest import IOI_PROMPT, SOURCE_DIR, run_cli

TEMPLATE = os.path.join(SOURCE_DIR, "plugins", "python_template", "first_token_attention.py")
BROKEN = "import headscope\n\nclass Broken(headscope.Analysis):\n    id = 'broken'\n    def run(self, ctx)\n        return []\n"
RAISING = ("import headscope\n\n\ndef lookup(table):\n    return table['missing']\n\n\n"
           "class Raising(headscope.Analysis):\n    id = 'raising_plugin'\n    title = 'Raises'\n"
           "    needs_prompts = False\n\n    def run(self, ctx):\n        return lookup({})\n")


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("plugins")
    shutil.copy(TEMPLATE, d)
    (d / "broken.py").write_text(BROKEN)
    (d / "raising.py").write_text(RAISING)
    (d / "_helper.py").write_text("raise RuntimeError('helpers are not plugins')\n")
    return d


def first_token_share(model, prompts, start):
    """The template's numbers, computed here from the Python API's cache."""
    total = torch.zeros(model.cfg.n_layers, model.cfg.n_heads, dtype=torch.float64)
    for p in prompts:
        _, cache = model.run_with_cache(p, names_filter="blocks.*.attn.hook_pattern")
        for layer in range(model.cfg.n_layers):
            total[layer] += cache["pattern", layer][0, :, start:, 0].double().mean(-1)
    return total / len(prompts)


def test_cli_lists_python_analyses_with_their_origin(plugin_dir):
    listing = json.loads(run_cli("analyses", "--plugin-dir", plugin_dir, "--json").stdout)
    origins = {a["id"]: a["origin"] for a in listing["analyses"]}
    assert origins["first_token_attention"] == str(plugin_dir / "first_token_attention.py")
    assert origins["raising_plugin"] == str(plugin_dir / "raising.py")
    assert origins["head_attribution"] == "built-in"
    plugins = {os.path.basename(p["path"]): p for p in listing["plugins"]}
    assert "_helper.py" not in plugins
    assert plugins["first_token_attention.py"]["loaded"] and plugins["first_token_attention.py"]["version"] == "1.0"
    broken = plugins["broken.py"]
    assert not broken["loaded"]
    assert broken["error"].startswith(f"{plugin_dir / 'broken.py'}, line 5: SyntaxError: expected ':'")


def test_cli_runs_python_analyses_next_to_the_others(plugin_dir, tmp, tiny_world):
    out = tmp / "plugins.h5"
    prompts = [IOI_PROMPT]
    r = run_cli("analyze", "--plugin-dir", plugin_dir, "--prompt", IOI_PROMPT, "--analysis",
                "first_token_attention,raising_plugin,head_detectors", "--set", "first_token_attention.start=2",
                "--out", out, check=False)
    assert r.returncode == 1  # one analysis failed: the command says so
    assert f"raising_plugin: {plugin_dir / 'raising.py'}, line 5: KeyError: 'missing'" in r.stderr
    assert "Traceback (most recent call last):" in r.stderr and "return lookup({})" in r.stderr
    assert "broken.py, line 5" in r.stderr  # the refused file is named as a warning
    with h5py.File(out, "r") as f:
        assert set(f["results"]) == {"first_token_attention", "raising_plugin", "head_detectors"}
        grid = f["results/first_token_attention/share"][()]
    assert headscope.read_results(out)["first_token_attention"].parameters["start"] == "2"
    expected = first_token_share(tiny_world, prompts, 2).numpy()
    assert grid.shape == expected.shape
    assert np.max(np.abs(grid - expected)) < 1e-6
    # The report renders the Python analysis's grid like any other.
    run_cli("report", out, "--html", tmp / "plugins.html")
    assert "Attention to the first token" in (tmp / "plugins.html").read_text()


def test_python_host_runs_the_same_plugins(plugin_dir, tiny_world):
    with pytest.warns(UserWarning, match="broken.py, line 5"):
        infos = {a.id: a for a in headscope.analyses(plugin_dirs=[plugin_dir])}
    assert infos["first_token_attention"].origin == str(plugin_dir / "first_token_attention.py")
    prompts = [IOI_PROMPT, "Once upon a time there was a cat"]
    r = headscope.analyze(tiny_world, "first_token_attention", prompts=prompts, start=1)
    assert r.summary[0].startswith("most attention to the first token: ")
    assert torch.allclose(r["share"].values, first_token_share(tiny_world, prompts, 1), atol=1e-9)
    with pytest.raises(headscope.AnalysisError, match=r"raising.py, line 5: KeyError: 'missing'"):
        headscope.analyze(tiny_world, "raising_plugin")
    kept = headscope.analyze(tiny_world, ["raising_plugin", "qk_ov_svd"], errors="keep")
    assert not kept[0].ok and "Traceback" in kept[0].error and kept[1].ok


def test_register_analysis_and_ctrl_c_in_a_python_analysis(tiny_world):
    class Slow(headscope.Analysis):
        id = "slow_python_analysis"
        title = "Slow"
        parameters = [headscope.Param("steps", 50, "steps")]

        def run(self, ctx):
            for i in range(ctx.params["steps"]):
                if i == 3:
                    _thread.interrupt_main()
                ctx.step(i / ctx.params["steps"], "step")
            return [headscope.HeadGrid("g", "G", torch.zeros(ctx.cfg.n_layers, ctx.cfg.n_heads))]

    headscope.register_analysis(Slow)
    info = {a.id: a for a in headscope.analyses()}["slow_python_analysis"]
    assert info.origin == "python: " + os.path.abspath(__file__)
    with pytest.raises(KeyboardInterrupt):
        headscope.analyze(tiny_world, "slow_python_analysis", prompt="x")
    assert headscope.analyze(tiny_world, "slow_python_analysis", prompt="x", steps=2).ok


def test_cli_loads_no_python_without_a_python_plugin(plugin_dir, tmp):
    empty = tmp / "no-user-plugins"
    empty.mkdir()
    env = dict(os.environ, LD_DEBUG="files", HEADSCOPE_PLUGIN_PATH="", XDG_DATA_HOME=str(empty))
    plain = run_cli("analyses", env=env)
    assert "libpython" not in plain.stderr and "libheadscope_python" not in plain.stderr
    with_plugin = run_cli("analyses", "--plugin-dir", plugin_dir, env=env)
    assert "libpython" in with_plugin.stderr
