"""Safe model files: tensors as safetensors or weights-only torch files, never code-running pickles."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ner.utils.errors import DataFormatError, UnsafeFileError
from ner.utils.files import check_file
from ner.utils.io import atomic_write


def save_torch(path: str | Path, obj: dict) -> None:
    """Write a dict of tensors and plain values with torch.save, whole or not at all."""
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def load_torch(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a torch file with weights_only=True: a file that needs pickle is refused and runs no code."""
    path = check_file(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise UnsafeFileError(
            f"{path}: refused: this file needs pickle to load, which could run code; "
            "only weights-only torch files and safetensors are accepted"
        ) from None
    except (RuntimeError, EOFError, ValueError) as err:
        raise DataFormatError(str(path), None, f"not a readable torch file ({err})") from None


def save_safetensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict) -> None:
    """Write tensors with JSON metadata to a safetensors file, whole or not at all."""
    header = {key: json.dumps(value) for key, value in metadata.items()}
    tensors = {name: tensor.detach().contiguous().cpu() for name, tensor in tensors.items()}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=header))


def load_safetensors(path: str | Path, device: str | torch.device = "cpu") -> tuple[dict, dict]:
    """Tensors and JSON metadata of a safetensors file."""
    path = check_file(path)
    try:
        tensors = load_file(str(path), device=str(device))
        with open(path, "rb") as fh:
            header_size = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(header_size))
        metadata = {key: json.loads(value) for key, value in header.get("__metadata__", {}).items()}
    except (SafetensorError, json.JSONDecodeError, OSError, ValueError) as err:
        raise DataFormatError(str(path), None, f"not a readable safetensors file ({err})") from None
    return tensors, metadata
