import pickle
import subprocess
import sys

import pytest
import torch

from ner.inference.run import read_weights
from ner.models.ner_predictor import NERPredictor
from ner.utils.errors import UnsafeFileError
from ner.utils.serialization import load_torch, save_torch


class Payload:
    """Unpickling this writes a marker file: proof that loading ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_weights_only_files_roundtrip(tmp_path):
    path = tmp_path / "c.ckpt"
    save_torch(path, {"epoch": 3, "model_state_dict": {"w": torch.ones(2)}})
    assert load_torch(path)["epoch"] == 3


def test_pickle_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"epoch": 0, "model_state_dict": {}, "x": Payload(str(marker))}, path)
    with pytest.raises(UnsafeFileError, match="needs pickle"):
        load_torch(path)
    with pytest.raises(UnsafeFileError):
        read_weights(path)
    assert not marker.exists()


def test_plain_pickle_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Payload(str(marker))))
    with pytest.raises(UnsafeFileError, match="evil.pt: refused"):
        NERPredictor.from_pretrained(path)
    assert not marker.exists()


def test_notebook_torch_load_path_refuses_payload(tmp_path):
    """The notebook loads checkpoints with torch.load; under torch >= 2.6 that is weights-only."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"model_state_dict": Payload(str(marker))}, path)
    code = f"import torch; torch.load({str(path)!r}, map_location=torch.device('cpu'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0 and not marker.exists()
