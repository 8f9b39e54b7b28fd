"""Retraining without forgetting: a run started from another (`ner train --init RUN`) on data that lacks
some of RUN's entity types rehearses them, with RUN's own predictions of those types on the new texts
(pseudo-labels, the new tags winning where both speak) and a sample of a dataset that has them; the
old types' F1 is measured before and after."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import datasets
from datasets import DatasetDict

from ner.data_processing.dataset import load_dataset
from ner.data_processing.sources import SOURCE_COLUMN
from ner.inference.run import open_run
from ner.runtime.model import Model
from ner.utils.config import RehearseConfig
from ner.utils.console import log
from ner.utils.errors import ConfigError
from ner.utils.metrics import entity_scores
from ner.utils.spans import listed_types, tag_spans

REHEARSAL_SOURCE = "rehearsal"
LABELLED_SPLITS = ("train", "val")


def data_types(dataset: DatasetDict) -> set[str]:
    """The entity types tagged in a dataset's labelled splits."""
    return {
        tag[2:]
        for name in LABELLED_SPLITS
        if name in dataset
        for tags in dataset[name]["NER"]
        for tag in tags
        if tag != "O"
    }


def merged_tags(gold: Sequence[str], predicted: Sequence[str], types: set[str]) -> list[str]:
    """The gold tags with the predicted entities of `types` added where every token is O in gold."""
    tags = list(gold)
    for label, first, last in tag_spans(predicted):
        if label in types and all(tag == "O" for tag in gold[first : last + 1]):
            tags[first : last + 1] = [f"B-{label}"] + [f"I-{label}"] * (last - first)
    return tags


def tagged(model: Model, split: datasets.Dataset, text_column: str) -> list[list[str]]:
    """A model's tags of a split's sentences, documents made consistent as the model does."""
    documents = split["document"] if "document" in split.column_names else None
    return model.predictor.tag(split[text_column], documents)


def pseudo_label(
    split: datasets.Dataset, model: Model, types: set[str], text_column: str
) -> tuple[datasets.Dataset, int]:
    """A split with the model's entities of `types` merged into its tags, and how many were added."""
    predicted = tagged(model, split, text_column)
    merged = [merged_tags(gold, tags, types) for gold, tags in zip(split["NER"], predicted, strict=True)]
    added = sum(
        len([s for s in tag_spans(new) if s[0] in types]) - len([s for s in tag_spans(old) if s[0] in types])
        for old, new in zip(split["NER"], merged, strict=True)
    )
    return split.remove_columns("NER").add_column("NER", merged), added


def rehearsal_sample(
    data: str, split: datasets.Dataset, share: float, seed: int, text_column: str
) -> datasets.Dataset:
    """`share` times the new split's count of sentences from the training split of `data` (drawn without
    repeats while it has enough), as rows of the new split's columns, each its own document numbered
    after the split's."""
    train = load_dataset(data)["train"]
    wanted = max(1, round(share * len(split)))
    rng = random.Random(seed)
    rows = (
        rng.sample(range(len(train)), wanted)
        if wanted <= len(train)
        else rng.choices(range(len(train)), k=wanted)
    )
    sample = train.select(rows)
    first = max(split["document"], default=-1) + 1 if "document" in split.column_names else 0
    columns = {
        text_column: sample[text_column],
        "NER": sample["NER"],
        "index": sample["index"] if "index" in sample.column_names else [[] for _ in rows],
        "document": list(range(first, first + len(rows))),
    }
    if SOURCE_COLUMN in split.column_names:
        columns[SOURCE_COLUMN] = [REHEARSAL_SOURCE] * len(rows)
    present = {name: columns[name] for name in split.column_names}
    return datasets.Dataset.from_dict(present, features=split.features)


def rehearse(
    dataset: DatasetDict, source: Path, settings: RehearseConfig, seed: int, text_column: str
) -> tuple[DatasetDict, dict]:
    """The new dataset with what rehearsal adds (pseudo-labels of the types RUN knows and the data
    lacks, a sample of `settings.data`), and the record of it for init.json."""
    model = open_run(source, precision="float32")
    old_types = listed_types(model.id2label)
    missing = sorted(set(old_types) - data_types(dataset))
    record: dict = {
        "types_rehearsed": missing,
        "pseudo_labels": settings.pseudo_labels,
        "data": settings.data,
    }
    splits = dict(dataset)
    if settings.pseudo_labels and missing:
        for name in LABELLED_SPLITS:
            if name in splits:
                splits[name], added = pseudo_label(splits[name], model, set(missing), text_column)
                record[f"pseudo_entities_{name}"] = added
    if settings.data is not None and settings.share > 0:
        sample = rehearsal_sample(settings.data, splits["train"], settings.share, seed, text_column)
        splits["train"] = datasets.concatenate_datasets([splits["train"], sample])
        record["data_sentences"] = len(sample)
    log.print(
        f"rehearsing {', '.join(missing) or 'no types'} of {source}: "
        + ", ".join(
            f"{k} {v}" for k, v in record.items() if k.startswith(("pseudo_entities", "data_sentences"))
        )
    )
    return DatasetDict(splits), record


def check_rehearsal(settings: RehearseConfig, init_from: str | Path | None) -> None:
    """Rehearsal data is for a run started from another run's folder."""
    if settings.data is not None and (init_from is None or not Path(init_from).is_dir()):
        raise ConfigError(
            "rehearse.data", "rehearsal data is for a run started from a run folder (--init RUN)"
        )


def type_f1(model: Model, data: str, types: Sequence[str], text_column: str) -> dict[str, float]:
    """A model's F1 of each of `types` on the validation split of the dataset `data`."""
    split = load_dataset(data)["val"]
    gold, predicted = split["NER"], tagged(model, split, text_column)
    labels = sorted({tag for rows in (gold, predicted) for row in rows for tag in row})
    index = {label: i for i, label in enumerate(labels)}
    scores = entity_scores(
        [[index[t] for t in row] for row in gold],
        [[index[t] for t in row] for row in predicted],
        dict(enumerate(labels)),
    )
    return {etype: round(scores[etype]["f1"], 4) if etype in scores else 0.0 for etype in types}


def old_types_before_and_after(source: Path, run_dir: Path, data: str, text_column: str) -> dict:
    """The F1 of the source run's types on `data`'s validation split, by the source run and the new one."""
    before_model = open_run(source, precision="float32")
    types = listed_types(before_model.id2label)
    before = type_f1(before_model, data, types, text_column)
    after = type_f1(open_run(run_dir, precision="float32"), data, types, text_column)
    for etype in types:
        log.print(f"{etype}: F1 {before[etype]:.4f} before, {after[etype]:.4f} after (on {data}/val)")
    return {"before": before, "after": after, "measured_on": f"{data}/val"}
