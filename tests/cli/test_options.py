"""The command line's shared options: one MODEL however it is given, the worker count and named weights."""

import pytest

from ner.cli import build_parser
from ner.cli.options import model_of, parse_workers
from ner.cli.train import source_weights
from ner.utils.errors import NerError

COMMANDS = ["predict", "evaluate", "inspect", "serve", "calibrate", "export", "package"]
REQUIRED = {
    "predict": ["--input", "a", "--output", "b"],
    "evaluate": ["--input", "a"],
    "inspect": ["--text", "a"],
    "calibrate": ["--dataset", "d"],
    "export": ["--output", "o"],
    "package": ["--name", "n", "--version", "1.0", "--output", "o"],
    "serve": [],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_that_uses_a_model_takes_it_first_or_as_experiment(command):
    parser = build_parser()
    first = parser.parse_args([command, "runs/rnn", *REQUIRED[command]])
    flag = parser.parse_args([command, "--experiment", "runs/rnn", *REQUIRED[command]])
    both = parser.parse_args([command, "runs/rnn", "--experiment", "runs/rnn", *REQUIRED[command]])
    assert model_of(first) == model_of(flag) == model_of(both) == "runs/rnn"
    with pytest.raises(NerError, match="no model: name one"):
        model_of(parser.parse_args([command, *REQUIRED[command]]))
    with pytest.raises(NerError, match="two different models"):
        model_of(parser.parse_args([command, "a", "--experiment", "b", *REQUIRED[command]]))


def test_workers_are_a_count_or_auto():
    assert parse_workers("auto") is None and parse_workers("3") == 3
    for bad in ("0", "-1", "two", ""):
        with pytest.raises(NerError, match="--workers takes a number"):
            parse_workers(bad)


def test_source_weights_are_named_numbers():
    assert source_weights("wikineural-en=1, conll2003-en=0.5") == {"wikineural-en": 1.0, "conll2003-en": 0.5}
    for bad, problem in [("wiki", "takes SOURCE=NUMBER"), ("wiki=x", "the weight of wiki is a number")]:
        with pytest.raises(NerError, match=problem):
            source_weights(bad)


def test_a_submission_model_without_a_name_is_refused_in_one_line(tmp_path, capsys):
    from ner.cli import main

    assert main(["submit", "--dataset", str(tmp_path), "--output", str(tmp_path), "--model", "runs/rnn"]) == 2
    assert "error: --model takes NAME=RUN_DIR, got 'runs/rnn'" in capsys.readouterr().err
