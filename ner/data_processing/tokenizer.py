"""Word-level tokenizer: the vocabulary, with the notebook's `tokenize` to padded tensors."""

from __future__ import annotations

import torch

from ner.data_processing.vocabulary import Vocabulary


class Tokenizer(Vocabulary):
    """Maps word tokens to integer ids, padding and truncating to a fixed length on request."""

    def tokenize(
        self,
        input_seq: str | list[str],
        max_length: int | None = None,
        padding_side: str = "right",
        truncation_side: str = "right",
    ) -> dict[str, torch.Tensor]:
        """Token ids and padding mask (1 at padding) of a sequence, exactly `max_length` long if given."""
        ids, mask = self.padded(input_seq, max_length, padding_side, truncation_side)
        return {"input_ids": torch.LongTensor(ids), "padding_mask": torch.LongTensor(mask)}
