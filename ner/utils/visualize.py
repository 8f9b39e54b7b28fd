"""Inspection and visualisation: coloured prediction tables, activation heatmaps, data plots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import chain
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table
from torch import nn

from ner.data_processing.constants import NER_DECODING_MAP
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.tokenizer import Tokenizer
from ner.inference.predictor import Predictor
from ner.models.ner_predictor import NERPredictor
from ner.models.tagger import as_tagger
from ner.nn.models.rnn import RNN
from ner.utils.config import CollatorConfig
from ner.utils.console import console as default_console
from ner.utils.io import atomic_write

EXACT, SAME_ENTITY, MISMATCH = "dark_green", "green", "red"
RICH_STYLES = {EXACT: "bold dark_green", SAME_ENTITY: "green", MISMATCH: "red", None: ""}
PLOT_COLORS = {EXACT: "darkgreen", SAME_ENTITY: "limegreen", MISMATCH: "red", None: "black"}
CONVENTION = (
    "Convention: dark green, the predicted tag equals the true tag; green, the same entity type with "
    "different BIO prefix; red, a mismatch."
)


def match_kind(pred: str, true: str | None) -> str | None:
    """The notebook's colour class of a prediction: exact, same entity type, or mismatch."""
    if true is None:
        return None
    if pred == true:
        return EXACT
    if pred != "O" and true != "O" and pred[2:] == true[2:]:
        return SAME_ENTITY
    return MISMATCH


def _tokens(text: str | list[str]) -> list[str]:
    return text.split(" ") if isinstance(text, str) else list(text)


def sentence_predictor(
    tokenizer: Tokenizer, model: nn.Module, id2label: dict[int, str] | None = None
) -> Predictor:
    """A Predictor for a model given without its run: the collator gives it the character ids, casing
    classes and WordPieces it reads (characters cut at the config's default length)."""
    tagger = as_tagger(model)
    id2label = {i: t for i, t in NER_DECODING_MAP.items() if i >= 0} if id2label is None else id2label
    options = {"char_max_length": None}
    if isinstance(model, NERPredictor):
        options = model.settings.collator_options(CollatorConfig().char_max_length)
    collator = DataCollator(tokenizer, **options)
    return Predictor(tagger, collator, [id2label[i] for i in range(len(id2label))])


def predict_sentence(
    tokenizer: Tokenizer,
    model: nn.Module,
    tokens: list[str],
    id2label: dict[int, str] | None = None,
    predictor: Predictor | None = None,
) -> list[str]:
    """Predicted tags of one tokenized sentence, by `predictor` (by default one over `model`)."""
    predictor = predictor or sentence_predictor(tokenizer, model, id2label)
    return predictor.tag([tokens])[0]


def inspect_preds(
    tokenizer: Tokenizer,
    model: nn.Module,
    text: str | list[str],
    labels: list[str] | None = None,
    id2label: dict[int, str] | None = None,
    console: Console | None = None,
    predictor: Predictor | None = None,
) -> pd.DataFrame:
    """Print a table of token, is-unk?, predicted and true tag, coloured by the notebook's convention."""
    tokens = _tokens(text)
    preds = predict_sentence(tokenizer, model, tokens, id2label, predictor)
    unk = tokenizer.unk_id
    is_unk = [i == unk for i in tokenizer.encode(tokens)]
    table = Table(caption=CONVENTION if labels is not None else None)
    for column in ("", "token", "is-unk?", "pred", "true"):
        table.add_column(column)
    for i, (token, unk_flag, pred) in enumerate(zip(tokens, is_unk, preds, strict=True)):
        true = labels[i] if labels is not None else None
        style = RICH_STYLES[match_kind(pred, true)]
        table.add_row(str(i), token, "\u2713" if unk_flag else "", pred, true or "", style=style)
    (console or default_console).print(table)
    frame = {"token": tokens, "is-unk?": is_unk, "pred": preds}
    if labels is not None:
        frame["true"] = list(labels)
    return pd.DataFrame(frame)


def visualize_activations(
    tokenizer: Tokenizer,
    model: nn.Module,
    module: nn.Module,
    text: str | list[str],
    labels: list[str] | None = None,
    nonlinearity: Callable[[torch.Tensor], torch.Tensor] | None = F.relu,
    id2label: dict[int, str] | None = None,
    output_path: str | Path | None = None,
    predictor: Predictor | None = None,
) -> plt.Figure:
    """Heatmap of `module`'s activations (after `nonlinearity`), token by unit; tokens coloured by match."""
    tokens = _tokens(text)
    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor | tuple) -> None:
        captured.append((output[0] if isinstance(output, tuple) else output).detach())

    # The fused kernel never calls the RNN's layers as modules: run the step-by-step form to hook them.
    fused = [m for m in model.modules() if isinstance(m, RNN) and m.fused]
    handle = module.register_forward_hook(hook)
    try:
        for rnn in fused:
            rnn.fused = False
        preds = predict_sentence(tokenizer, model, tokens, id2label, predictor)
    finally:
        handle.remove()
        for rnn in fused:
            rnn.fused = True
    if not captured:
        raise ValueError("the module did not run in the model's forward pass")
    # One call over the sentence, or (step-by-step RNN layers) one call per token: rows are tokens.
    activations = torch.cat([c.reshape(-1, c.shape[-1]) for c in captured]).float().cpu()
    if nonlinearity is not None:
        activations = nonlinearity(activations)
    figure = _activation_heatmap(activations.numpy(), tokens, preds, labels, module)
    if output_path is not None:
        save_figure(figure, output_path)
    return figure


def _activation_heatmap(
    values: np.ndarray, tokens: list[str], preds: list[str], labels: list[str] | None, module: nn.Module
) -> plt.Figure:
    """The heatmap figure, y tick labels 'token (pred)' coloured by the convention."""
    width = min(max(4.0, 0.25 * values.shape[1] + 2), 24)
    figure, axis = plt.subplots(figsize=(width, max(3.0, 0.3 * len(tokens) + 1)))
    sns.heatmap(
        values,
        ax=axis,
        cmap="YlOrRd",
        cbar=True,
        yticklabels=[f"{t} ({p})" for t, p in zip(tokens, preds, strict=True)],
    )
    for i, tick in enumerate(axis.get_yticklabels()):
        tick.set_color(PLOT_COLORS[match_kind(preds[i], labels[i] if labels is not None else None)])
    axis.set(xlabel="unit", ylabel="token (pred)", title=str(module)[:80])
    figure.tight_layout()
    return figure


def save_figure(figure: plt.Figure, path: str | Path) -> None:
    """Save a figure as PNG, whole or not at all."""
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=120))


def plot_vocab_size(dataset: dict, output_path: str | Path, min_freq_for_remove_frac: int = 10) -> plt.Figure:
    """Vocabulary size against min_freq (log scale) and against remove_frac, per labelled split."""
    figure, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
    for split, color in zip(["train", "val"], ["lime", "b"], strict=True):
        if split not in dataset:
            continue
        freq_vals = list(Counter(chain(*dataset[split]["text"])).values())
        sizes = [sum(f >= m for f in freq_vals) for m in range(1, 101)]
        ax1.plot(range(1, 101), sizes, label=split, color=color)
        kept = sorted((f for f in freq_vals if f >= min_freq_for_remove_frac), reverse=True)
        fracs = np.arange(0.0, 1.1, 0.1)
        ax2.plot(fracs, [len(kept) - int(f * len(kept)) for f in fracs], label=split, color=color)
    ax1.set(xlabel="min_freq", ylabel="vocab size (log scale)", yscale="log")
    ax2.set(xlabel=f"remove_frac (min_freq={min_freq_for_remove_frac})", ylabel="vocab size")
    ax1.legend()
    ax2.legend()
    figure.tight_layout()
    save_figure(figure, output_path)
    return figure


def plot_sentence_lengths(dataset: dict, output_path: str | Path) -> plt.Figure:
    """Distribution of sentence lengths (tokens) per split."""
    figure, axis = plt.subplots(figsize=(4.5, 2.5))
    for split, color in zip(["train", "val", "test"], ["lime", "blue", "orange"], strict=True):
        if split in dataset:
            sns.kdeplot([len(t) for t in dataset[split]["text"]], ax=axis, label=split, color=color)
    axis.set(xlabel="num tokens")
    axis.legend()
    figure.tight_layout()
    save_figure(figure, output_path)
    return figure


def plot_reliability(calibrations: dict[str, dict], output_path: str | Path) -> plt.Figure:
    """Reliability diagram of entity scores: each score bin's share of right entities against its mean
    score (the diagonal is perfect calibration), one line per named calibration (`reliability.calibration`),
    and below, how many entities fall in each bin."""
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(4.8, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    width = 1.0 / max(len(calibrations), 1)
    for k, (name, found) in enumerate(calibrations.items()):
        filled = [b for b in found["bins"] if b["count"]]
        top.plot(
            [b["mean_score"] for b in filled],
            [b["accuracy"] for b in filled],
            marker="o",
            label=f"{name} (ECE {found['ece']:.3f})",
        )
        bins = found["bins"]
        lefts = [b["low"] + k * width * (b["high"] - b["low"]) for b in bins]
        bottom.bar(lefts, [b["count"] for b in bins], width=width * 0.1, align="edge", label=name)
    top.set(ylabel="share right", xlim=(0, 1), ylim=(0, 1), title="entity scores")
    top.legend(fontsize="small", loc="upper left")
    bottom.set(xlabel="score", ylabel="entities", yscale="log")
    figure.tight_layout()
    save_figure(figure, output_path)
    return figure
