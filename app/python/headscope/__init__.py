"""headscope from Python: the same core as the headscope CLI and GUI.

    import headscope
    m = headscope.load("tiny-world")              # or a .gguf, a llama2.c .bin, a Hugging Face folder
    logits, cache = m.run_with_cache("When Mary and John went to the store, John gave a drink to")
    cache["pattern", 1]                            # torch.Tensor [batch, head, query, key], no copy
    r = headscope.analyze(m, "head_attribution", prompts=headscope.builtin_prompts_path("ioi"))

TransformerLens' names where its users have habits (load, m(x), run_with_cache, run_with_hooks,
hooks, to_tokens, to_str_tokens, cfg); the rest is documented in README.md ("Python").
"""
import torch as _torch  # noqa: F401  (first: the extension hands tensors to torch's own type)

from ._core import (  # noqa: F401
    ActivationCache,
    AnalysisContext,
    AnalysisError,
    AnalysisInfo,
    Cancelled,
    Config,
    ConfigError,
    Error,
    FormatError,
    Graph,
    HeadGrid,
    HeadSweep,
    Hook,
    HookPoint,
    IoError,
    Matrix,
    Model,
    PluginReport,
    Provenance,
    ResourceError,
    Result,
    Results,
    Spectrum,
    Table,
    Tokenizer,
    TokenScores,
    UsageError,
    __version__,
    analyses,
    builtin_prompts_path,
    default_model_path,
    describe,
    hook_name,
    intervention_grammar,
    load,
    parse_heads,
    plugins,
    read_results,
    register_analysis,
    report,
    save_results,
    set_threads,
    threads,
)
from ._core import analyze as _analyze
from .analysis import Analysis, Param  # noqa: F401
from . import _model_api  # noqa: F401  (hooks(), weights as layer stacks, edit_weights())
from ._progress import stderr_progress as _stderr_progress


def analyze(model, analysis, prompts=None, *, prompt=None, intervene=None, plugin_dirs=None, settings=None,
            progress=None, errors="raise", **params):
    """Runs analysis `analysis` (an id, or a list of ids) on `model` and returns its Result (a list
    for a list of ids).

    prompts: a JSONL prompt file (e.g. builtin_prompts_path("ioi")) or a list of texts or dicts
    with "prompt" (and "answer", "alternative", "corrupted_prompt", "task", "context"); prompt: one
    text. Keyword arguments are the analysis's parameters (see analyses()); settings gives them
    per analysis when running several. intervene: --intervene specs applied during the run.
    progress: True for a bar on stderr, or a function(fraction, message). errors="raise" raises
    AnalysisError when an analysis fails; "keep" returns its Result with .error set.
    Ctrl+C (KeyboardInterrupt) stops a running analysis cleanly.
    """
    if progress is True:
        progress = _stderr_progress(analysis if isinstance(analysis, str) else ",".join(analysis))
    elif progress is False:
        progress = None
    return _analyze(model, analysis, prompts, prompt, intervene, plugin_dirs, settings, progress, errors, **params)
