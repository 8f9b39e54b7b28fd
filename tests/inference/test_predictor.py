"""The tagger contract and the one Predictor every caller tags through."""

import os

import pytest
import torch
from torch import nn

import ner
from ner.data_processing.batch import Batch
from ner.data_processing.constants import DEFAULT_LABELS, NER_ENCODING_MAP
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.dataset import load_dataset
from ner.inference import predictor as predictor_module
from ner.inference.predictor import Predictor
from ner.inference.run import open_run
from ner.models.ner_predictor import NERPredictor
from ner.models.tagger import NetworkTagger, Tagger, as_tagger
from ner.nn.embeddings.embedding import TokenEmbedding
from ner.runtime.model import length_sorted_batches
from ner.runtime.workers import WorkerSetup, ordered_map
from ner.trainers.trainer import Trainer
from ner.utils.errors import DataFormatError, NerError
from ner.workflows.submission import predict_test_spans
from tests.conftest import LEGACY_RUN, ROOT
from tests.helpers import documented_dataset

RUN = LEGACY_RUN
LABELS = list(DEFAULT_LABELS)
SENTENCES = [["Anna", "visits", "Rome", "."], ["Acme"], ["ROME", "wins", "the", "cup", "in", "Paris"]]


def test_a_bare_network_is_adapted_to_the_contract_once():
    network = TokenEmbedding(10, 9, 0)
    tagger = as_tagger(network)
    assert isinstance(tagger, NetworkTagger) and tagger.network is network
    model = NERPredictor(10, 4, 0, 6, 9)
    assert as_tagger(model) is model and isinstance(model, Tagger)
    ids = torch.tensor([[2, 3, 0]])
    batch = Batch(ids, (ids == 0).long(), labels=torch.tensor([[1, 0, -100]]))
    emissions = tagger(batch)
    assert torch.equal(emissions, network(ids))
    assert torch.equal(tagger.decode(emissions, batch.mask), emissions.argmax(-1))
    expected = nn.functional.cross_entropy(emissions[0, :2], torch.tensor([1, 0]))
    assert torch.isclose(tagger.loss(emissions, batch.labels, batch.mask), expected)


def test_the_batch_reads_like_the_notebooks_dict_and_knows_its_mask():
    batch = Batch(torch.tensor([[5, 0]]), torch.tensor([[0, 1]]))
    assert set(batch) == {"input_ids", "padding_mask"} and batch["input_ids"].tolist() == [[5, 0]]
    assert batch.mask.tolist() == [[True, False]] and "labels" not in batch
    with pytest.raises(KeyError):
        batch["labels"]


def test_predictions_come_back_in_input_order_whatever_the_padding_side(tiny_tokenizer):
    torch.manual_seed(0)
    model = NERPredictor(tiny_tokenizer.vocab_size, 4, 0, 6, 9, model="lstm", bidirectional=True, head="crf")
    right = Predictor(model, DataCollator(tiny_tokenizer), LABELS, batch_size=2)
    left = Predictor(model, DataCollator(tiny_tokenizer, padding_side="left"), LABELS, batch_size=2)
    one_by_one = [right.tag([s])[0] for s in SENTENCES]
    assert right.tag(SENTENCES) == left.tag(SENTENCES) == one_by_one
    assert [len(t) for t in one_by_one] == [len(s) for s in SENTENCES]
    assert length_sorted_batches([3, 1, 2], 2) == [[1, 2], [0]]


def test_batches_hold_at_most_the_token_budget_and_tag_as_one_batch_does(tiny_tokenizer):
    lengths = [2, 9, 3, 3, 4, 0]
    batches = length_sorted_batches(lengths, 256, max_tokens=8)
    assert batches == [[5, 0], [2, 3], [4], [1]]
    assert all(len(b) * max(lengths[i] for i in b) <= 8 for b in batches if len(b) > 1)
    torch.manual_seed(0)
    model = NERPredictor(tiny_tokenizer.vocab_size, 4, 0, 6, 9, model="lstm", bidirectional=True, head="crf")
    whole = Predictor(model, DataCollator(tiny_tokenizer), LABELS)
    budgeted = Predictor(model, DataCollator(tiny_tokenizer), LABELS)
    budgeted.batch_tokens = max(len(s) for s in SENTENCES)
    assert budgeted.predict(SENTENCES, scores=True).tags == whole.predict(SENTENCES).tags


def test_scores_cost_nothing_unless_asked(tiny_tokenizer, monkeypatch):
    model = NERPredictor(tiny_tokenizer.vocab_size, 4, 0, 6, 9, head="crf")
    predictor = Predictor(model, DataCollator(tiny_tokenizer), LABELS)
    scored = predictor.predict(SENTENCES, scores=True)
    assert [len(c.emissions) for c in scored.chains] == [len(s) for s in SENTENCES]
    monkeypatch.setattr(predictor_module, "chains", lambda *a: pytest.fail("chains computed unasked"))
    plain = predictor.predict(SENTENCES)
    assert plain.chains is None and plain.tags == scored.tags


def test_no_signature_inspection_or_fallback_decoding_in_the_prediction_and_training_path():
    for folder in ("ner/inference", "ner/trainers", "ner/models", "ner/workflows", "ner/serve"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text()
            assert "inspect.signature" not in source, path
            assert 'hasattr(model, "decode")' not in source and 'hasattr(self.model, "loss")' not in source, (
                path
            )


def test_a_run_opens_the_same_in_another_process():
    texts = ["Anna Smith visits Acme Corp in Rome.", "ROME wins.", "", "Paris and Berlin meet."] * 5
    pipeline = ner.load(RUN)
    alone = [doc.to_dict() for doc in pipeline.pipe(texts, batch_size=3)]
    workers = [doc.to_dict() for doc in pipeline.pipe(texts, batch_size=3, n_process=2)]
    assert workers == alone


def square_unless_seven(chunk: int) -> int:
    if chunk == 7:
        raise DataFormatError("input.jsonl", 7, "a bad line")
    return chunk * chunk


def die_on_three(chunk: int) -> int:
    if chunk == 3:
        os._exit(1)
    return chunk


def nothing(threads: int) -> None:
    """No setup."""


def test_worker_results_keep_their_order_and_a_failure_stops_the_map():
    assert list(ordered_map(square_unless_seven, range(7), 2, WorkerSetup(nothing))) == [
        i * i for i in range(7)
    ]
    with pytest.raises(DataFormatError, match="input.jsonl:7: a bad line"):
        list(ordered_map(square_unless_seven, range(10), 2, WorkerSetup(nothing)))
    with pytest.raises(NerError, match="a worker process stopped unexpectedly"):
        list(ordered_map(die_on_three, range(6), 2, WorkerSetup(nothing)))


def test_submit_and_the_notebooks_trainer_test_give_the_same_spans(tmp_path):
    dataset = documented_dataset(tmp_path)
    run = open_run(RUN, document_consistency=True)
    test = load_dataset(dataset)["test"]
    collator = run.predictor.collator
    notebook = Trainer.test(test, collator, run.model, document_consistency=True)
    assert notebook == predict_test_spans(dataset, run)
    assert set(notebook) <= {label[2:] for label in NER_ENCODING_MAP if label[:2] == "B-"}
