"""Model methods written in Python: the hooks(...) context, weights as per-layer stacks
(m.W_Q[layer, head] shares memory with the model), and the edit_weights() context."""
import contextlib

from ._core import Model


@contextlib.contextmanager
def _hooks(self, fwd_hooks=(), intervene=None):
    """with m.hooks(fwd_hooks=[(name, fn)], intervene=["L1H4=zero"]): every forward inside uses them."""
    added = []
    try:
        for name, fn in fwd_hooks:
            added.append(self.add_hook(name, fn))
        if intervene:
            added.append(self.add_interventions(intervene))
        yield self
    finally:
        for h in reversed(added):
            h.remove()


@contextlib.contextmanager
def _edit_weights(self):
    """with m.edit_weights(): write into m.weight(...) / m.W_Q[...] tensors in place; on exit the
    model checks them and the next forward uses them."""
    try:
        yield self
    finally:
        self.apply_weight_edits()


class LayerStack:
    """One weight of every layer, as the model holds it: stack[layer] is that layer's tensor and
    stack[layer, head, ...] indexes into it (views: writes reach the model, see edit_weights).
    .stack() gives a [n_layers, ...] copy."""

    def __init__(self, tensors, name):
        self._tensors, self.name = tensors, name

    def __len__(self):
        return len(self._tensors)

    def __iter__(self):
        return iter(self._tensors)

    def __getitem__(self, index):
        if isinstance(index, tuple):
            return self._tensors[index[0]][index[1:]]
        if isinstance(index, slice):
            return LayerStack(self._tensors[index], self.name)
        return self._tensors[index]

    @property
    def shape(self):
        return (len(self._tensors),) + tuple(self._tensors[0].shape)

    def stack(self):
        import torch
        return torch.stack(list(self._tensors))

    def __repr__(self):
        return f"<LayerStack {self.name} {list(self.shape)}>"


_LAYER_WEIGHTS = {
    "W_Q": "attn.W_Q", "W_K": "attn.W_K", "W_V": "attn.W_V", "W_O": "attn.W_O",
    "b_Q": "attn.b_Q", "b_K": "attn.b_K", "b_V": "attn.b_V", "b_O": "attn.b_O",
    "W_in": "mlp.W_in", "W_out": "mlp.W_out", "W_gate": "mlp.W_gate",
    "b_in": "mlp.b_in", "b_out": "mlp.b_out", "b_gate": "mlp.b_gate",
}
_MODEL_WEIGHTS = ("W_E", "W_pos", "W_U", "b_U")


def _layer_property(short, local):
    def get(self):
        return LayerStack([self.weight(f"blocks.{layer}.{local}") for layer in range(self.cfg.n_layers)], short)
    get.__doc__ = f"blocks.L.{local} of every layer (a LayerStack of the model's own tensors)"
    return property(get)


def _model_property(name):
    def get(self):
        return self.weight(name)
    get.__doc__ = f"the model's {name} (its own storage)"
    return property(get)


Model.hooks = _hooks
Model.edit_weights = _edit_weights
for _short, _local in _LAYER_WEIGHTS.items():
    setattr(Model, _short, _layer_property(_short, _local))
for _name in _MODEL_WEIGHTS:
    setattr(Model, _name, _model_property(_name))
Model.forward = Model.__call__
