"""A run folder trained with an earlier version still loads and tags exactly as it did then."""

import json
import shutil

from ner.cli import main
from ner.data_processing.tokenizer import Tokenizer
from ner.inference.run import open_run
from ner.models.ner_predictor import NERPredictor
from ner.runtime.folder import read_config
from ner.utils.serialization import load_safetensors
from tests.conftest import FIXTURES

RUN = FIXTURES / "legacy_run"


def test_a_run_folder_from_an_earlier_version_tags_as_it_did(tmp_path):
    output = tmp_path / "tags.conll"
    status = main(
        [
            "predict",
            "--experiment",
            str(RUN),
            "--input",
            str(FIXTURES / "legacy_input.conll"),
            "--output",
            str(output),
        ]
    )
    assert status == 0
    assert output.read_text() == (FIXTURES / "legacy_predictions.conll").read_text()


def test_the_notebooks_loading_cell_reads_the_legacy_weights():
    config = read_config(RUN / "config.json").to_dict()
    tokenizer = Tokenizer.load(RUN / "tokenizer.json")
    model = NERPredictor(
        vocab_size=tokenizer.vocab_size,
        padding_idx=tokenizer.pad_id,
        output_dim=len(config["labels"]),
        labels=config["labels"],
        **config["model"],
    )
    model.load_state_dict(load_safetensors(RUN / "model.safetensors")[0])


def test_the_run_opens_into_an_object_that_tags_token_lists():
    blocks = (FIXTURES / "legacy_predictions.conll").read_text().strip().split("\n\n")
    rows = [[line.split("\t") for line in block.splitlines()] for block in blocks]
    sentences = [[token for token, _ in row] for row in rows]
    run = open_run(RUN, batch_size=2)
    assert run.predictor.tag(sentences) == [[tag for _, tag in row] for row in rows]


def test_a_run_that_used_a_removed_device_is_refused_with_its_file_and_key(tmp_path, capsys):
    run = tmp_path / "ensemble_run"
    shutil.copytree(RUN, run)
    config = json.loads((run / "config.json").read_text())
    config["model"].update(members=2, word_case="mixed")
    (run / "config.json").write_text(json.dumps(config))
    output = tmp_path / "tags.conll"
    status = main(
        [
            "predict",
            "--experiment",
            str(run),
            "--input",
            str(FIXTURES / "legacy_input.conll"),
            "--output",
            str(output),
        ]
    )
    error = capsys.readouterr().err.strip()
    assert status == 2 and not output.exists()
    assert (
        str(run / "config.json") in error and "model.members" in error and "ensembles were removed" in error
    )
    assert len(error.splitlines()) == 1
