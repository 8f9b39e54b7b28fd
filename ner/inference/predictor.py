"""The one prediction path: token lists through collate -> forward -> decode -> finish. Training's
validation, `ner predict`/`evaluate`/`submit`/`inspect`, the raw-text pipeline and the service all tag
through a Predictor."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ner.data_processing.batch import Batch
from ner.data_processing.data_collator import DataCollator
from ner.inference.precision import autocast, first_line
from ner.models.tagger import Tagger
from ner.nn.heads.crf import left_align
from ner.nn.tags.chain import Chain, chains
from ner.runtime.model import BatchHook, TokenPredictor
from ner.utils.console import log
from ner.utils.spans import get_named_entity_spans
from ner.utils.thresholds import MinScore


class Predictor(TokenPredictor):
    """Tags token lists with a tagger: length-sorted batches collated by `collator`, the network run in
    `precision` (bfloat16 or float32, decided by the caller), the tagger's own decoding, then tag scheme
    back to the data's labels and, with `document_consistency`, one type per phrase within a document;
    span scores calibrated by `temperature`, entities below `min_score` dropped."""

    def __init__(
        self,
        tagger: Tagger,
        collator: DataCollator,
        labels: list[str],
        precision: str = "float32",
        document_consistency: bool = False,
        batch_size: int = 256,
        temperature: float = 1.0,
        min_score: MinScore | None = None,
    ):
        super().__init__(
            labels, precision, document_consistency, batch_size, tagger.tag_scheme, temperature, min_score
        )
        self.tagger = tagger
        self.collator = collator

    @property
    def device(self) -> torch.device:
        """Where the tagger's weights are."""
        return next(self.tagger.parameters()).device

    def examples(
        self, sentences: Sequence[Sequence[str]], labels: Sequence[Sequence[str]] | None = None
    ) -> list[dict]:
        """Token lists (with their gold labels, if given) as the collator's examples."""
        if labels is None:
            return [{self.collator.text_colname: tokens} for tokens in sentences]
        names = (self.collator.text_colname, self.collator.label_colname)
        return [dict(zip(names, pair, strict=True)) for pair in zip(sentences, labels, strict=True)]

    def forward(self, batch: Batch) -> torch.Tensor:
        """The tagger's float32 emissions of a batch on its device, in this predictor's precision (which
        turns to float32 for good, with one line saying why, if this batch fails in bfloat16)."""
        batch = batch.without_labels().to(self.device)
        try:
            with autocast(batch.input_ids.device, self.precision):
                emissions = self.tagger(batch)
        except RuntimeError as err:
            if self.precision == "float32":
                raise
            log.print(
                f"[yellow]note[/]: {self.precision} failed on a batch ({first_line(err)}); using float32"
            )
            self.precision = "float32"
            emissions = self.tagger(batch)
        return emissions.float()

    def decode(self, batch: Batch, emissions: torch.Tensor) -> list[list[int]]:
        """Each row's label ids over its real tokens."""
        mask = batch.mask.to(emissions.device)
        ids = self.tagger.decode(emissions, mask)
        order = left_align(mask)
        lengths = mask.sum(dim=1).tolist()
        rows = ids.gather(1, order).cpu().tolist()
        return [row[:n] for row, n in zip(rows, lengths, strict=True)]

    def chains(self, batch: Batch, emissions: torch.Tensor) -> list[Chain]:
        """Each row's tag chain over its real tokens (for span probabilities and k-best paths)."""
        mask = batch.mask.to(emissions.device)
        potentials, transitions, start, end = (x.detach().cpu() for x in self.tagger.potentials(emissions))
        order = left_align(mask).cpu()
        potentials = potentials.gather(1, order.unsqueeze(-1).expand_as(potentials))
        return chains(potentials, transitions, start, end, mask.sum(dim=1).tolist(), self.temperature)

    @torch.inference_mode()
    def tag_batch(
        self,
        sentences: list[Sequence[str]],
        scores: bool,
        labels: list[Sequence[str]] | None = None,
        on_batch: BatchHook | None = None,
    ) -> tuple[list[list[int]], list[Chain] | None]:
        """Each sentence's BIO label ids, and its tag chain if `scores`, in eval mode; `on_batch` sees
        the batch (with the gold `labels`) and its emissions."""
        self.tagger.eval()
        batch = self.collator(self.examples(sentences, labels))
        emissions = self.forward(batch)
        if on_batch is not None:
            on_batch(batch, emissions)
        return self.decode(batch, emissions), self.chains(batch, emissions) if scores else None


def index_spans(
    predictor: Predictor,
    sentences: Sequence[Sequence[str]],
    indices: Sequence[Sequence[int | str]],
    documents: Sequence[int | None] | None = None,
) -> dict[str, list[str]]:
    """Predicted entity spans as 'start-end' strings in each sentence's `indices` numbering (the
    notebook's submission format), per entity type."""
    label2id = {label: i for i, label in enumerate(predictor.labels)}
    id2label = dict(enumerate(predictor.labels))
    spans: dict[str, list[str]] = {}
    for tags, index in zip(predictor.tag(sentences, documents), indices, strict=True):
        found = get_named_entity_spans([label2id[t] for t in tags], [int(i) for i in index], id2label)
        for etype, etype_spans in found.items():
            spans.setdefault(etype, []).extend(f"{start}-{end}" for start, end in etype_spans)
    return spans
