"""Multi-layer Elman RNN tagger, in the notebook's step-by-step form and a fused-kernel form."""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from ner.nn.module import Module
from ner.nn.parts import RNNSettings

FUSED_NONLINEARITIES = ("tanh", "relu")


class RNN(Module):
    """z1_t = f(W1 x_t + U1 z1_{t-1}); zk_t = f(Wk z(k-1)_t + Uk zk_{t-1}); y_t = V zn_t: the notebook's
    network, run step by step (`fused=False`) or by PyTorch's RNN kernel on the same tensors.

    With `output_dim=None` it has no V and returns the states zn_t: the encoder of a tagger.
    """

    nonlinearity_dict = {"tanh": nn.Tanh, "relu": nn.ReLU, "prelu": nn.PReLU}

    def __init__(
        self,
        embedding_dim: int,
        hidden_dim: int,
        output_dim: int | None,
        num_layers: int = 1,
        bias: bool = True,
        nonlinearity: str = "tanh",
        fused: bool = True,
    ):
        super().__init__()
        self.record_config(locals())
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        if nonlinearity not in self.nonlinearity_dict:
            raise ValueError(
                f"nonlinearity must be one of {sorted(self.nonlinearity_dict)}, got {nonlinearity!r}"
            )
        self.hidden_dim, self.num_layers, self.nonlinearity = hidden_dim, num_layers, nonlinearity
        self.fused = fused
        self.nonlinear = self.nonlinearity_dict[nonlinearity]()
        self.input_hidden = nn.Linear(embedding_dim, hidden_dim, bias=bias)
        self.hidden_layers = nn.ModuleList(
            nn.Linear(hidden_dim, hidden_dim, bias=bias) for _ in range(num_layers - 1)
        )
        self.recur_layers = nn.ModuleList(
            nn.Linear(hidden_dim, hidden_dim, bias=bias) for _ in range(num_layers - 1)
        )
        self.hidden_hidden = nn.Linear(hidden_dim, hidden_dim, bias=bias)
        if output_dim is not None:
            self.hidden_output = nn.Linear(hidden_dim, output_dim, bias=bias)
        self.projects = output_dim is not None
        self.output_size = hidden_dim if output_dim is None else output_dim
        if self.projects:  # inside a tagger, the tagger initialises its parts together
            self.apply(self.init_weights)
        # A kernel on the meta device (no storage, kept out of the state dict by the tuple):
        # functional_call runs it on this module's own tensors.
        kernel = None
        if nonlinearity in FUSED_NONLINEARITIES:
            kernel = nn.RNN(
                embedding_dim, hidden_dim, num_layers, nonlinearity, bias, batch_first=True, device="meta"
            )
        self._kernel = (kernel,)

    def _initial_hidden_states(self, batch_size: int, init_zeros: bool = False) -> list[torch.Tensor]:
        """One initial state per layer, zeros or Xavier-normal random, on the model's device."""
        device = self.input_hidden.weight.device
        states = []
        for _ in range(self.num_layers):
            state = torch.zeros(batch_size, self.hidden_dim, device=device)
            if not init_zeros:
                nn.init.xavier_normal_(state)
            states.append(state.squeeze(0) if batch_size == 1 else state)
        return states

    @classmethod
    def from_settings(cls, settings: RNNSettings, input_dim: int) -> RNN:
        """The encoder of a tagger's `model.encoder` settings."""
        return cls(
            input_dim,
            settings.hidden_dim,
            None,
            settings.num_layers,
            settings.bias,
            settings.nonlinearity,
            settings.fused,
        )

    @property
    def can_fuse(self) -> bool:
        """Whether PyTorch's RNN kernel computes this model's function (not for PReLU)."""
        return self.nonlinearity in FUSED_NONLINEARITIES

    def forward(self, embeddings: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, length, embedding_dim) -> (batch, length, output_dim) logits (hidden states without V),
        from zero initial states."""
        hidden = (
            self.fused_hidden(embeddings) if self.fused and self.can_fuse else self.loop_hidden(embeddings)
        )
        return self.hidden_output(hidden) if self.projects else hidden

    def loop_hidden(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Last layer's states at every step, computed one step and one layer at a time."""
        batch_size, length, _ = embeddings.shape
        states = [s.expand(batch_size, -1) for s in self._initial_hidden_states(batch_size, init_zeros=True)]
        inputs = [self.input_hidden, *self.hidden_layers]
        recurs = [self.hidden_hidden, *self.recur_layers]
        outputs = []
        for t in range(length):
            layer_input = embeddings[:, t]
            for k in range(self.num_layers):
                states[k] = self.nonlinear(inputs[k](layer_input) + recurs[k](states[k]))
                layer_input = states[k]
            outputs.append(layer_input)
        return torch.stack(outputs, dim=1)

    def kernel_weights(self) -> dict[str, torch.Tensor]:
        """This module's W and U tensors under the names of PyTorch's RNN kernel (the same tensors)."""
        weights = {}
        inputs = [self.input_hidden, *self.hidden_layers]
        recurs = [self.hidden_hidden, *self.recur_layers]
        for k in range(self.num_layers):
            weights[f"weight_ih_l{k}"] = inputs[k].weight
            weights[f"weight_hh_l{k}"] = recurs[k].weight
            if inputs[k].bias is not None:
                weights[f"bias_ih_l{k}"] = inputs[k].bias
                weights[f"bias_hh_l{k}"] = recurs[k].bias
        return weights

    def fused_hidden(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Last layer's states at every step, from PyTorch's multi-layer RNN kernel."""
        h0 = embeddings.new_zeros(self.num_layers, embeddings.shape[0], self.hidden_dim)
        hidden, _ = functional_call(self._kernel[0], self.kernel_weights(), (embeddings, h0))
        return hidden
