"""Analyses from Python: the same numbers as `headscope analyze`, results saved and read back,
reports, interventions held across analyses, Ctrl+C (KeyboardInterrupt) cancelling an analysis
or a sweep cleanly, and HeadSweep against one hooked forward per head."""
import _thread
import itertools

import h5py
import numpy as np
import pytest
import torch

import headscope
from conftest import IOI, IOI_PROMPT, reference_tolerance, run_cli


@pytest.fixture
def ioi20(tmp):
    path = tmp / "ioi20.jsonl"
    with open(IOI) as f:
        path.write_text("".join(itertools.islice(f, 20)))
    return path


def grids_of(path, analysis):
    with h5py.File(path, "r") as f:
        group = f["results"][analysis]
        return {k: group[k][()] for k in group if group[k].attrs.get("kind") in (b"head_grid", "head_grid")}


def test_analyze_equals_the_cli_and_reads_back(tiny_world, ioi20, tmp):
    cli_out = tmp / "cli.h5"
    run_cli("analyze", "--prompts", ioi20, "--analysis", "head_attribution", "--set",
            "head_attribution.metric=logit_diff", "--out", cli_out)
    r = headscope.analyze(tiny_world, "head_attribution", prompts=ioi20, metric="logit_diff")
    assert r.ok and r.id == "head_attribution" and r.parameters["metric"] == "logit_diff"
    cli_grids = grids_of(cli_out, "head_attribution")
    assert cli_grids, "the CLI wrote head grids"
    for key, values in cli_grids.items():
        assert isinstance(r[key].values, torch.Tensor)
        assert r[key].values.shape == values.shape
        assert np.max(np.abs(r[key].values.numpy() - values)) <= 1e-9, key
    assert r.provenance.model_path.endswith("tiny-world") and len(r.provenance.prompts) == 20

    saved = tmp / "py.h5"
    r.save(saved)
    back = headscope.read_results(saved)
    assert back.ids() == ["head_attribution"]
    assert torch.equal(back["head_attribution"]["dla_heads"].values, r["dla_heads"].values)
    assert back.provenance.model_sha256 == r.provenance.model_sha256
    assert back["head_attribution"].summary == r.summary
    from_cli = headscope.read_results(cli_out)[0]
    assert from_cli.keys() == r.keys()
    headscope.report(saved, html=tmp / "r.html", pdf=tmp / "r.pdf")
    assert (tmp / "r.html").read_text().count("<svg") > 0 and (tmp / "r.pdf").read_bytes()[:5] == b"%PDF-"


def test_analyses_lists_every_analysis_with_its_origin():
    infos = {a.id: a for a in headscope.analyses()}
    assert {"head_attribution", "qk_ov_svd", "head_detectors", "logit_lens"} <= set(infos)
    assert infos["head_attribution"].origin == "built-in"
    assert any(p["name"] == "metric" for p in infos["head_attribution"].parameters)


def test_interventions_hold_for_every_analysis(tiny_world, tmp):
    # With the edit, each analysis of a list equals the same analysis run alone with the edit.
    both = headscope.analyze(tiny_world, ["logit_lens", "pattern_statistics"], prompt=IOI_PROMPT, intervene="L1H0=zero")
    alone = headscope.analyze(tiny_world, "pattern_statistics", prompt=IOI_PROMPT, intervene="L1H0=zero")
    clean = headscope.analyze(tiny_world, "pattern_statistics", prompt=IOI_PROMPT)
    key = [k for k in alone.keys() if alone[k].kind == "head_grid"][0]
    assert torch.equal(both[1][key].values, alone[key].values)
    assert not torch.equal(clean[key].values, alone[key].values)
    assert both[0].summary[0] == "with head edits L1H0=zero"
    # A user's hooks stay registered through analyses (the runner removes only what an analysis added).
    seen = []
    with tiny_world.hooks([("hook_embed", lambda x, h: seen.append(1))]):
        headscope.analyze(tiny_world, "logit_lens", prompt=IOI_PROMPT)
        n = len(seen)
        tiny_world(IOI_PROMPT)
        assert len(seen) == n + 1
    # The CLI, the same: the second analysis also runs on the edited model.
    out = tmp / "two.h5"
    run_cli("analyze", "--prompt", IOI_PROMPT, "--analysis", "logit_lens,pattern_statistics", "--intervene",
            "L1H0=zero", "--out", out)
    assert np.allclose(grids_of(out, "pattern_statistics")[key], alone[key].values.numpy(), atol=1e-9)


def test_keyboard_interrupt_cancels_an_analysis_cleanly(tiny_world):
    calls = []

    def progress(fraction, message):
        calls.append(fraction)
        if len(calls) == 2:
            _thread.interrupt_main()  # as Ctrl+C: Python sees SIGINT

    clean = tiny_world(IOI_PROMPT)
    with pytest.raises(KeyboardInterrupt):
        headscope.analyze(tiny_world, "head_attribution", prompts=IOI, progress=progress, intervene="L2H2=zero")
    assert max(calls) < 1.0  # stopped early
    assert torch.equal(tiny_world(IOI_PROMPT), clean)  # no edit or analysis hook left behind
    r = headscope.analyze(tiny_world, "pattern_statistics", prompt=IOI_PROMPT)  # and it still works
    assert r.ok


def test_head_sweep_equals_one_hooked_forward_per_head(tiny_world):
    cfg = tiny_world.cfg
    sweep = headscope.HeadSweep(tiny_world, IOI_PROMPT)
    logits = sweep.run("all", "zero")
    assert logits.shape == (cfg.n_layers * cfg.n_heads, 1, 1, cfg.d_vocab)
    assert reference_tolerance(sweep.base_logits[0, -1], tiny_world(IOI_PROMPT)[0, -1]) < 1e-4
    for i, (l, h) in enumerate(itertools.product(range(cfg.n_layers), range(cfg.n_heads))):
        one = tiny_world(IOI_PROMPT, intervene=f"L{l}H{h}=zero")[0, -1]
        assert reference_tolerance(logits[i, 0, 0], one) < 1e-4, (l, h)
    T = tiny_world.to_tokens(IOI_PROMPT).shape[1]
    zeros = sweep.run(["L1H3", (2, 0)], lambda layer: torch.zeros(1, T, cfg.n_heads, cfg.d_head))
    assert reference_tolerance(zeros[0], logits[1 * cfg.n_heads + 3]) < 1e-5
    half = sweep.run([(3, 1)], "scale:0.5")
    assert reference_tolerance(half[0, 0, 0], tiny_world(IOI_PROMPT, intervene="L3H1=scale:0.5")[0, -1]) < 1e-4


def test_keyboard_interrupt_cancels_a_sweep(tiny_world):
    sweep = headscope.HeadSweep(tiny_world, IOI_PROMPT)
    scored = []

    def score(first, logits):
        scored.append(first)
        _thread.interrupt_main()

    with pytest.raises(KeyboardInterrupt):
        sweep.run("all", "zero", score=score)
    assert len(scored) < tiny_world.cfg.n_layers  # stopped before the last pass
    assert sweep.run([(0, 0)], "zero").shape[0] == 1
