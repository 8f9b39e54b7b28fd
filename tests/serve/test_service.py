"""The HTTP service: every endpoint, every bad request answered 4xx, concurrent requests batched."""

import concurrent.futures

import pytest
from fastapi.testclient import TestClient

from ner.serve.app import Limits, create_app
from tests.conftest import LEGACY_RUN

RUN = LEGACY_RUN


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(RUN, Limits(max_chars=200, max_texts=3))) as client:
        yield client


def test_one_text_gives_its_entities_with_offsets(client):
    text = "Acme Corp hires Anna Smith. ROME wins."
    response = client.post("/v1/entities", json={"text": text})
    assert response.status_code == 200
    body = response.json()
    assert body["text"] == text and body["entities"]
    for entity in body["entities"]:
        assert text[entity["start"] : entity["end"]] == entity["text"] and 0 <= entity["score"] <= 1
        assert set(entity) == {"text", "label", "start", "end", "score"}


def test_several_texts_come_back_in_order_with_nbest(client):
    texts = ["Anna visits Rome.", "", "ROME wins."]
    body = client.post("/v1/entities", json={"texts": texts, "nbest": 2}).json()
    assert [d["text"] for d in body["documents"]] == texts
    assert body["documents"][1]["entities"] == [] and body["documents"][1]["nbest"] == []
    assert all(len(sentence) == 2 for sentence in body["documents"][0]["nbest"])


def test_model_health_page_and_docs(client):
    model = client.get("/v1/model").json()
    assert model["labels"][0] == "O" and model["model"]["encoder"]["name"] == "lstm" and model["version"]
    assert model["validation"]["metrics"]["entity_f1"] >= 0 and "spacy" in model["tokenizer"]
    assert client.get("/healthz").json() == {"status": "ok"}
    page = client.get("/")
    assert page.status_code == 200 and "<textarea" in page.text and "/v1/entities" in page.text
    assert client.get("/docs").status_code == 200 and "/v1/entities" in client.get("/openapi.json").text


BAD_REQUESTS = [
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "not valid JSON"),
    ({"content": b"", "headers": {"content-type": "application/json"}}, 422, "empty body"),
    ({"json": ["a list"]}, 422, "must be a JSON object"),
    ({"json": {}}, 422, 'either "text" or "texts"'),
    ({"json": {"text": "a", "texts": ["b"]}}, 422, 'either "text" or "texts"'),
    ({"json": {"text": 5}}, 422, "text: Input should be a valid string"),
    ({"json": {"texts": "one"}}, 422, "texts: Input should be a valid list"),
    ({"json": {"texts": ["ok", None]}}, 422, "texts.1: Input should be a valid string"),
    ({"json": {"text": "a", "nbest": -1}}, 422, "nbest: Input should be greater than or equal to 0"),
    ({"json": {"text": "a", "nbest": 99}}, 422, "nbest: Input should be less than or equal to 10"),
    ({"json": {"text": "a", "colour": "red"}}, 422, "colour: Extra inputs are not permitted"),
    ({"json": {"text": "x" * 201}}, 413, "text: 201 characters; at most 200"),
    ({"json": {"texts": ["a", "x" * 201]}}, 413, "texts[1]: 201 characters"),
    ({"json": {"texts": ["a"] * 4}}, 413, "4 texts; at most 3"),
]


@pytest.mark.parametrize("request_kwargs, status, message", BAD_REQUESTS)
def test_bad_requests_get_a_4xx_that_names_the_problem_and_the_service_keeps_serving(
    client, request_kwargs, status, message
):
    response = client.post("/v1/entities", **request_kwargs)
    assert response.status_code == status and message in response.json()["error"], response.text
    assert client.post("/v1/entities", json={"text": "Anna"}).status_code == 200


def test_wrong_method_and_path_are_4xx(client):
    assert client.get("/v1/entities").status_code == 405
    assert client.get("/v2/nothing").status_code == 404


def test_concurrent_requests_are_answered_each_with_its_own_texts(client):
    texts = [f"Anna number {i} visits Rome." for i in range(40)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        bodies = list(pool.map(lambda t: client.post("/v1/entities", json={"text": t}).json(), texts))
    assert [b["text"] for b in bodies] == texts
    alone = client.post("/v1/entities", json={"text": texts[7]}).json()
    assert bodies[7]["entities"] == alone["entities"]
