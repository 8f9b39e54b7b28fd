"""The FastAPI application: POST /v1/entities, GET /v1/model, GET /healthz, GET / (the page), and Label
Studio's ML backend protocol (`label_studio`).

Request and response models are typed, so the OpenAPI document says exactly what the service accepts
and answers (the request models are made per app: their size limits are the app's)."""

import json
import os
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Body, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr
from starlette.exceptions import HTTPException as StarletteHTTPException

import ner
from ner.inference.opening import open_model
from ner.runtime.doc import Entity, TagSequence
from ner.runtime.folder import installed_model, is_exported
from ner.runtime.pipeline import Pipeline
from ner.serve.batcher import Batcher
from ner.serve.fine_tuning import FineTuner, TrainingSettings
from ner.serve.label_studio import LabelMap, backend_router
from ner.serve.page import page
from ner.utils.spans import listed_types
from ner.utils.thresholds import ThresholdError, check_min_score

MAX_NBEST = 10
# How `ner serve --workers N` hands each worker process its run and settings.
ENVIRONMENT = "NER_SERVE"


class Limits(BaseModel):
    """How much one request may ask for."""

    max_chars: int = 100_000
    max_texts: int = 64


class DocumentOut(BaseModel):
    """A tagged text; `nbest` (each sentence's best tag sequences) only when the request asked for it."""

    text: str
    entities: list[Entity]
    nbest: list[list[TagSequence]] | None = Field(None, description="present when nbest > 0 was asked")


class DocumentsOut(BaseModel):
    """The documents of `texts`, in order."""

    documents: list[DocumentOut]


class Problem(BaseModel):
    """What was wrong with a request: one line naming the field and the problem."""

    error: str
    detail: list[dict] | None = None


class Health(BaseModel):
    """The service is up."""

    status: str


def whole_number(value: object) -> object:
    """A JSON number (7 or 7.0, as JSON Schema's integer allows), refusing strings and booleans."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be a valid integer")
    return value


Nbest = Annotated[
    int,
    Field(ge=0, le=MAX_NBEST, description="k best tag sequences per sentence"),
    BeforeValidator(whole_number),
]


def thresholds_field(types: list[str]) -> object:
    """The `min_score` request field: a number in [0, 1) or a mapping of the model's types to numbers."""

    def check(value: object) -> object:
        try:
            return value if value is None else check_min_score(value, types, "threshold")
        except ThresholdError as err:
            raise ValueError(err.problem) from None

    threshold = Annotated[float, Field(ge=0.0, lt=1.0)]
    type_name = Literal[tuple(types)]
    return Annotated[
        threshold | dict[type_name, threshold] | None,
        Field(
            description="drop entities scored below this: one number in [0, 1), or one per type "
            '({"PER": 0.6}; types not named are kept); default: the server\'s'
        ),
        BeforeValidator(check),
    ]


def request_models(limits: Limits, types: list[str]) -> tuple[type[BaseModel], type[BaseModel]]:
    """The two request shapes, one text or several, with this app's limits in their schema (answered
    413 when broken, as the responses say) and its model's entity types for thresholds."""
    MinScoreField = thresholds_field(types)
    text_field = Field(
        description=f"one text to tag, at most {limits.max_chars:,} characters",
        json_schema_extra={"maxLength": limits.max_chars},
    )

    class TextRequest(BaseModel):
        """One text: its Document comes back."""

        model_config = ConfigDict(extra="forbid")
        text: StrictStr = text_field
        nbest: Nbest = 0
        min_score: MinScoreField = None

    class TextsRequest(BaseModel):
        """Several texts: `documents` come back, in order."""

        model_config = ConfigDict(extra="forbid")
        texts: list[Annotated[StrictStr, Field(json_schema_extra={"maxLength": limits.max_chars})]] = Field(
            description=f"texts to tag, in order; at most {limits.max_texts}",
            json_schema_extra={"maxItems": limits.max_texts},
        )
        nbest: Nbest = 0
        min_score: MinScoreField = None

    return TextRequest, TextsRequest


def problem(status: int, message: str) -> JSONResponse:
    """An error response that names the problem."""
    return JSONResponse(status_code=status, content={"error": message})


def model_summary(pipeline: Pipeline) -> dict:
    """What GET /v1/model reports: labels, the model's parts and sizes, its validation metrics."""
    run = pipeline.model
    best = run.best()
    return {
        "run": run.name,
        "version": ner.__version__,
        "labels": run.labels,
        "entity_types": listed_types(run.id2label),
        "model": run.config.model.model_dump(),
        "word_vectors": run.config.word_vectors.model_dump(),
        "predict": run.config.predict.model_dump()
        | {
            "precision_used": run.predictor.precision,
            "min_score_used": run.predictor.min_score,
            "calibration_temperature": run.predictor.temperature,
        },
        "tokenizer": pipeline.tokenizer_name,
        "parameters": run.parameters,
        "validation": None if best is None else {"epoch": best["epoch"], "metrics": best["val_metrics"]},
    }


def validation_message(err: RequestValidationError) -> str:
    """One line for a request the models refuse: the field and the problem, from the request shape the
    body was meant as (by its keys)."""
    body, errors = err.body, err.errors()
    first = errors[0]
    if first["type"] == "json_invalid":
        return "body: the body is not valid JSON"
    if body is None or first["loc"] == ("body",) and first["type"] == "missing":
        return 'body: an empty body; send {"text": "..."} or {"texts": [...]}'
    if not isinstance(body, dict):
        return 'body: the body must be a JSON object: {"text": "..."} or {"texts": [...]}'
    if ("text" in body) == ("texts" in body):
        return 'body: give either "text" or "texts"'
    shape = "TextRequest" if "text" in body else "TextsRequest"
    mine = [e for e in errors if len(e["loc"]) > 1 and e["loc"][1] == shape] or errors
    where = ".".join(str(p) for p in mine[0]["loc"][2:]) or "body"
    return f"{where}: {mine[0]['msg']}"


class BackendSettings(BaseModel):
    """The Label Studio ML backend's settings: the project's labels named as the model's types
    (`label_map`, LABEL -> TYPE), where and how fine-tuning rounds train, and the service's worker
    processes (a round swaps the model of one process, so it needs one)."""

    label_map: dict[str, str] = Field(default_factory=dict)
    work_dir: Path = Path("label-studio-runs")
    min_annotations: int = Field(10, ge=1)
    epochs: int = Field(10, ge=1)
    minutes: float = Field(5.0, gt=0)
    workers: int = 1


def fine_tuner(
    source: str | Path, settings: BackendSettings, swap: Callable[[Path, str], None], version: str
) -> FineTuner:
    """The service's fine-tuner: of the run folder it serves, or unable (an export, several workers)."""
    base = installed_model(str(source))
    unable = None
    if is_exported(source):
        unable = f"{source} is an export; fine-tuning starts from a run folder written by `ner train`"
    elif settings.workers > 1:
        unable = "a round swaps the model of one process; serve with --workers 1 to fine-tune"
    training = TrainingSettings(
        settings.work_dir, settings.min_annotations, settings.epochs, settings.minutes
    )
    return FineTuner(base, training, swap, version, unable)


def create_app(
    source: str | Path,
    limits: Limits | None = None,
    backend: BackendSettings | None = None,
    **options: object,
) -> FastAPI:
    """The service of one trained run or exported model (`options` as `open_model` takes them), with
    Label Studio's ML backend protocol beside its own API."""
    limits = limits or Limits()
    backend = backend or BackendSettings()
    pipeline = Pipeline(open_model(source, **options))
    summary = model_summary(pipeline)
    batcher = Batcher(pipeline)

    def swap(run_dir: Path, version: str) -> None:
        """Serve a fine-tuned run from now on."""
        batcher.pipeline = Pipeline(open_model(run_dir, **options))
        summary.update(model_summary(batcher.pipeline))

    tuner = fine_tuner(source, backend, swap, pipeline.model.name)
    TextRequest, TextsRequest = request_models(limits, listed_types(pipeline.model.id2label))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(
        title="ner",
        version=ner.__version__,
        description="Named entities of raw text, with character offsets and probabilities.",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, err: RequestValidationError) -> JSONResponse:
        detail = jsonable_encoder(err.errors(), custom_encoder={Exception: str})
        return JSONResponse(status_code=422, content={"error": validation_message(err), "detail": detail})

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, err: StarletteHTTPException) -> JSONResponse:
        message = "the body cannot be read as JSON (is it UTF-8?)" if err.status_code == 400 else err.detail
        return JSONResponse(status_code=err.status_code, content={"error": message}, headers=err.headers)

    @app.post(
        "/v1/entities",
        response_model=None,
        responses={
            200: {"model": DocumentOut | DocumentsOut, "description": "one document, or `documents`"},
            400: {"model": Problem, "description": "the body cannot be decoded"},
            413: {"model": Problem, "description": "a text or the list of texts is over the limit"},
            422: {"model": Problem, "description": "the body is not one of the two request shapes"},
        },
    )
    async def entities(request: Annotated[TextRequest | TextsRequest, Body()]) -> JSONResponse:
        """The entities of `text` (one document back) or of each of `texts` (`documents`, in order)."""
        one = isinstance(request, TextRequest)
        texts = [request.text] if one else request.texts
        if len(texts) > limits.max_texts:
            return problem(413, f"texts: {len(texts)} texts; at most {limits.max_texts} a request")
        for i, text in enumerate(texts):
            if len(text) > limits.max_chars:
                where = "text" if one else f"texts[{i}]"
                return problem(413, f"{where}: {len(text):,} characters; at most {limits.max_chars:,}")
        tagged = await batcher.tag(texts, request.nbest, request.min_score)
        docs = [doc.to_dict(sentences=False, nbest=request.nbest) for doc in tagged]
        return JSONResponse(docs[0] if one else {"documents": docs})

    @app.get("/v1/model")
    async def model() -> dict:
        """The labels, the model's configuration, its validation metrics and the package version."""
        return summary

    @app.get("/healthz")
    async def healthz() -> Health:
        """Whether the service is up."""
        return Health(status="ok")

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        """A page to type or paste text into and see its entities highlighted."""
        return page(summary["entity_types"], limits.max_chars)

    app.include_router(backend_router(batcher, tuner, LabelMap(backend.label_map)))
    return app


def worker_settings(
    source: str, limits: Limits, backend: BackendSettings, options: dict, threads: int
) -> dict[str, str]:
    """The environment that tells a worker process (`app_from_environment`) what to serve."""
    settings = {
        "source": source,
        "limits": limits.model_dump(),
        "backend": backend.model_dump(mode="json"),
        "options": options,
        "threads": threads,
    }
    return {ENVIRONMENT: json.dumps(settings)}


def app_from_environment() -> FastAPI:
    """The app of one `ner serve --workers N` worker process, as its environment describes it."""
    settings = json.loads(os.environ[ENVIRONMENT])
    options = settings["options"] | {"threads": settings["threads"]}
    backend = BackendSettings(**settings["backend"])
    return create_app(settings["source"], Limits(**settings["limits"]), backend, **options)
