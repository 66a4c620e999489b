#!/usr/bin/env python3
"""Generates docs/papers.md: for each seed paper, the headscope commands that carry out its head
method on the built-in models, the numbers they print, and what is out of scope.

Every command is run with the headscope CLI given; the numbers in the page are the summary lines
it prints. Analyses that `headscope analyses --json` does not list (built by other work that has
not landed yet) are written with their commands and marked "not yet available".

usage:
  make_papers.py [--cli build/app/cli/headscope] [--work build/papers] [--out docs/papers.md]
  make_papers.py --check docs/papers.md ...   regenerate and compare with the committed page
                                              (numbers within 2% or 1e-3); exit 1 if stale
  make_papers.py corpus OUT.jsonl             write the AttentionInfluence demo corpus

Run from anywhere; paths in commands are relative to the repository root.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- the demo corpus for corpus_influence -------------------------------------------------------

def write_corpus(path, count=60):
    """Even documents repeat a 12-word sequence (what induction heads predict), odd ones are 24
    distinct words; words are those of data/prompts/induction.jsonl (induction-2l's lexicon)."""
    words = set()
    with open(os.path.join(ROOT, "data/prompts/induction.jsonl")) as f:
        for line in f:
            words.update(json.loads(line)["prompt"].split())
    words = sorted(words)
    rng = random.Random(0)
    with open(path, "w") as out:
        for i in range(count):
            pick = rng.sample(words, 24)
            seq = pick[:12] * 2 if i % 2 == 0 else pick
            kind = "repeated" if i % 2 == 0 else "plain"
            out.write(json.dumps({"id": f"{kind}-{i}", "text": " " + " ".join(seq)}) + "\n")


# --- the page's content -------------------------------------------------------------------------

def head_list(layer, heads):
    return ",".join(f"L{layer}H{h}" for h in range(heads))


# A step: text shown before the command, the command (argv; "$hs" is the CLI, "out/" the work
# folder), the analyses (and "analysis:parameter=choice" values) it needs, and captures: regex
# over the output whose first group becomes {name} in later commands.
def step(text, argv, needs=(), capture=None, lines=6):
    return {"text": text, "argv": argv, "needs": list(needs), "capture": capture or {}, "lines": lines}


def subset(name, src, n):
    return {"subset": (name, src, n)}


PAPERS = [
    {
        "title": "Talking Heads: Understanding Inter-layer Communication in Transformer Language Models",
        "method": "Low-rank communication channels between heads: the singular vectors of each head's OV and QK "
                  "circuits, which components of a sender's output a receiver reads (per-component composition), "
                  "and scaling a head's output along its top OV directions to change laundry-list accuracy.",
        "steps": [
            step("SVD of every head's QK and OV circuit (singular values, vectors stored as datasets):",
                 ["$hs", "analyze", "--analysis", "qk_ov_svd", "--set", "qk_ov_svd.per_head_spectra=false",
                  "--out", "out/talking_svd.h5"], ["qk_ov_svd"]),
            step("Composition between heads of different layers (per singular component where available):",
                 ["$hs", "analyze", "--analysis", "composition", "--out", "out/talking_comp.h5"], ["composition"]),
            subset("laundry40", "data/prompts/laundry_list.jsonl", 40),
            step("Head attribution on the laundry-list task to find the head to edit:",
                 ["$hs", "analyze", "--prompts", "out/laundry40.jsonl", "--analysis", "head_attribution",
                  "--set", "head_attribution.parts=dla", "--out", "out/talking_dla.h5"], ["head_attribution"],
                 capture={"head": r"DLA: (L\d+H\d+)"}),
            step("Channel edit: scale the top head's output along its top OV singular directions:",
                 ["$hs", "analyze", "--prompts", "out/laundry40.jsonl", "--analysis", "head_intervention",
                  "--set", "head_intervention.heads={head}", "--set", "head_intervention.mode=channel",
                  "--set", "head_intervention.scale=2", "--out", "out/talking_channel.h5"],
                 ["head_intervention:mode=channel"]),
        ],
        "out_of_scope": "GPT-2 / Pythia-scale models and their original task data; the built-in tiny-world model's "
                        "laundry-list task stands in.",
    },
    {
        "title": "Characterizing Mechanisms for Factual Recall in Language Models",
        "method": "In-context answers against memorised facts: which heads push the in-context answer (direct logit "
                  "attribution and activation patching on counterfactual prompts), then scaling those heads to "
                  "shift the balance.",
        "steps": [
            subset("counterfactual40", "data/prompts/capitals_counterfactual.jsonl", 40),
            step("Attribution of the logit difference in-context − memorised capital:",
                 ["$hs", "analyze", "--prompts", "out/counterfactual40.jsonl", "--analysis", "head_attribution",
                  "--set", "head_attribution.parts=dla,activation_patching", "--out", "out/recall.h5"],
                 ["head_attribution"], capture={"head": r"DLA: (L\d+H\d+)"}),
            step("Scaling the top head down (0.5) weakens the in-context answer:",
                 ["$hs", "analyze", "--prompts", "out/counterfactual40.jsonl", "--analysis", "head_intervention",
                  "--set", "head_intervention.heads={head}", "--set", "head_intervention.scale=0.5",
                  "--out", "out/recall_scale.h5"], ["head_intervention"]),
        ],
        "out_of_scope": "Pythia and GPT-2 checkpoints of the paper (they load, but are not shipped) and their "
                        "CounterFact data.",
    },
    {
        "title": "On the Role of Attention Heads in Large Language Model Safety",
        "method": "Head importance for a behaviour by ablation (Ships: how much ablating a head changes the output "
                  "distribution) and a search for the set of heads whose ablation flips it.",
        "steps": [
            subset("ioi40", "data/prompts/ioi.jsonl", 40),
            step("Ablation importance of every head (mean ablation, logit difference):",
                 ["$hs", "analyze", "--prompts", "out/ioi40.jsonl", "--analysis", "head_attribution",
                  "--set", "head_attribution.parts=ablation", "--out", "out/safety_ablation.h5"],
                 ["head_attribution"]),
            step("Greedy search for the heads whose joint ablation changes the behaviour most:",
                 ["$hs", "analyze", "--prompts", "out/ioi40.jsonl", "--analysis", "head_search",
                  "--out", "out/safety_search.h5"], ["head_search"]),
        ],
        "out_of_scope": "Safety-tuned chat models and harmful-prompt data sets: no such model is built in; the "
                        "method runs on the IOI behaviour instead.",
    },
    {
        "title": "AttentionInfluence: Adopting Attention Head Influence for Weak-to-Strong Pretraining Data Selection",
        "method": "Score documents by how much masking retrieval (induction) heads raises their loss and rank them "
                  "by the relative increase.",
        "steps": [
            {"corpus": "out/corpus.jsonl"},
            step("Mask induction-2l's induction head L1H0 and rank the documents (resumable; the top documents "
                 "also go to out/influence.corpus_influence.top.jsonl):",
                 ["$hs", "analyze", "data/models/induction-2l", "--analysis", "corpus_influence",
                  "--set", "corpus_influence.corpus=out/corpus.jsonl", "--set", "corpus_influence.heads=L1H0",
                  "--out", "out/influence.h5"], ["corpus_influence"]),
            step("Or let the induction detector pick the heads (top 2):",
                 ["$hs", "analyze", "data/models/induction-2l", "--analysis", "corpus_influence",
                  "--set", "corpus_influence.corpus=out/corpus.jsonl", "--set", "corpus_influence.top_n=2",
                  "--out", "out/influence_auto.h5"], ["corpus_influence"]),
        ],
        "out_of_scope": "Training a larger model on the selected data (the paper's weak-to-strong step).",
    },
    {
        "title": "See What You Are Told: Visual Attention Sink in Large Multimodal Models; Secondary Attention Sinks",
        "method": "Find primary and secondary sinks and the heads that use them, then move a share of those heads' "
                  "sink attention to the other keys (drop_sink) to test what the sinks do.",
        "steps": [
            subset("ioi40", "data/prompts/ioi.jsonl", 40),
            step("Sinks, the heads that use them, massive activations:",
                 ["$hs", "analyze", "--prompts", "out/ioi40.jsonl", "--analysis", "attention_sinks",
                  "--out", "out/sinks.h5"], ["attention_sinks"]),
            step("Redistribute all of layer 2's sink attention (alpha = 1) and measure the effect:",
                 ["$hs", "analyze", "--prompts", "out/ioi40.jsonl", "--analysis", "head_intervention",
                  "--set", "head_intervention.heads=" + head_list(2, 8), "--set", "head_intervention.mode=drop_sink",
                  "--set", "head_intervention.alpha=1", "--out", "out/drop_sink.h5"],
                 ["head_intervention:mode=drop_sink"]),
        ],
        "out_of_scope": "Image tokens and multimodal models: the sinks studied here are text tokens.",
    },
    {
        "title": "Vision-aware Head Divergence (generalised to text contexts)",
        "method": "Per head, the divergence of its output with vs without a context segment; the most "
                  "context-sensitive heads are then reinforced by scaling.",
        "steps": [
            subset("context40", "data/prompts/capitals_context.jsonl", 40),
            step("Context sensitivity of every head on in-context capital overrides:",
                 ["$hs", "analyze", "--prompts", "out/context40.jsonl", "--analysis", "context_sensitivity",
                  "--out", "out/context.h5"], ["context_sensitivity"],
                 capture={"head": r"heads=(L\d+H\d+)"}),
            step("Reinforce the top head (scale 2) on the prompts with their context:",
                 ["$hs", "analyze", "--prompts", "out/context40.jsonl", "--analysis", "head_intervention",
                  "--set", "head_intervention.heads={head}", "--set", "head_intervention.scale=2",
                  "--out", "out/context_scale.h5"], ["head_intervention"]),
        ],
        "out_of_scope": "Images and vision-language models; the context here is text.",
    },
    {
        "title": "HeadHunter / SoftPAG",
        "method": "Search for the heads whose attention-pattern edit (e.g. a softened or perturbed pattern) "
                  "most changes the output.",
        "steps": [
            subset("ioi40", "data/prompts/ioi.jsonl", 40),
            step("Head search with a pattern edit as the intervention:",
                 ["$hs", "analyze", "--prompts", "out/ioi40.jsonl", "--analysis", "head_search",
                  "--out", "out/headhunter.h5"], ["head_search"]),
        ],
        "out_of_scope": "Diffusion models and image guidance, the papers' setting.",
    },
    {
        "title": "EchoAtt, DHA, ProxyAttn",
        "method": "Heads and layers whose attention patterns are nearly the same, candidates for sharing or "
                  "proxying attention.",
        "steps": [
            subset("ioi40", "data/prompts/ioi.jsonl", 40),
            step("Jensen–Shannon similarity of all heads' patterns, clusters and redundant cross-layer pairs:",
                 ["$hs", "analyze", "--prompts", "out/ioi40.jsonl", "--analysis", "head_similarity",
                  "--out", "out/similarity.h5"], ["head_similarity"]),
        ],
        "out_of_scope": "Re-training or distilling a model with shared attention.",
    },
    {
        "title": "How Does Attention Work in Vision Transformers? A Visual Analytics Attempt",
        "method": "Per-head pattern statistics: mean attention distance and entropy; pruning importance by ablation.",
        "steps": [
            subset("ioi40", "data/prompts/ioi.jsonl", 40),
            step("Mean attention distance and entropy of every head:",
                 ["$hs", "analyze", "--prompts", "out/ioi40.jsonl", "--analysis", "pattern_statistics",
                  "--out", "out/pattern_stats.h5"], ["pattern_statistics"]),
        ],
        "out_of_scope": "Image inputs and vision transformers.",
    },
    {
        "title": "TransMLA, X-EcoMLA, TPLA, Low-Rank MHA",
        "method": "How low-rank each kv head's keys and values are (PCA over prompts), the joint rank of W_K / W_V, "
                  "and the cost of rank-r keys and values.",
        "steps": [
            subset("ioi40", "data/prompts/ioi.jsonl", 40),
            step("PCA ranks and the cost of rank-r K/V:",
                 ["$hs", "analyze", "--prompts", "out/ioi40.jsonl", "--analysis", "kv_low_rank",
                  "--out", "out/kv_low_rank.h5"], ["kv_low_rank"]),
        ],
        "out_of_scope": "Converting and fine-tuning a model into multi-head latent attention.",
    },
    {
        "title": "Generalization or Hallucination? Out-of-context reasoning in transformers",
        "method": "The nuclear norm of each head's OV circuit against its factored bound (‖W_V‖²+‖W_O‖²)/2.",
        "steps": [
            step("OV nuclear and factored norms (and QK symmetry):",
                 ["$hs", "analyze", "--analysis", "weight_geometry", "--out", "out/geometry.h5"],
                 ["weight_geometry"]),
        ],
        "out_of_scope": "Training the paper's synthetic fact-composition models.",
    },
    {
        "title": "Reducing the Transformer Architecture to a Minimum",
        "method": "How symmetric each head's W_Q W_Kᵀ is (qk_symmetry: 1 symmetric, −1 antisymmetric).",
        "steps": [
            step("QK symmetry of every head:",
                 ["$hs", "analyze", "--analysis", "weight_geometry", "--out", "out/geometry_qk.h5"],
                 ["weight_geometry"]),
        ],
        "out_of_scope": "Training models with tied or removed W_Q/W_K.",
    },
    {
        "title": "Does Circuit Analysis Interpretability Scale? Evidence from Multiple Choice Capabilities in Chinchilla",
        "method": "Direct logit attribution, activation patching and attention-pattern reading of the heads that "
                  "pick the answer.",
        "steps": [
            subset("capitals40", "data/prompts/capitals.jsonl", 40),
            step("DLA and activation patching on capital recall:",
                 ["$hs", "analyze", "--prompts", "out/capitals40.jsonl", "--analysis", "head_attribution",
                  "--set", "head_attribution.parts=dla,activation_patching", "--out", "out/scale.h5"],
                 ["head_attribution"]),
            step("What the residual stream predicts after each layer:",
                 ["$hs", "analyze", "--prompts", "out/capitals40.jsonl", "--analysis", "logit_lens",
                  "--set", "logit_lens.positions=last", "--out", "out/lens.h5"], ["logit_lens"]),
        ],
        "out_of_scope": "Chinchilla-70B and its multiple-choice data.",
    },
    {
        "title": "A Song of (Dis)agreement: Evaluating the Evaluation of Explainable Artificial Intelligence",
        "method": "Rank correlation and top-k overlap between the head rankings of different attribution methods.",
        "steps": [
            subset("ioi40", "data/prompts/ioi.jsonl", 40),
            step("Agreement between DLA, ablation and patching grids:",
                 ["$hs", "analyze", "--prompts", "out/ioi40.jsonl", "--analysis", "method_agreement",
                  "--out", "out/agreement.h5"], ["method_agreement"]),
        ],
        "out_of_scope": "The paper's tabular and image explainers.",
    },
    {
        "title": "MoH: Multi-Head Attention as Mixture-of-Head Attention",
        "method": "Per token, the share of the attention output carried by each head, its entropy and the heads "
                  "that carry half of it.",
        "steps": [
            subset("ioi40", "data/prompts/ioi.jsonl", 40),
            step("Head usage per token and per layer:",
                 ["$hs", "analyze", "--prompts", "out/ioi40.jsonl", "--analysis", "head_usage",
                  "--out", "out/head_usage.h5"], ["head_usage"]),
        ],
        "out_of_scope": "Training a mixture-of-heads router.",
    },
]


# --- running ------------------------------------------------------------------------------------

class Runner:
    def __init__(self, cli, work):
        self.cli, self.work = cli, work
        shutil.rmtree(work, ignore_errors=True)  # a scratch folder: no checkpoint of an earlier run may resume
        os.makedirs(work)
        out = subprocess.run([cli, "analyses", "--json"], capture_output=True, text=True, check=True).stdout
        self.analyses = {a["id"]: a for a in json.loads(out)["analyses"]}

    def available(self, need):
        aid, _, choice = need.partition(":")
        if aid not in self.analyses:
            return False
        if not choice:
            return True
        name, _, value = choice.partition("=")
        return any(p["name"] == name and value in (p.get("choices") or [])
                   for p in self.analyses[aid].get("parameters", []))

    def resolve(self, arg):
        if arg == "$hs":
            return self.cli
        if arg.startswith("out/") or "=out/" in arg:
            return arg.replace("out/", self.work + "/")
        return arg

    def run(self, argv):
        r = subprocess.run([self.resolve(a) for a in argv], capture_output=True, text=True, cwd=ROOT)
        if r.returncode != 0:
            sys.exit(f"make_papers: {' '.join(argv)} failed ({r.returncode}):\n{r.stderr}")
        return r.stdout.replace(self.work, "out")


def summary_lines(stdout, limit):
    """The summary lines `headscope analyze` prints per analysis (without the 'wrote' line)."""
    lines = [l.rstrip() for l in stdout.splitlines() if l.strip() and not l.startswith("wrote ")]
    out, per = [], 0
    for l in lines:
        if l.startswith("== "):
            per = 0
            out.append(l)
        elif per < limit:
            per += 1
            out.append(l)
    return out


def generate(runner):
    md = ["# The seed papers' head methods in headscope", "",
          "For each paper: the commands that carry out its head method on the built-in models, the numbers they "
          "print, and what is out of scope. Generated by `docs/make_papers.py` (a ctest test regenerates it and "
          "fails when this page is stale); `$hs` is `build/app/cli/headscope`, `out/` any scratch folder. Commands "
          "without a model use the built-in tiny-world model.", ""]
    for paper in PAPERS:
        md += [f"## {paper['title']}", "", paper["method"], ""]
        captures = {}
        for s in paper["steps"]:
            if "subset" in s:
                name, src, n = s["subset"]
                with open(os.path.join(ROOT, src)) as f:
                    head = f.readlines()[:n]
                with open(os.path.join(runner.work, name + ".jsonl"), "w") as f:
                    f.writelines(head)
                md += ["```sh", f"head -n {n} {src} > out/{name}.jsonl", "```", ""]
                continue
            if "corpus" in s:
                write_corpus(runner.resolve(s["corpus"]))
                md += ["```sh", f"python3 docs/make_papers.py corpus {s['corpus']}   "
                       "# 60 documents: even ones repeat a word sequence, odd ones do not", "```", ""]
                continue
            argv = [a.format(**captures) if "{" in a and all(k in captures for k in re.findall(r"\{(\w+)\}", a))
                    else a for a in s["argv"]]
            md += [s["text"], "", "```sh", " ".join(argv), "```", ""]
            missing = [n for n in s["needs"] if not runner.available(n)]
            if missing or any(re.search(r"\{\w+\}", a) for a in argv):
                if missing:
                    md += [f"*Not yet available: `headscope analyses` does not list {', '.join(missing)}.*", ""]
                else:
                    md += ["*Not yet available: it needs the head found by an earlier step.*", ""]
                continue
            stdout = runner.run(argv)
            for key, pattern in s["capture"].items():
                m = re.search(pattern, stdout)
                if m:
                    captures[key] = m.group(1)
            md += ["```text"] + summary_lines(stdout, s["lines"]) + ["```", ""]
        md += [f"Out of scope: {paper['out_of_scope']}", ""]
    return "\n".join(md)


NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?%?")


def same_page(a, b):
    """Equal up to numbers within 2% (or 1e-3): float noise between machines is not staleness."""
    la, lb = a.splitlines(), b.splitlines()
    if len(la) != len(lb):
        return False, f"{len(la)} lines vs {len(lb)}"
    for i, (x, y) in enumerate(zip(la, lb)):
        if NUMBER.sub("#", x) != NUMBER.sub("#", y):
            return False, f"line {i + 1}:\n  {x}\n  {y}"
        for u, v in zip(NUMBER.findall(x), NUMBER.findall(y)):
            fu, fv = float(u.rstrip("%")), float(v.rstrip("%"))
            if abs(fu - fv) > max(1e-3, 0.02 * max(abs(fu), abs(fv))):
                return False, f"line {i + 1}: {u} vs {v}\n  {x}\n  {y}"
    return True, ""


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "corpus":
        write_corpus(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build/app/cli/headscope"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build/papers"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/papers.md"))
    ap.add_argument("--check", help="compare the regenerated page with this file instead of writing it")
    args = ap.parse_args()
    page = generate(Runner(os.path.abspath(args.cli), os.path.abspath(args.work))) + "\n"
    if args.check:
        ok, why = same_page(open(args.check).read(), page)
        if not ok:
            sys.exit(f"{args.check} is stale ({why}); regenerate it with python3 docs/make_papers.py")
        print(f"{args.check} is current")
        return
    with open(args.out, "w") as f:
        f.write(page)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
