"""Errors the toolkit raises for bad input, each naming where the problem lies."""

from __future__ import annotations


class NerError(Exception):
    """Base of the toolkit's user-facing errors: the command line prints them as one line."""


class DataFormatError(NerError, ValueError):
    """A data, tokenizer or model file that cannot be read as what it should be."""

    def __init__(self, path: str, line: int | None, problem: str):
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple:
        return type(self), (self.path, self.line, self.problem)


class ConfigError(NerError, ValueError):
    """A configuration value that is unknown, of the wrong type, or impossible."""

    def __init__(self, key: str, problem: str):
        self.key, self.problem = key, problem
        super().__init__(f"config key '{key}': {problem}")

    def __reduce__(self) -> tuple:
        return type(self), (self.key, self.problem)


class UnsafeFileError(NerError):
    """A model or checkpoint file that would need pickle, and so could run code, to load."""


TRAIN_HINT = 'install the training extra: pip install -e ".[train]"'


def require_torch(purpose: str) -> None:
    """Refuse in one line, saying what to install, when PyTorch (the `train` extra) is missing."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise NerError(f"{purpose} needs PyTorch, which is not installed; {TRAIN_HINT}")
