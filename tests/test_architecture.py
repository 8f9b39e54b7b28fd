"""The package's layers: lower packages never import higher ones (contract in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_the_import_contract_holds():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout
