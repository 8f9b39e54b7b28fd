"""`ner export RUN --format onnx`: the run's network to `model.onnx` by torch.onnx.export (its dynamo
exporter, torch's default, through torch.export with symbolic batch, length, word, byte, segment and
piece axes; opset 20), checked by `onnx.checker` and against torch, optionally quantized to int8 by ONNX
Runtime; beside it the tag chain, vocabulary, config and model card the torch-free runtime reads."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

import ner
from ner.data_processing.dataset import load_dataset
from ner.data_processing.word_pieces import TOKENIZER_FILE, transformer_dir
from ner.export.graph import ExportGraph
from ner.inference.run import Run, open_run, probe_sentences
from ner.nn.heads.crf import CRFHead
from ner.nn.tags.schemes import BIO
from ner.runtime.exported import open_exported, runtime_collator
from ner.runtime.folder import (
    CALIBRATION_FILE,
    CARD_FILE,
    CONFIG_FILE,
    ONNX_FILE,
    TAGS_FILE,
    VOCABULARY_FILE,
    WORD_PIECES_FILE,
)
from ner.runtime.model import TokenPredictor
from ner.utils.console import log
from ner.utils.errors import DataFormatError, NerError
from ner.utils.metrics import seqeval_scores
from ner.utils.spans import tag_spans

OPSET = 20
INT8_F1_TOLERANCE = 0.003
EXPORTER = f"torch.onnx.export (dynamo exporter), opset {OPSET}"
# Each input's axes, by name: axes of one name are one symbolic size.
AXES = {
    "input_ids": ("batch", "length"),
    "padding_mask": ("batch", "length"),
    "char_words": ("words", "bytes"),
    "char_index": ("batch", "length"),
    "casing_ids": ("batch", "length"),
    "piece_ids": ("segments", "pieces"),
    "piece_word": ("segments", "pieces"),
}
# Modules whose matrix products int8 leaves in float32 (by the module path the exporter records): the
# byte CNN's and the head's (small), and BERT's feed-forward output projections (layer.N.output.dense).
FLOAT32_MODULES = re.compile(r"^(head|char_encoder)\b|\.layer\.\d+\.output\.dense$")


@dataclass
class Parity:
    """How an exported model's tagging compares with torch's on the same sentences."""

    sentences: int
    tokens: int
    tokens_differing: int
    max_span_probability_difference: float
    f1_torch: float | None
    f1_exported: float | None

    @property
    def token_difference(self) -> float:
        """The share of tokens whose tags differ."""
        return self.tokens_differing / max(self.tokens, 1)


def chain_of(run: Run) -> dict:
    """The head's tag chain as the runtime reads it: kind, constrained scores, BIO label of each tag."""
    head = run.model.head
    size = len(head.scheme.labels)
    if isinstance(head, CRFHead):
        transitions, start, end = (x.detach().cpu().tolist() for x in head.crf._scores())
        kind = "crf"
    else:
        transitions, start, end, kind = [[0.0] * size] * size, [0.0] * size, [0.0] * size, "softmax"
    return {
        "kind": kind,
        "scheme": head.scheme.name,
        "tags": head.scheme.labels,
        "to_bio": head.scheme.to_bio,
        "transitions": transitions,
        "start": start,
        "end": end,
    }


def trace_examples(run: Run) -> list[dict]:
    """Two sentences of different lengths to trace the network on."""
    return run.predictor.examples(probe_sentences(run.tokenizer, [(2, 4, 6)]))


def write_onnx(run: Run, path: Path) -> list[str]:
    """Export the run's network to `path` with dynamic batch and length axes; returns its inputs."""
    import onnx

    graph = ExportGraph(run.model).eval()
    examples = trace_examples(run)
    arrays = runtime_collator(run.config, run.tokenizer).arrays(examples)
    inputs = tuple(torch.from_numpy(arrays[name]) for name in graph.inputs)
    with torch.inference_mode():
        expected, traced = run.model(run.predictor.collator(examples)), graph(*inputs)
    if not torch.allclose(expected, traced, atol=1e-4):
        raise NerError(f"the export form of {run.name} differs from its torch model on a test batch")
    dims = {name: torch.export.Dim(name) for axes in AXES.values() for name in axes}
    shapes = tuple({i: dims[axis] for i, axis in enumerate(AXES[name])} for name in graph.inputs)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), quiet("torch.onnx"):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            inputs,
            str(path),
            dynamo=True,
            external_data=False,
            opset_version=OPSET,
            input_names=graph.inputs,
            output_names=["emissions"],
            dynamic_shapes=(shapes,),
        )
    onnx.checker.check_model(str(path))
    return graph.inputs


def write_vocabulary(run: Run, path: Path) -> None:
    """The run's vocabulary with the words its pretrained vectors added, in id order."""
    data = run.tokenizer.to_dict() | {"extension": list(run.tokenizer.extension)}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def validation_sentences(
    dataset: str | Path | None, run: Run
) -> tuple[list[list[str]], list[list[str]] | None]:
    """The validation split's sentences and gold tags, or (without a dataset) sentences of the
    vocabulary's words and no tags."""
    if dataset is None:
        return probe_sentences(run.tokenizer, [(64, 8, 40), (64, 20, 9)]), None
    data = load_dataset(dataset)
    if "val" not in data:
        raise DataFormatError(str(dataset), None, "has no val split to check the export on")
    column = run.config.tokenizer.text_colname
    return list(data["val"][column]), list(data["val"]["NER"])


def compare(
    torch_predictor: TokenPredictor,
    exported: TokenPredictor,
    scheme: BIO,
    sentences: list[list[str]],
    gold: list[list[str]] | None,
) -> Parity:
    """Tags, span probabilities and (with gold tags) micro entity F1 of both predictors."""
    mine, theirs = torch_predictor.predict(sentences, scores=True), exported.predict(sentences, scores=True)
    differing = sum(
        a != b for x, y in zip(mine.tags, theirs.tags, strict=True) for a, b in zip(x, y, strict=True)
    )
    worst = 0.0
    for tags, chain, other in zip(mine.tags, mine.chains, theirs.chains, strict=True):
        for label, first, last in tag_spans(tags):
            span = scheme.span_tags(label, last - first + 1)
            worst = max(
                worst, abs(chain.span_probability(first, *span) - other.span_probability(first, *span))
            )
    f1 = (
        (lambda tags: seqeval_scores(gold, tags)["entity_f1_micro"])
        if gold is not None
        else (lambda tags: None)
    )
    return Parity(len(sentences), sum(map(len, sentences)), differing, worst, f1(mine.tags), f1(theirs.tags))


def quantize(source: Path, target: Path) -> list[str]:
    """int8 dynamic quantization of a float32 model's matrix products and recurrent cells by ONNX Runtime,
    after its pre-processing (constant folding, so that the recurrent cells' weights are constants it can
    quantize), per output channel and in a reduced range (no overflow on CPUs without VNNI); returns the
    nodes left in float32: the small products of the byte CNN and the head, and the transformer's
    feed-forward output projections, which read GELU outputs whose outliers int8 clips (quantizing them
    too cost minilm-crf 0.0037 validation F1 on WikiNEuRal, against 0.0023 without them)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    kept = [
        node.name for node in onnx.load(str(source)).graph.node if FLOAT32_MODULES.search(module_path(node))
    ]
    folded = target.with_suffix(".folded.onnx")
    with quiet(None):
        quant_pre_process(str(source), str(folded), skip_symbolic_shape=True)
        quantize_dynamic(
            str(folded),
            str(target),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "LSTM", "GRU"],
            per_channel=True,
            reduce_range=True,
            nodes_to_exclude=kept,
        )
    folded.unlink()
    if not {node.op_type for node in onnx.load(str(target)).graph.node} & QUANTIZED_OPS:
        raise NerError("--quantize int8: nothing in this network quantizes; export it in float32")
    return kept


QUANTIZED_OPS = {"MatMulInteger", "DynamicQuantizeLSTM", "DynamicQuantizeMatMul", "QLinearMatMul"}


@contextlib.contextmanager
def quiet(logger: str | None) -> Iterator[None]:
    """Only errors from a library's logger (None: the root logger) while the block runs: the exporter
    and the quantizer log advice meant for their developers."""
    log_ = logging.getLogger(logger)
    level = log_.level
    log_.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log_.setLevel(level)


def module_path(node: object) -> str:
    """The path of the module an exported node comes from (`transformer.encoder.encoder.layer.0.output.dense`),
    read from the namespace the dynamo exporter records ("path: Class/path: Class/...: op")."""
    namespace = next((p.value for p in node.metadata_props if p.key == "namespace"), "")
    paths = [part.split(": ")[0] for part in namespace.split("/")[:-1] if ": " in part]
    return paths[-1] if paths else ""


def export_run(
    run_dir: str | Path,
    output: str | Path,
    fmt: str = "onnx",
    quantize_to: str | None = None,
    dataset: str | Path | None = None,
) -> dict:
    """Export a run to the folder `output` (written whole or not at all); returns its model card."""
    if fmt != "onnx":
        raise NerError(f"--format: ONNX is the one export format, not {fmt!r}")
    if quantize_to not in (None, "int8"):
        raise NerError(f"--quantize: int8 is the one quantization, not {quantize_to!r}")
    if quantize_to and dataset is None:
        raise NerError("--quantize int8 keeps the model only if validation F1 holds: give --dataset")
    output = Path(output)
    if output.exists():
        raise NerError(f"{output}: already exists; export to a new folder")
    run = open_run(run_dir, precision="float32", document_consistency=False)
    sentences, gold = validation_sentences(dataset, run)
    output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        inputs = write_onnx(run, work / ONNX_FILE)
        (work / CONFIG_FILE).write_text(json.dumps(run.config.to_dict(), indent=2), encoding="utf-8")
        write_vocabulary(run, work / VOCABULARY_FILE)
        if run.config.model.transformer is not None:
            shutil.copyfile(
                transformer_dir(run.config.model.transformer.name) / TOKENIZER_FILE, work / WORD_PIECES_FILE
            )
        chain = chain_of(run)
        (work / TAGS_FILE).write_text(json.dumps(chain), encoding="utf-8")
        if (run.folder / CALIBRATION_FILE).is_file():
            shutil.copyfile(run.folder / CALIBRATION_FILE, work / CALIBRATION_FILE)
        card = {
            "run": run.name,
            "format": "onnx",
            "exporter": EXPORTER,
            "ner_version": ner.__version__,
            "torch_version": torch.__version__,
            "precision": "float32",
            "inputs": inputs,
            "labels": run.labels,
            "tag_scheme": chain["scheme"],
            "model": run.config.model.to_dict(),
            "parameters": run.parameters,
            "validation": run.best(),
        }
        (work / CARD_FILE).write_text(json.dumps(card, indent=2), encoding="utf-8")
        scheme = run.model.head.scheme
        parity = compare(
            run.predictor, open_exported(work, document_consistency=False).predictor, scheme, sentences, gold
        )
        card["parity"] = asdict(parity) | {
            "checked_on": "validation split" if gold else "vocabulary sentences"
        }
        log.print(parity_line("float32", parity))
        if quantize_to:
            quantized = work / "model.int8.onnx"
            card["float32_nodes"] = quantize(work / ONNX_FILE, quantized)
            shutil.move(quantized, work / ONNX_FILE)
            card["precision"] = "int8"
            (work / CARD_FILE).write_text(json.dumps(card, indent=2), encoding="utf-8")
            int8 = compare(
                run.predictor,
                open_exported(work, document_consistency=False).predictor,
                scheme,
                sentences,
                gold,
            )
            log.print(parity_line("int8", int8))
            if abs(int8.f1_exported - parity.f1_exported) > INT8_F1_TOLERANCE:
                raise NerError(
                    f"int8 loses too much: validation F1 {int8.f1_exported:.4f} against float32's "
                    f"{parity.f1_exported:.4f} (torch {parity.f1_torch:.4f}; allowed {INT8_F1_TOLERANCE}); "
                    "nothing written"
                )
            card["int8"] = asdict(int8)
        (work / CARD_FILE).write_text(json.dumps(card, indent=2), encoding="utf-8")
        work.rename(output)
    finally:
        if work.exists():
            shutil.rmtree(work)
    log.print(f"exported {run.name} ({card['precision']}) -> {output}")
    return card


def parity_line(precision: str, parity: Parity) -> str:
    """One line of how an export tags against torch."""
    f1 = (
        f", micro F1 {parity.f1_exported:.4f} (torch {parity.f1_torch:.4f})"
        if parity.f1_torch is not None
        else ""
    )
    return (
        f"{precision}: {parity.tokens_differing} of {parity.tokens} tokens tagged differently from torch "
        f"({parity.token_difference:.3%}), span probabilities within {parity.max_span_probability_difference:.1e}{f1}"
    )
