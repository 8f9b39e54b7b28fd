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


def require_training(purpose: str) -> None:
    """Refuse in one line, saying what to install, when the `train` extra (PyTorch, datasets) is missing."""
    import importlib.util

    missing = [name for name in ("torch", "datasets") if importlib.util.find_spec(name) is None]
    if missing:
        raise NerError(f"{purpose} needs {' and '.join(missing)}, not installed here; {TRAIN_HINT}")
