"""Training on several sources: each source shown its weight's number of times an epoch, and validation
reporting each source's F1."""

import collections

import torch

from ner.trainers.trainer import source_counts, weighted_order


def test_an_epoch_shows_each_source_its_weight_times():
    sources = ["a"] * 10 + ["b"] * 4 + [None] * 3
    weights = {"a": 0.5, "b": 2.5}
    orders = [weighted_order(sources, weights, torch.Generator().manual_seed(epoch)) for epoch in range(3)]
    for order in orders:
        counts = collections.Counter(sources[i] for i in order)
        assert counts == {"a": 5, "b": 10, None: 3}
        shown = collections.Counter(order)
        assert all(shown[i] in (2, 3) for i in range(10, 14))  # two whole copies and a share of a third
    assert len({tuple(sorted(o)) for o in orders}) > 1, "the fraction is drawn anew each epoch"
    assert sum(count for _, count in source_counts(sources, weights).values()) == len(orders[0])


def test_validation_reports_each_sources_f1_beside_the_whole():
    import datasets
    from torch.optim import AdamW

    from ner.data_processing.data_collator import DataCollator
    from ner.data_processing.tokenizer import Tokenizer
    from ner.models.ner_predictor import NERPredictor
    from ner.trainers.trainer import Trainer

    rows = {
        "text": [["Paris", "is", "big"], ["Anna", "lives", "in", "Rome"]] * 8,
        "NER": [["B-LOC", "O", "O"], ["B-PER", "O", "O", "B-LOC"]] * 8,
        "source": ["news", "wiki"] * 8,
    }
    data = datasets.Dataset.from_dict(rows)
    tokenizer = Tokenizer().train(data)
    collator = DataCollator(tokenizer)
    torch.manual_seed(0)
    model = NERPredictor(tokenizer.vocab_size, 8, tokenizer.pad_id, 8, 9, model="lstm")
    trainer = Trainer(
        model, AdamW(model.parameters(), lr=0.05), collator, data, data, source_weights={"wiki": 2}
    )
    assert trainer._steps_per_epoch(4) == 6  # 8 news + 16 wiki sentences, 4 a batch
    history = trainer.train_and_eval(batch_size=4, num_epochs=12)
    val = history[-1]["val"]
    assert val["entity_f1@wiki"] > 0.9 and val["entity_f1@news"] > 0.9
    weighted = {s: val[f"entity_f1_micro@{s}"] for s in ("news", "wiki")}
    assert min(weighted.values()) <= val["entity_f1_micro"] <= max(weighted.values())
