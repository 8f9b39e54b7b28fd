"""The FastAPI application: POST /v1/entities, GET /v1/model, GET /healthz, GET / (the page)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

import ner
from ner.inference.pipeline import Doc, Pipeline
from ner.serve.batcher import Batcher
from ner.serve.page import page
from ner.utils.spans import entity_types

MAX_NBEST = 10


class EntitiesRequest(BaseModel):
    """One text or a list of texts, and how many best tag sequences per sentence to return."""

    model_config = ConfigDict(extra="forbid")

    text: StrictStr | None = Field(None, description="one text to tag")
    texts: list[StrictStr] | None = Field(None, description="several texts to tag, in order")
    nbest: int = Field(0, ge=0, le=MAX_NBEST, strict=True, description="k best tag sequences per sentence")

    @model_validator(mode="after")
    def _one_of_text_or_texts(self) -> EntitiesRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError('give either "text" or "texts"')
        return self


class Limits(BaseModel):
    """How much one request may ask for."""

    max_chars: int = 100_000
    max_texts: int = 64


def problem(status: int, message: str) -> JSONResponse:
    """An error response that names the problem."""
    return JSONResponse(status_code=status, content={"error": message})


def document(doc: Doc, nbest: int) -> dict:
    """A Doc as the service returns it: its text, entities and (if asked) best tag sequences."""
    data = doc.to_dict()
    result = {"text": data["text"], "entities": data["entities"]}
    if nbest > 0:
        result["nbest"] = [sentence[:nbest] for sentence in data["nbest"]]
    return result


def model_summary(pipeline: Pipeline) -> dict:
    """What GET /v1/model reports: labels, the model's parts and sizes, its validation metrics."""
    experiment = pipeline.experiment
    best = experiment.tracker.best() if experiment.tracker is not None else None
    return {
        "run": str(experiment.config_path.parent.name),
        "version": ner.__version__,
        "labels": experiment.config.labels,
        "entity_types": entity_types(experiment.id2label),
        "model": experiment.config.model.model_dump(),
        "word_vectors": experiment.config.word_vectors.model_dump(),
        "predict": experiment.config.predict.model_dump(),
        "tokenizer": pipeline.tokenizer_name,
        "parameters": experiment.model().num_params(),
        "validation": None if best is None else {"epoch": best["epoch"], "metrics": best["val_metrics"]},
    }


def create_app(run_dir: str | Path, limits: Limits | None = None) -> FastAPI:
    """The service of one trained run folder."""
    limits = limits or Limits()
    pipeline = Pipeline.load(run_dir)
    summary = model_summary(pipeline)
    batcher = Batcher(pipeline)

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
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        message = "the body is not valid JSON" if first["type"] == "json_invalid" else first["msg"]
        if first["loc"] == ("body",) and first["type"] == "missing":
            message = 'an empty body; send {"text": "..."} or {"texts": [...]}'
        elif first["loc"] == ("body",) and first["type"] in ("model_attributes_type", "dict_type"):
            message = 'the body must be a JSON object: {"text": "..."} or {"texts": [...]}'
        detail = jsonable_encoder(err.errors(), custom_encoder={Exception: str})
        return JSONResponse(status_code=422, content={"error": f"{where}: {message}", "detail": detail})

    @app.post("/v1/entities")
    async def entities(request: EntitiesRequest):
        """The entities of `text` (one document back) or of each of `texts` (`documents`, in order)."""
        texts = [request.text] if request.text is not None else request.texts
        if len(texts) > limits.max_texts:
            return problem(413, f"texts: {len(texts)} texts; at most {limits.max_texts} a request")
        for i, text in enumerate(texts):
            if len(text) > limits.max_chars:
                where = "text" if request.text is not None else f"texts[{i}]"
                return problem(413, f"{where}: {len(text):,} characters; at most {limits.max_chars:,}")
        docs = [document(doc, request.nbest) for doc in await batcher.tag(texts, request.nbest)]
        return docs[0] if request.text is not None else {"documents": docs}

    @app.get("/v1/model")
    async def model() -> dict:
        """The labels, the model's configuration, its validation metrics and the package version."""
        return summary

    @app.get("/healthz")
    async def healthz() -> dict:
        """Whether the service is up."""
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        """A page to type or paste text into and see its entities highlighted."""
        return page(summary["entity_types"], limits.max_chars)

    return app
