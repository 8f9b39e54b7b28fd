"""Starting a tagger from another one trained on other entity types or another vocabulary: weights that
mean the same in both are copied (by tag name and by word), the rest keep their fresh start."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ner.data_processing.tokenizer import Tokenizer
from ner.nn.embeddings.embedding import TokenEmbedding
from ner.nn.heads.head import Head
from ner.nn.tags.schemes import entity_types
from ner.utils.errors import DataFormatError


@dataclass(frozen=True)
class Transfer:
    """What starting from another tagger kept: entity types and words known to both, and new ones."""

    types_kept: list[str]
    types_new: list[str]
    words_kept: int
    words_new: int

    def to_dict(self) -> dict:
        """The transfer as JSON-ready data."""
        return asdict(self)


def transfer_weights(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    source: dict[str, torch.Tensor],
    source_model: torch.nn.Module,
    source_tokenizer: Tokenizer,
    name: str,
) -> Transfer:
    """Copy `source` (the weights of `source_model`, named `name` in errors) into `model`: tag-indexed
    head weights by tag name, word embedding rows by word, every other weight whole (its shape must
    match; names of earlier versions read as today's). Tags and words the source lacks keep `model`'s
    own start."""
    source = source_model.upgrade_state_dict(source)
    state = model.state_dict()
    tag_rows = tag_index_map(model, source_model)
    word_rows = word_index_map(tokenizer, source_tokenizer)
    axes = tag_axes(model)
    words = word_parameters(model)
    for key, target in state.items():
        if key not in source:
            raise DataFormatError(
                name, None, f"has no weight {key}; start from a run of the same model parts"
            )
        value = source[key]
        if key in axes:
            state[key] = copy_rows(target, value, tag_rows, axes[key])
        elif key in words:
            state[key] = copy_rows(target, value, word_rows, (0,))
        elif value.shape != target.shape:
            raise DataFormatError(
                name, None, f"weight {key} has shape {tuple(value.shape)}, this model {tuple(target.shape)}"
            )
        else:
            state[key] = value
    model.load_state_dict(state)
    old_types = entity_types(head_of(source_model)[1].scheme.bio_labels)
    new_types = entity_types(head_of(model)[1].scheme.bio_labels)
    return Transfer(
        [t for t in new_types if t in old_types],
        [t for t in new_types if t not in old_types],
        len(word_rows),
        tokenizer.vocab_size - len(word_rows),
    )


def copy_rows(
    target: torch.Tensor, value: torch.Tensor, rows: dict[int, int], axes: tuple[int, ...]
) -> torch.Tensor:
    """`target` with the entries along `axes` that `rows` maps (new index -> source index) taken from
    `value`."""
    result = target.clone()
    new = torch.tensor(sorted(rows), dtype=torch.long)
    old = torch.tensor([rows[i] for i in sorted(rows)], dtype=torch.long)
    if len(axes) == 1:
        result.index_copy_(axes[0], new, value.index_select(axes[0], old))
    else:
        result[new.unsqueeze(1), new.unsqueeze(0)] = value[old.unsqueeze(1), old.unsqueeze(0)]
    return result


def head_of(model: torch.nn.Module) -> tuple[str, Head]:
    """The model's head and its name."""
    for name, module in model.named_modules():
        if isinstance(module, Head):
            return name, module
    raise ValueError(f"{type(model).__name__} has no head")


def tag_axes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    """The tag axes of the model's head weights, by full parameter name."""
    name, head = head_of(model)
    return {f"{name}.{key}": axes for key, axes in head.tag_axes().items()}


def tag_index_map(model: torch.nn.Module, source_model: torch.nn.Module) -> dict[int, int]:
    """Each of the model's head tags the source's head also has: its index -> the source's index."""
    new, old = head_of(model)[1].scheme, head_of(source_model)[1].scheme
    if new.name != old.name:
        raise ValueError(f"the source tags in {old.name}, this model in {new.name}; use the same tag_scheme")
    return {i: old.index[tag] for i, tag in enumerate(new.labels) if tag in old.index}


def word_parameters(model: torch.nn.Module) -> set[str]:
    """The names of the word embedding matrices (one row a vocabulary word)."""
    return {f"{n}.embedding.weight" for n, m in model.named_modules() if isinstance(m, TokenEmbedding)}


def word_index_map(tokenizer: Tokenizer, source_tokenizer: Tokenizer) -> dict[int, int]:
    """Each word of `tokenizer` the source vocabulary also has: its id -> the source's id."""
    old = source_tokenizer.token2id
    return {i: old[word] for word, i in tokenizer.token2id.items() if word in old}
