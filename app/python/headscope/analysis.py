"""Analyses written in Python.

A plugin is a .py file in a plugin folder (--plugin-dir, HEADSCOPE_PLUGIN_PATH, plugins/ next to
the executable, ~/.local/share/headscope/plugins) that defines subclasses of headscope.Analysis.
The CLI, the GUI and headscope.analyze() run them like the built-in analyses:

    import headscope

    class PreviousToken(headscope.Analysis):
        id = "previous_token_share"
        title = "Previous-token attention"
        version = "1.0"
        description = "Mean attention of each head to the previous token."
        parameters = [headscope.Param("skip_first", 1, "query positions left out at the start", min=0)]
        hooks = ["blocks.*.attn.hook_pattern"]          # or def hooks(self, cfg, params): ...

        def run(self, ctx):
            ...                                          # ctx.clean_run(i) -> (logits, cache)
            return [headscope.HeadGrid("share", "Previous-token share", grid)]

See docs/plugins.md for the whole contract.
"""

_TYPES = ("integer", "real", "boolean", "text", "choice", "heads")


class Param:
    """A parameter with a default: its type follows the default (bool -> boolean, int -> integer,
    float -> real, str -> text), or choices= (choice) or type="heads" (a list of heads). Users
    set it with --set ID.NAME=VALUE, the GUI's form, or analyze(..., NAME=VALUE)."""

    def __init__(self, name, default, help="", *, type=None, choices=None, min=None, max=None):
        if type is None:
            if choices is not None:
                type = "choice"
            elif isinstance(default, bool):
                type = "boolean"
            elif isinstance(default, int):
                type = "integer"
            elif isinstance(default, float):
                type = "real"
            else:
                type = "text"
        if type not in _TYPES:
            raise ValueError(f"Param {name}: type must be one of {', '.join(_TYPES)}, not {type!r}")
        self.name, self.default, self.help, self.type = name, default, help, type
        self.choices = None if choices is None else [str(c) for c in choices]
        self.min, self.max = min, max

    def __repr__(self):
        return f"Param({self.name!r}, {self.default!r}, type={self.type!r})"


class Analysis:
    """Base class of analyses written in Python. Override id, title, version, description,
    parameters, hooks (a list of hook names/globs, or a method hooks(self, cfg, params)),
    needs_prompts, and run(self, ctx), which returns a list of items (HeadGrid, Matrix, Spectrum,
    Table, TokenScores, Graph) or a headscope.Result (items and summary lines)."""

    id = None
    title = None
    version = "1.0"
    description = ""
    parameters = []
    hooks = []
    needs_prompts = True

    def run(self, ctx):
        raise NotImplementedError(f"{type(self).__name__}.run(ctx) is not written")
