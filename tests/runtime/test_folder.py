"""Model folders: one module names their files and decides run or export."""

import re
import shutil

import pytest

from ner.runtime import folder
from ner.runtime.folder import (
    CONFIG_FILE,
    ONNX_FILE,
    RunFiles,
    is_exported,
    pack,
    read_config,
    refuse_epoch,
    unpacked,
)
from ner.utils.errors import DataFormatError, NerError
from tests.conftest import LEGACY_RUN, ROOT

RUN = LEGACY_RUN


def test_only_the_folder_module_names_a_model_folders_files():
    names = [value for key, value in vars(folder).items() if key.endswith("_FILE")]
    quoted = re.compile("|".join(re.escape(f'"{name}"') for name in names))
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "ner").rglob("*.py"))
        # word_pieces.py names the transformer's own tokenizer.json, not a model folder's.
        if path.name not in ("folder.py", "word_pieces.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if quoted.search(line)
    ]
    assert found == []


def test_a_run_folder_and_an_export_are_told_apart(tmp_path):
    assert not is_exported(RUN) and not is_exported(str(tmp_path / "missing")) and not is_exported(None)
    (tmp_path / ONNX_FILE).write_bytes(b"")
    assert is_exported(tmp_path) and is_exported(str(tmp_path))
    refuse_epoch(RUN, 3)
    with pytest.raises(NerError, match="one set of weights; --epoch reads a run folder"):
        refuse_epoch(tmp_path, 3)
    with pytest.raises(NerError, match="--epoch"):
        pack(tmp_path, 3)


def test_run_files_name_the_best_model_or_a_checkpoint(tmp_path):
    files = RunFiles.of_folder(RUN)
    assert files.config == RUN / CONFIG_FILE and files.home == RUN and files.name == "legacy_run"
    with pytest.raises(DataFormatError, match="no checkpoint of epoch 7"):
        RunFiles.of_folder(RUN, 7)
    with pytest.raises(DataFormatError, match="no such experiment folder or installed model"):
        RunFiles.of_folder(tmp_path / "nowhere")


def test_an_old_config_is_upgraded_and_a_broken_one_named(tmp_path):
    assert read_config(RUN / CONFIG_FILE).labels
    (tmp_path / CONFIG_FILE).write_text('{"model": {"embedding_dim": -1}}')
    with pytest.raises(DataFormatError, match=re.escape(str(tmp_path / CONFIG_FILE))):
        read_config(tmp_path / CONFIG_FILE)


def test_a_packed_run_unpacks_to_the_same_files_and_leaves_nothing_behind(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    package = pack(run, None)
    with unpacked(package) as files:
        assert isinstance(files, RunFiles)
        assert files.config.read_bytes() == (run / CONFIG_FILE).read_bytes()
        assert files.weights.read_bytes() == RunFiles.of_folder(run).weights.read_bytes()
        where = files.home
    assert not where.exists()
