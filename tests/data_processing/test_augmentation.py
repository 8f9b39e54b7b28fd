"""Training text in other casings: recasing, which sentences an epoch recases, and what each part reads."""

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from ner.data_processing.augmentation import CASINGS, CaseAugmentation, RecasedExamples, recase, recase_tokens
from ner.data_processing.casing_classes import LOWER, TITLE, UPPER
from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.tokenizer import Tokenizer
from ner.models.ner_predictor import NERPredictor
from ner.trainers.trainer import Trainer


@given(st.text(), st.sampled_from(CASINGS))
@example("ℂ İSTANBUL ϒ", "lower")
def test_recasing_keeps_every_offset(text, casing):
    changed = recase(text, casing)
    assert len(changed) == len(text)
    # Lower-cased once, nothing more lowers: "ℂ" and "ϒ" have no lower case, "İ" lowers to two.
    if casing == "lower":
        assert recase(changed, "lower") == changed


def test_recasing_leaves_characters_whose_other_case_is_two():
    assert recase("Straße", "upper") == "STRAßE"
    assert recase("İSTANBUL", "lower") == "İstanbul"
    assert recase_tokens(["Anna", "NATO"], "lower") == ["anna", "nato"]
    with pytest.raises(ValueError, match="casing"):
        recase("x", "title")


def test_each_epoch_recases_its_shares_of_the_sentences_from_the_seed_alone():
    augmentation = CaseAugmentation(lower=0.3, upper=0.2, seed=7)
    first = augmentation.casings(20_000, epoch=0)
    assert abs(first.count("lower") / 20_000 - 0.3) < 0.02
    assert abs(first.count("upper") / 20_000 - 0.2) < 0.02
    assert first == CaseAugmentation(0.3, 0.2, seed=7).casings(20_000, epoch=0)
    assert first != augmentation.casings(20_000, epoch=1)
    assert not CaseAugmentation(0.0, 0.0, 7).active and set(CaseAugmentation(0, 0, 7).casings(50, 0)) == {
        "as-is"
    }
    with pytest.raises(ValueError):
        CaseAugmentation(0.7, 0.4, 0)


def test_every_input_of_a_batch_reads_the_recased_words():
    vocabulary = Tokenizer(case_backoff=True).from_dict(
        {PAD_TOKEN: 0, UNK_TOKEN: 1, "Anna": 2, "lives": 3, "in": 4, "Rome": 5}
    )
    collator = DataCollator(vocabulary, char_max_length=20, casing=True)
    examples = [{"text": ["Anna", "lives", "in", "Rome"], "NER": ["B-PER", "O", "O", "B-LOC"]}] * 3
    recased = RecasedExamples(examples, ["as-is", "lower", "upper"], "text")
    assert recased[1]["text"] == ["anna", "lives", "in", "rome"] and recased[1]["NER"] == examples[0]["NER"]
    batch = collator([recased[i] for i in range(3)])
    # Word ids: the vocabulary's casing of each word, whatever the text's.
    assert batch.input_ids.tolist() == [[2, 3, 4, 5]] * 3
    assert batch.casing_ids.tolist() == [
        [TITLE, LOWER, LOWER, TITLE],
        [LOWER] * 4,
        [UPPER] * 4,
    ]
    words = batch.char_words[batch.char_index]
    assert bytes(int(b) - 1 for b in words[1, 0] if b) == b"anna"
    assert bytes(int(b) - 1 for b in words[2, 0] if b) == b"ANNA"
    assert batch.labels[0].tolist() == batch.labels[1].tolist() == batch.labels[2].tolist()


def test_the_transformers_word_pieces_read_the_recased_words():
    pytest.importorskip("transformers")
    collator = DataCollator(Tokenizer(), word_pieces="minilm")
    cased, upper = (collator([{"text": recase_tokens(["Angela", "Merkel"], c)}]) for c in ("as-is", "upper"))
    # The packaged MiniLM's WordPieces are uncased: the same pieces either way.
    assert torch.equal(cased.piece_ids, upper.piece_ids)


def test_the_trainer_shows_an_epochs_recased_sentences(tiny_tokenizer):
    examples = [{"text": ["I", "am", "Naruto"], "NER": ["O", "O", "B-PER"]}] * 40
    model = NERPredictor(vocab_size=5, embedding_dim=4, padding_idx=0, hidden_dim=4, output_dim=9)
    trainer = Trainer(
        model,
        torch.optim.AdamW(model.parameters()),
        DataCollator(tiny_tokenizer),
        examples,
        augmentation=CaseAugmentation(0.5, 0.5, seed=1),
    )
    loader = trainer._loader(trainer.train_data, batch_size=8, epoch=0, num_workers=0)
    shown = [loader.dataset[i]["text"][2] for i in range(40)]
    assert set(shown) == {"naruto", "NARUTO"}
    assert trainer._loader(trainer.train_data, 8, 0, 0).dataset.casings == loader.dataset.casings
