"""Base class of every network: weight initialisation, parameter table, saving and hooks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from prettytable import PrettyTable
from torch import nn

from ner.utils.errors import DataFormatError
from ner.utils.serialization import load_safetensors, load_torch, save_safetensors, save_torch

HOOK_TYPES = ("forward", "forward_pre", "backward", "full_backward")


def format_count(count: int) -> str:
    """A parameter count as the notebook prints it: 187, 12.3K, 5.21M."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.2f}M"
    if count >= 10_000:
        return f"{count / 1_000:.1f}K"
    return str(count)


class Module(nn.Module):
    """A torch module that records its constructor arguments so it can be saved and rebuilt."""

    config: dict

    def __init__(self) -> None:
        super().__init__()
        self.config = {}
        self._hook_handles: dict[str, torch.utils.hooks.RemovableHandle] = {}

    def record_config(self, arguments: dict) -> None:
        """Keep the constructor's arguments (pass `locals()` first thing) so the module can be rebuilt."""
        self.config = {k: v for k, v in arguments.items() if k not in ("self", "__class__")}

    @staticmethod
    def init_weights(module: nn.Module) -> None:
        """Xavier-normal weights and zero biases for Linear and Embedding layers, zero padding row."""
        if isinstance(module, nn.Linear):
            nn.init.xavier_normal_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.xavier_normal_(module.weight)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()

    def num_params(self, trainable_only: bool = True) -> int:
        """Number of (trainable) parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def params_table(self) -> PrettyTable:
        """A table of parameter name, size and whether it is trained."""
        table = PrettyTable(["module", "num_params", "requires_grad"])
        table.align["module"] = "l"
        for name, param in self.named_parameters():
            table.add_row([name, param.numel(), param.requires_grad])
        return table

    def print_params(self) -> None:
        """Print the parameter table and the total number of trainable parameters."""
        print(self.params_table())
        print(f"total trainable params: {format_count(self.num_params())}")

    def save_pretrained(self, path: str | Path) -> None:
        """Save config and weights: safetensors for a `.safetensors` path, else a weights-only torch file."""
        path = Path(path)
        state = {name: tensor.detach().cpu() for name, tensor in self.state_dict().items()}
        if path.suffix == ".safetensors":
            save_safetensors(path, state, {"config": self.config, "class": type(self).__name__})
        else:
            save_torch(path, {"config": self.config, "class": type(self).__name__, "state_dict": state})

    @classmethod
    def from_pretrained(cls, path: str | Path, map_location: str | torch.device = "cpu") -> Module:
        """Rebuild a module saved with `save_pretrained`, refusing files that do not fit it."""
        path = Path(path)
        if path.suffix == ".safetensors":
            state, meta = load_safetensors(path, map_location)
        else:
            meta = load_torch(path, map_location)
            state = meta.get("state_dict") if isinstance(meta, dict) else None
        if (
            not isinstance(meta, dict)
            or not isinstance(meta.get("config"), dict)
            or not isinstance(state, dict)
        ):
            raise DataFormatError(str(path), None, "not a model file written by save_pretrained")
        saved = meta.get("class")
        try:
            module = cls(**cls.upgrade_config(meta["config"]))
        except (TypeError, ValueError) as err:
            problem = f"its config does not fit {cls.__name__}: {err}"
            if saved not in (None, cls.__name__):
                problem = f"holds a {saved}, not a {cls.__name__}"
            raise DataFormatError(str(path), None, problem) from None
        if saved not in (None, type(module).__name__):
            raise DataFormatError(str(path), None, f"holds a {saved}, not a {type(module).__name__}")
        module.load_weights(state, source=str(path))
        return module

    def export_form(self) -> nn.Module:
        """This part as `torch.onnx.export` traces it for any batch size and length: itself, unless a
        subclass computes the same without packed sequences or data-dependent shapes."""
        return self

    @staticmethod
    def upgrade_config(config: dict) -> dict:
        """Constructor arguments saved by an earlier version as today's (a subclass that renamed some says how)."""
        return config

    @staticmethod
    def upgrade_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Weights saved by an earlier version under today's names (a subclass that renamed some says how)."""
        return state_dict

    def load_weights(self, state_dict: dict[str, torch.Tensor], source: str = "state dict") -> None:
        """Load weights after checking every name and shape, so a mismatch is refused before use."""
        state_dict = self.upgrade_state_dict(state_dict)
        own = self.state_dict()
        missing = sorted(set(own) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(own))
        if missing or unexpected:
            raise DataFormatError(
                source,
                None,
                f"weights do not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}",
            )
        for name, tensor in state_dict.items():
            if tuple(tensor.shape) != tuple(own[name].shape):
                raise DataFormatError(
                    source,
                    None,
                    f"weight {name} has shape {tuple(tensor.shape)}, the model expects {tuple(own[name].shape)}",
                )
        self.load_state_dict(state_dict)

    def attach_hook(
        self, module: nn.Module, hook: Callable, hook_type: str = "forward", name: str | None = None
    ) -> str:
        """Register a hook on a submodule; returns the name under which it can be detached."""
        if hook_type not in HOOK_TYPES:
            raise ValueError(f"hook_type must be one of {HOOK_TYPES}, got {hook_type!r}")
        register = getattr(module, f"register_{hook_type}_hook")
        name = name or f"{hook_type}:{id(module)}:{len(self._hook_handles)}"
        self._hook_handles[name] = register(hook)
        return name

    def detach_hook(self, name: str) -> None:
        """Remove the hook registered under `name`."""
        self._hook_handles.pop(name).remove()

    def detach_all_hooks(self) -> None:
        """Remove every hook registered with `attach_hook`."""
        for name in list(self._hook_handles):
            self.detach_hook(name)
