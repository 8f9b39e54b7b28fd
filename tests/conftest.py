"""Shared fixtures: paths to the real corpora and a tiny tokenizer."""

from pathlib import Path

import pytest

from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.data_processing.tokenizer import Tokenizer

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WIKINEURAL = DATA_DIR / "wikineural-en"
CONLL = DATA_DIR / "conll2003-en"


@pytest.fixture(autouse=True)
def machine_cache(tmp_path_factory, monkeypatch):
    """Each test remembers probe results in a folder of its own, never in the user's cache."""
    monkeypatch.setenv("NER_CACHE_DIR", str(tmp_path_factory.mktemp("ner-cache")))


@pytest.fixture
def tiny_tokenizer() -> Tokenizer:
    return Tokenizer().from_dict({PAD_TOKEN: 0, UNK_TOKEN: 1, "I": 2, "am": 3, "Naruto": 4})


def require_data(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path
