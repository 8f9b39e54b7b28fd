"""Dynamic padding of a batch of examples into the typed batch of tensors a tagger reads."""

from __future__ import annotations

from ner.data_processing.arrays import ArrayCollator
from ner.data_processing.batch import Batch


class DataCollator(ArrayCollator):
    """Tokenizes a list of examples and pads them to the batch's longest sequence (or to `max_length`)."""

    def __call__(self, data_instances: list[dict]) -> Batch:
        """Batch of `input_ids`, `padding_mask` and, for labelled examples, `labels` (-100 at padding);
        `char_words`/`char_index`, `casing_ids` and `piece_ids`/`piece_word` for models that read them."""
        return Batch.from_arrays(self.arrays(data_instances))
