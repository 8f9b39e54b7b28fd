"""Choosing what to label: `ner select` ranks a pool by the model's doubt (the most doubtful first), skips
near duplicates with `diverse`, draws at random reproducibly, and writes the chosen texts pre-annotated."""

import json

import pytest

import ner
from ner.workflows.selection import most_doubtful, random_sample, similarity, unlike_each_other, word_set
from tests.conftest import LEGACY_RUN
from tests.helpers import ner as ner_command

POOL = [
    "Anna Smith lives in Rome near Acme Corp.",
    "Nothing to see here.",
    "Acme Corp hires Smith.",
    "Anna visits ROME near acme corp.",
    "Anna visits ROME near acme corp!",
    "The weather was fine all week.",
    "Smith lives in Rome.",
]


def test_the_ranking_takes_the_most_doubtful_first_and_earlier_among_equals():
    scored = [
        (0.2, 0, {"text": "a"}),
        (0.5, 1, {"text": "b"}),
        (0.2, 2, {"text": "c"}),
        (0.9, 3, {"text": "d"}),
    ]
    assert [p for _, p, _ in most_doubtful(scored, 3)] == [3, 1, 0]


def test_near_duplicates_are_skipped_and_random_draws_are_reproducible():
    assert similarity(word_set("Anna visits ROME."), word_set("anna visits rome!")) == 1.0
    ranked = [
        (0.9, i, {"text": t}) for i, t in enumerate(["Anna visits Rome.", "anna visits rome!", "Smith"])
    ]
    assert [p for _, p, _ in unlike_each_other(ranked, 2)] == [0, 2]
    records = [{"text": str(i)} for i in range(100)]
    first, again = random_sample(records, 10, seed=3), random_sample(records, 10, seed=3)
    assert first == again and len({p for _, p, _ in first}) == 10
    assert [p for _, p, _ in first] == sorted(p for _, p, _ in first)
    assert random_sample(records, 10, seed=4) != first
    counts = [0] * 10
    for seed in range(400):
        for _, position, _ in random_sample(records[:10], 1, seed):
            counts[position] += 1
    assert min(counts) > 15  # every position drawn about 40 times in 400


@pytest.mark.parametrize("strategy", ["uncertainty", "diverse"])
def test_select_writes_the_most_doubtful_texts_pre_annotated(tmp_path, strategy):
    pool = tmp_path / "pool.txt"
    pool.write_text("\n".join(POOL) + "\n")
    output = tmp_path / "chosen.jsonl"
    ner_command("select", LEGACY_RUN, "--input", pool, "--n", 3, "--strategy", strategy, "--output", output)
    chosen = [json.loads(line) for line in output.read_text().splitlines()]
    tagger = ner.load(LEGACY_RUN)
    doubt = {text: tagger(text).doubt for text in POOL}
    ranking = sorted(POOL, key=lambda t: -doubt[t])
    assert [c["doubt"] for c in chosen] == sorted((c["doubt"] for c in chosen), reverse=True)
    assert all(c["doubt"] == pytest.approx(doubt[c["text"]], abs=1e-6) for c in chosen)
    assert all("entities" in c for c in chosen)
    texts = [c["text"] for c in chosen]
    if strategy == "uncertainty":
        assert texts == ranking[:3]
    else:
        assert not {"Anna visits ROME near acme corp.", "Anna visits ROME near acme corp!"} <= set(texts)
        assert texts[0] == ranking[0] and len(texts) == 3


def test_select_writes_a_tools_format_and_refuses_bad_input(tmp_path):
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(POOL)))
    output = tmp_path / "tasks.json"
    args = ("--input", pool, "--n", 2, "--strategy", "random", "--output", output)
    ner_command("select", LEGACY_RUN, *args, "--output-format", "label-studio")
    tasks = json.loads(output.read_text())
    assert len(tasks) == 2 and all(t["data"]["text"] == POOL[t["data"]["id"]] for t in tasks)
    conll = tmp_path / "pool.conll"
    conll.write_text("Rome\tO\n")
    output = tmp_path / "chosen.jsonl"
    result = ner_command("select", LEGACY_RUN, "--input", conll, "--n", 2, "--output", output, expect=2)
    assert "pool.conll" in result.stderr and ".txt" in result.stderr and "Traceback" not in result.stderr
    result = ner_command("select", LEGACY_RUN, "--input", pool, "--n", 0, "--output", output, expect=2)
    assert "--n" in result.stderr
