"""Shared fixtures: paths to the real corpora, a tiny tokenizer, and `ner serve` started for a test."""

import contextlib
import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.data_processing.tokenizer import Tokenizer
from ner.utils.cache import CACHE_ENV

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
LEGACY_RUN = FIXTURES / "legacy_run"
DATA_DIR = ROOT.parent / "shared" / "data"
WIKINEURAL = DATA_DIR / "wikineural-en"
CONLL = DATA_DIR / "conll2003-en"

# Ray Data's usage statistics query a Prometheus server from background threads that outlive the Ray
# tests, and a traceback they log while another test parses Python source trips CPython 3.11's
# thread-unsafe AST constructor ("AST constructor recursion depth mismatch"). `ner` turns them off in
# `start_ray`; the tests' own clusters start before it, so here too.
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(autouse=True)
def machine_cache(tmp_path_factory, monkeypatch):
    """Each test remembers probe results in a folder of its own, never in the user's cache."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("ner-cache")))


@pytest.fixture
def tiny_tokenizer() -> Tokenizer:
    return Tokenizer().from_dict({PAD_TOKEN: 0, UNK_TOKEN: 1, "I": 2, "am": 3, "Naruto": 4})


def require_data(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


def site_packages(venv: Path) -> Path:
    """Where a virtual environment made by this interpreter keeps its packages."""
    return Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))


# The annotation tools' own virtual environment (`make setup-annotation-tools`).
TOOLS_VENV = Path(os.environ.get("NER_ANNOTATION_TOOLS_VENV", ROOT / ".venv-annotation-tools"))


def require_tool(path: Path) -> None:
    """Skip the calling test module unless `path` (a tool in TOOLS_VENV) is there; fail instead where
    NER_REQUIRE_ANNOTATION_TOOLS is set, as CI sets it."""
    if path.exists():
        return
    if os.environ.get("NER_REQUIRE_ANNOTATION_TOOLS"):
        raise RuntimeError(f"NER_REQUIRE_ANNOTATION_TOOLS is set but {path} is missing")
    pytest.skip(f"needs {path} (make setup-annotation-tools)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def service(run: Path | str, *args: str, python: str = sys.executable) -> Iterator[str]:
    """`ner serve RUN ARGS` (run by `python`) on a free port, up and answering; its URL. Stopped with
    SIGTERM afterwards, which must end it cleanly."""
    port = free_port()
    process = subprocess.Popen(
        [python, "-m", "ner.cli", "serve", str(run), "--port", str(port), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("ner serve did not start: " + process.stdout.read().decode())
    try:
        yield url
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
