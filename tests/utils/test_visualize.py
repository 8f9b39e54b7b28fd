import datasets
import torch

from ner.data_processing.constants import NER_ENCODING_MAP
from ner.models.ner_predictor import NERPredictor
from ner.utils.utils import colored, success
from ner.utils.visualize import (
    EXACT,
    MISMATCH,
    SAME_ENTITY,
    inspect_preds,
    match_kind,
    plot_sentence_lengths,
    plot_vocab_size,
    visualize_activations,
)


def model_for(tokenizer):
    torch.manual_seed(0)
    return NERPredictor(tokenizer.vocab_size, 6, tokenizer.pad_id, 5, 9, model="rnn", num_layers=2)


def test_match_kind_follows_the_notebooks_convention():
    assert match_kind("B-PER", "B-PER") == EXACT
    assert match_kind("B-PER", "I-PER") == SAME_ENTITY
    assert match_kind("B-PER", "I-LOC") == MISMATCH and match_kind("O", "B-LOC") == MISMATCH
    assert match_kind("O", None) is None


def test_inspect_preds_table(tiny_tokenizer):
    frame = inspect_preds(
        tiny_tokenizer, model_for(tiny_tokenizer), "I am Naruto Uzumaki", labels=["O", "O", "B-PER", "I-PER"]
    )
    assert list(frame.columns) == ["token", "is-unk?", "pred", "true"]
    assert frame["is-unk?"].tolist() == [False, False, False, True]
    assert len(frame) == 4


def test_inspect_and_activations_of_a_character_crf_tagger(tiny_tokenizer, tmp_path):
    torch.manual_seed(0)
    model = NERPredictor(
        tiny_tokenizer.vocab_size,
        6,
        0,
        5,
        9,
        model="lstm",
        chars="cnn",
        char_filters=4,
        head="crf",
    )
    frame = inspect_preds(tiny_tokenizer, model, "I am Naruto")
    assert len(frame) == 3 and set(frame["pred"]) <= set(NER_ENCODING_MAP)
    visualize_activations(
        tiny_tokenizer, model, model.char_encoder, "I am Naruto", output_path=tmp_path / "c.png"
    )
    assert (tmp_path / "c.png").stat().st_size > 0


def test_visualize_activations_writes_a_heatmap(tiny_tokenizer, tmp_path):
    model = model_for(tiny_tokenizer)
    figure = visualize_activations(
        tiny_tokenizer,
        model,
        model.model.hidden_layers[0],
        ["I", "am", "Naruto"],
        output_path=tmp_path / "act.png",
    )
    assert (tmp_path / "act.png").read_bytes()[:4] == b"\x89PNG"
    assert figure.axes[0].get_yticklabels()[2].get_text().startswith("Naruto")


def test_data_plots(tmp_path):
    dataset = {
        "train": datasets.Dataset.from_dict({"text": [["a", "b"], ["a"]]}),
        "val": datasets.Dataset.from_dict({"text": [["a", "c", "d"], ["b", "b"]]}),
    }
    plot_vocab_size(dataset, tmp_path / "v.png", min_freq_for_remove_frac=1)
    plot_sentence_lengths(dataset, tmp_path / "l.png")
    assert (tmp_path / "v.png").stat().st_size > 0 and (tmp_path / "l.png").stat().st_size > 0


def test_colored_and_success():
    assert colored("ok", "green") == "\033[32mok\033[0m"
    assert "Success" in success()._repr_html_() and "Success" in repr(success())
