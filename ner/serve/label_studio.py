"""Label Studio's ML backend protocol at the service's own address: GET /health, POST /setup, POST
/predict (tasks in, one scored prediction per task out), POST /webhook (annotation events and
START_TRAINING fine-tune the model in the background; see `fine_tuning`) and POST /train (the older
protocol's training request, the annotated tasks inline). A project's labeling config says where the
text is and what its entity labels are called; `--label-map` names the model's types there."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ner.runtime.pre_annotations import LabelStudioNames, label_studio_prediction
from ner.serve.batcher import Batcher
from ner.serve.fine_tuning import FineTuner, Job, ProjectAccess
from ner.utils.spans import listed_types

TRAINING_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "START_TRAINING")


class Refusal(BaseModel):
    """What was wrong with a request: the field and the problem."""

    error: str


def refused(problem: str) -> JSONResponse:
    """A 422 answer naming the field and its problem."""
    return JSONResponse(status_code=422, content=Refusal(error=problem).model_dump())


REFUSED = {422: {"model": Refusal, "description": "a labeling config, task or event this backend cannot use"}}


class LabelingConfigError(ValueError):
    """A labeling config this backend cannot serve."""


@dataclass(frozen=True)
class LabelMap:
    """How the project's labels name the model's types: `tool_to_model` as `--label-map LABEL=TYPE`
    gave it; a name not in it is the same in both."""

    tool_to_model: dict[str, str]

    def tool_label(self, model_type: str) -> str:
        """The project's label of one of the model's types."""
        return next((tool for tool, ours in self.tool_to_model.items() if ours == model_type), model_type)

    def model_type(self, tool_label: str) -> str:
        """The model's type of one of the project's labels."""
        return self.tool_to_model.get(tool_label, tool_label)


def read_labeling_config(schema: str, label_map: LabelMap) -> tuple[LabelStudioNames, list[str]]:
    """Where a labeling config wants entities (its first `<Labels>` tag over a `<Text>` tag) and its
    label names."""
    try:
        root = ElementTree.fromstring(schema)
    except ElementTree.ParseError as err:
        raise LabelingConfigError(f"label_config: not XML ({err})") from None
    labels = next(iter(root.iter("Labels")), None)
    if labels is None or not labels.get("name") or not labels.get("toName"):
        raise LabelingConfigError('label_config: no <Labels name="..." toName="..."> tag for entities')
    to_name = labels.get("toName")
    text = next((t for t in root.iter("Text") if t.get("name") == to_name), None)
    value = text.get("value", "") if text is not None else ""
    if not value.startswith("$"):
        raise LabelingConfigError(f'label_config: no <Text name="{to_name}" value="$field"> for the labels')
    names = [label.get("value") for label in labels.iter("Label") if label.get("value")]
    model_to_tool = {label_map.model_type(name): name for name in names}
    return LabelStudioNames(labels.get("name"), to_name, value[1:], model_to_tool), names


class SetupRequest(BaseModel):
    """Label Studio connecting a project: its id ("ID.created"), labeling config, address and token."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    project: str | int | None = None
    schema_: str | None = Field(None, alias="schema")
    hostname: str | None = None
    access_token: str | None = None


class PredictRequest(BaseModel):
    """Tasks to pre-annotate, with the project's labeling config."""

    model_config = ConfigDict(extra="allow")
    tasks: list[dict]
    project: str | int | None = None
    label_config: str | None = None


class TrainRequest(BaseModel):
    """The older protocol's training request: the project's annotated tasks and labeling config."""

    model_config = ConfigDict(extra="allow")
    annotations: list[dict]
    project: str | int | None = None
    label_config: str | None = None


def project_id(project: object) -> str | None:
    """A project's id from what Label Studio sends: "ID.created" (setup, predict) or {"id": ID}."""
    if isinstance(project, dict):
        project = project.get("id")
    return None if project is None else str(project).split(".")[0]


def backend_router(batcher: Batcher, tuner: FineTuner, label_map: LabelMap) -> APIRouter:
    """The ML backend's routes over the service's batcher and fine-tuner."""
    router = APIRouter(tags=["Label Studio ML backend"])
    schemas: dict[str, str] = {}

    def interface(schema: str | None, project: str | None) -> tuple[LabelStudioNames, list[str]]:
        """The labeling config sent, else the project's from setup, else Label Studio's NER template."""
        schema = schema or schemas.get(project or "")
        if schema is None:
            names = LabelStudioNames(labels={t: label_map.tool_label(t) for t in model_types()})
            return names, list(names.labels.values())
        return read_labeling_config(schema, label_map)

    def model_types() -> list[str]:
        """The served model's entity types."""
        return listed_types(batcher.pipeline.model.id2label)

    @router.get("/health")
    async def health() -> dict:
        """Up, with the served model's version and the last training's state."""
        return {
            "status": "UP",
            "model_class": "ner",
            "model_version": tuner.version,
            "training": tuner.state(),
        }

    @router.post("/setup", responses=REFUSED)
    async def setup(request: SetupRequest) -> JSONResponse:
        """Keep the project's labeling config and access; answer the model's version."""
        if request.schema_ is not None:
            try:
                read_labeling_config(request.schema_, label_map)
            except LabelingConfigError as err:
                return refused(str(err))
        key = project_id(request.project)
        if key is not None:
            if request.schema_ is not None:
                schemas[key] = request.schema_
            tuner.remember(key, ProjectAccess(request.hostname, request.access_token))
        return JSONResponse({"model_version": tuner.version})

    @router.post("/predict", responses=REFUSED)
    async def predict(request: PredictRequest) -> JSONResponse:
        """One prediction per task, in order: the entities as `labels` results with scores, the
        task's score (the model's confidence: sorted ascending, the doubtful come first)."""
        try:
            names, labels = interface(request.label_config, project_id(request.project))
        except LabelingConfigError as err:
            return refused(str(err))
        texts = []
        for position, task in enumerate(request.tasks):
            text = (task.get("data") or {}).get(names.text_field)
            if not isinstance(text, str):
                where = f"tasks[{position}].data.{names.text_field}"
                return refused(f"{where}: expected the task's text")
            texts.append(text)
        version = tuner.version
        docs = await batcher.tag(texts) if texts else []
        wanted = set(labels)
        results = []
        for doc in docs:
            prediction = label_studio_prediction(doc, names, version)
            prediction["result"] = [r for r in prediction["result"] if r["value"]["labels"][0] in wanted]
            results.append(prediction)
        return JSONResponse({"results": results, "model_version": version})

    @router.post("/webhook", responses=REFUSED)
    async def webhook(event: dict) -> JSONResponse:
        """Annotation events and START_TRAINING start a fine-tuning from the project's annotated tasks
        (others are answered and ignored)."""
        action = event.get("action")
        if action not in TRAINING_EVENTS:
            return JSONResponse({"status": "ignored", "action": action})
        key = project_id(event.get("project"))
        if key is None:
            return refused("project: the event names no project")
        schema = schemas.get(key) or (event.get("project") or {}).get("label_config")
        try:
            names, _ = interface(schema, key)
        except LabelingConfigError as err:
            return refused(str(err))
        started = tuner.request(Job(key, names, label_map.model_type, forced=action == "START_TRAINING"))
        return JSONResponse({"status": started, "model_version": tuner.version})

    @router.post("/train", responses=REFUSED)
    async def train(request: TrainRequest) -> JSONResponse:
        """The older protocol: fine-tune from the annotated tasks sent."""
        try:
            names, _ = interface(request.label_config, project_id(request.project))
        except LabelingConfigError as err:
            return refused(str(err))
        key = project_id(request.project) or "0"
        started = tuner.request(Job(key, names, label_map.model_type, request.annotations, forced=True))
        return JSONResponse({"status": started, "model_version": tuner.version, "job": started})

    return router
