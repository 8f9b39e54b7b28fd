"""NERPredictor: token (and character) embeddings, a tagging network, and a softmax or CRF decoder."""

from __future__ import annotations

import torch
from torch import nn

from ner.data_processing.constants import DEFAULT_LABELS, LABEL_IGNORE_IDX
from ner.nn.decoders.crf import CRF
from ner.nn.embeddings.char_cnn import CharCNN
from ner.nn.embeddings.embedding import TokenEmbedding
from ner.nn.models.ffnn import FFNN
from ner.nn.models.recurrent import RecurrentTagger
from ner.nn.models.rnn import RNN
from ner.nn.module import Module
from ner.utils.metrics import compute_loss

MODEL_TYPES = ("ffnn", "rnn")
WORD_CASES = ("cased", "folded", "mixed")
DECODERS = ("softmax", "crf")


class NERPredictor(Module):
    """Embeds tokens, maps them to per-token tag scores with an FFNN or a recurrent network, and decodes.

    With the defaults it is the notebook's model: `model="rnn"` is then the notebook's step-by-step RNN.
    `cell` lstm/gru, `bidirectional` or `dropout` select PyTorch's packed recurrent kernels instead.
    `members > 1` makes an ensemble of that many independently initialised taggers of this
    architecture: each is trained on its own loss (the Trainer clips each member's gradient norm
    separately), and their scores are averaged to decode.
    `word_case="folded"` looks words up by their most frequent vocabulary form with the same lowercase
    ("JAPAN", "Japan" and "japan" share one embedding; characters still see the case); "mixed" folds
    every other member of an ensemble. Folded taggers read the least frequent `rare_word_frac` of the
    vocabulary (ids are numbered by falling training frequency) as the unknown word, so they learn it
    from real rare words and differ more from cased members.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        padding_idx: int,
        hidden_dim: int,
        output_dim: int,
        model: str = "ffnn",
        num_layers: int = 1,
        bias: bool = True,
        nonlinearity: str = "tanh",
        fused: bool = True,
        window: int = 0,
        cell: str = "rnn",
        bidirectional: bool = False,
        dropout: float = 0.0,
        char_filters: int = 0,
        char_dim: int = 32,
        char_kernel_size: int = 3,
        word_dropout: float = 0.0,
        unk_idx: int = 1,
        decoder: str = "softmax",
        labels: list[str] | None = None,
        members: int = 1,
        word_case: str = "cased",
        rare_word_frac: float = 0.0,
    ):
        super().__init__()
        self.record_config(locals())
        if members < 1:
            raise ValueError(f"members must be at least 1, got {members}")
        if word_case not in WORD_CASES or (word_case == "mixed" and members == 1):
            raise ValueError(f"word_case must be cased, folded or (for an ensemble) mixed, got {word_case!r}")
        if not 0.0 <= rare_word_frac < 1.0 or (rare_word_frac > 0.0 and word_case == "cased"):
            raise ValueError(
                f"rare_word_frac must lie in [0, 1) and needs folded words, got {rare_word_frac}"
            )
        self.members: nn.ModuleList | None = None
        if members > 1:
            single = {
                k: v for k, v in self.config.items() if k not in ("members", "word_case", "rare_word_frac")
            }
            folded = [word_case == "folded" or (word_case == "mixed" and i % 2 == 1) for i in range(members)]
            self.members = nn.ModuleList(
                NERPredictor(
                    **single,
                    word_case="folded" if fold else "cased",
                    rare_word_frac=rare_word_frac if fold else 0.0,
                )
                for fold in folded
            )
            return
        if word_case == "folded":
            self.register_buffer("case_fold", torch.arange(vocab_size))
            self.rare_from = vocab_size - int(rare_word_frac * max(vocab_size - 2, 0))
        if model not in MODEL_TYPES:
            raise ValueError(f"model must be one of {MODEL_TYPES}, got {model!r}")
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
        labels = list(labels) if labels is not None else (list(DEFAULT_LABELS) if output_dim == 9 else None)
        if decoder == "crf" and (labels is None or len(labels) != output_dim):
            raise ValueError("a CRF decoder needs `labels`, one per output dimension")
        self.padding_idx, self.unk_idx, self.word_dropout = padding_idx, unk_idx, word_dropout
        self.embedding = TokenEmbedding(vocab_size, embedding_dim, padding_idx)
        self.char_encoder = CharCNN(char_dim, char_filters, char_kernel_size) if char_filters > 0 else None
        self.input_dropout = nn.Dropout(dropout)
        input_dim = embedding_dim + char_filters
        if model == "ffnn":
            self.model = FFNN(input_dim, hidden_dim, output_dim, num_layers, window, dropout)
        elif cell == "rnn" and not bidirectional and dropout == 0.0:
            self.model = RNN(input_dim, hidden_dim, output_dim, num_layers, bias, nonlinearity, fused)
        else:
            self.model = RecurrentTagger(
                input_dim, hidden_dim, output_dim, num_layers, cell, bidirectional, dropout, nonlinearity
            )
        self.crf = CRF(labels) if decoder == "crf" else None

    def set_case_fold(self, fold_ids: list[int]) -> None:
        """Give every case-folding tagger the id each vocabulary id is looked up as
        (`Tokenizer.case_fold_ids`), rare words as the unknown word."""
        for module in self.modules():
            if isinstance(module, NERPredictor) and hasattr(module, "case_fold"):
                folded = torch.as_tensor(fold_ids)
                rare = folded >= module.rare_from
                module.case_fold.copy_(torch.where(rare, torch.full_like(folded, module.unk_idx), folded))

    @property
    def uses_chars(self) -> bool:
        """Whether the model reads character ids."""
        if self.members is not None:
            return self.members[0].uses_chars
        return self.char_encoder is not None

    @property
    def has_own_loss(self) -> bool:
        """Whether training uses the model's `loss` (a CRF's or an ensemble's) rather than the Trainer's."""
        return self.members is not None or self.crf is not None

    def _drop_words(self, input_ids: torch.Tensor) -> torch.Tensor:
        """In training, replace a `word_dropout` fraction of real tokens by the unknown token."""
        if not self.training or self.word_dropout == 0.0:
            return input_ids
        drop = torch.rand(input_ids.shape, device=input_ids.device) < self.word_dropout
        return torch.where(
            drop & (input_ids != self.padding_idx), torch.full_like(input_ids, self.unk_idx), input_ids
        )

    def forward(
        self,
        input_ids: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        char_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(batch, length) token ids -> (batch, length, output_dim) tag scores, stacked as
        (members, batch, length, output_dim) for an ensemble."""
        if self.members is not None:
            return torch.stack([member(input_ids, padding_mask, char_ids) for member in self.members])
        word_ids = self._drop_words(input_ids)
        if hasattr(self, "case_fold"):
            word_ids = self.case_fold[word_ids]
        embeddings = self.embedding(word_ids)
        if self.char_encoder is not None:
            if char_ids is None:
                raise ValueError("this model reads character ids: build its collator with char_max_length")
            embeddings = torch.cat([embeddings, self.char_encoder(char_ids)], dim=-1)
        return self.model(self.input_dropout(embeddings), padding_mask)

    def loss(
        self,
        logits: torch.Tensor,
        labels: torch.Tensor,
        padding_mask: torch.Tensor,
        token_loss: nn.Module | None = None,
    ) -> torch.Tensor:
        """Loss per token: the CRF's negative log-likelihood, else `token_loss` (plain cross-entropy by
        default); an ensemble's is the sum of its members', so each member gets the gradient it would get
        trained alone."""
        if self.members is not None:
            losses = [
                m.loss(x, labels, padding_mask, token_loss) for m, x in zip(self.members, logits, strict=True)
            ]
            return torch.stack(losses).sum()
        if self.crf is not None:
            mask = labels != LABEL_IGNORE_IDX
            return self.crf.nll(logits, labels, mask) / mask.sum().clamp(min=1)
        token_loss = token_loss or nn.CrossEntropyLoss(ignore_index=LABEL_IGNORE_IDX)
        return compute_loss(token_loss, logits, labels)

    @torch.no_grad()
    def decode(self, logits: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
        """Tag ids: Viterbi under the CRF, else the arg-max; an ensemble decodes its members' mean scores
        (log-probabilities for softmax members) under their mean CRF."""
        if self.members is not None:
            first = self.members[0]
            if first.crf is not None:
                crf = CRF.average([m.crf for m in self.members])
                return crf.viterbi(logits.mean(dim=0), padding_mask == 0)
            return logits.log_softmax(dim=-1).mean(dim=0).argmax(dim=-1)
        if self.crf is not None:
            return self.crf.viterbi(logits, padding_mask == 0)
        return logits.argmax(dim=-1)

    @torch.no_grad()
    def predict(
        self,
        input_ids: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        char_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(batch, length) most likely tag ids."""
        if padding_mask is None:
            padding_mask = torch.zeros_like(input_ids)
        return self.decode(self(input_ids, padding_mask, char_ids), padding_mask)
