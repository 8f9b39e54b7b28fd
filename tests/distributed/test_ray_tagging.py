"""Corpus tagging on a real Ray cluster of two nodes on this machine: shards in, one output per shard,
the same entities as `ner predict` in one process; bad lines named, nothing half-written, re-runs skip
finished shards."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray", reason="needs the distributed extra")

from ray.cluster_utils import Cluster  # noqa: E402

from ner.distributed.ray_tagging import tag_corpus  # noqa: E402
from ner.distributed.shards import list_shards  # noqa: E402
from ner.utils.errors import DataFormatError, NerError  # noqa: E402
from ner.workflows.raw_text import predict_raw_file  # noqa: E402
from tests.conftest import LEGACY_RUN, WIKINEURAL, require_data  # noqa: E402
from tests.helpers import ner  # noqa: E402

pytestmark = pytest.mark.e2e

RUN = LEGACY_RUN


@pytest.fixture(scope="module")
def cluster():
    """A head node and a second node, one CPU each; the test process is the driver."""
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, include_dashboard=False, log_to_driver=False)
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    yield nodes.address
    ray.shutdown()
    nodes.shutdown()


def texts() -> list[str]:
    """WikiNEuRal test sentences, joined with spaces, three to a document."""
    lines = (require_data(WIKINEURAL) / "test.tokens").read_text().splitlines()[:450]
    return [" ".join(lines[i : i + 3]) for i in range(0, len(lines), 3)]


@pytest.fixture
def shards(tmp_path) -> Path:
    """Three JSON-lines shards (one with blank lines and an id field) of 50 documents each."""
    folder = tmp_path / "shards"
    folder.mkdir()
    docs = texts()
    for n in range(3):
        lines = [json.dumps({"id": f"{n}-{i}", "text": t}) for i, t in enumerate(docs[n * 50 : (n + 1) * 50])]
        if n == 1:
            lines.insert(5, "")
        (folder / f"part-{n}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_two_ray_nodes_tag_three_shards_as_one_process_does(cluster, shards, tmp_path):
    written = tag_corpus(RUN, shards, tmp_path / "out", cluster, workers=2, progress=False)
    assert sorted(Path(p).name for p in written) == ["part-0.jsonl", "part-1.jsonl", "part-2.jsonl"]
    found = 0
    for shard in sorted(shards.iterdir()):
        predict_raw_file(RUN, shard, tmp_path / f"one-{shard.name}")
        expected = records(tmp_path / f"one-{shard.name}")
        tagged = records(tmp_path / "out" / shard.name)
        assert [r["id"] for r in tagged] == [r["id"] for r in expected]
        assert [r["entities"] for r in tagged] == [r["entities"] for r in expected]
        found += sum(len(r["entities"]) for r in tagged)
    assert found > 0, "the fixture run tags some entities, so the comparison is not of empty lists"


def test_ray_tags_with_an_exported_model_as_its_run_does(cluster, shards, tmp_path):
    ner("export", RUN, "--output", tmp_path / "onnx")
    tag_corpus(
        tmp_path / "onnx", shards / "part-0.jsonl", tmp_path / "out", cluster, workers=2, progress=False
    )
    predict_raw_file(RUN, shards / "part-0.jsonl", tmp_path / "one.jsonl")
    tagged, expected = records(tmp_path / "out" / "part-0.jsonl"), records(tmp_path / "one.jsonl")
    strip = [
        [[(e["text"], e["label"], e["start"]) for e in r["entities"]] for r in rows]
        for rows in (tagged, expected)
    ]
    assert strip[0] == strip[1] and any(strip[0])
    scores = [[e["score"] for r in rows for e in r["entities"]] for rows in (tagged, expected)]
    assert scores[0] == pytest.approx(scores[1], abs=1e-4)


def test_a_rerun_tags_only_the_shards_not_yet_written(cluster, shards, tmp_path):
    out = tmp_path / "out"
    tag_corpus(RUN, shards, out, cluster, workers=2, progress=False)
    kept = (out / "part-0.jsonl").stat().st_mtime_ns
    (out / "part-2.jsonl").unlink()
    written = tag_corpus(RUN, str(shards / "*.jsonl"), out, cluster, workers=2, progress=False)
    assert [Path(p).name for p in written] == ["part-2.jsonl"]
    assert (out / "part-0.jsonl").stat().st_mtime_ns == kept
    assert len(records(out / "part-2.jsonl")) == 50


def test_a_bad_line_names_its_shard_and_line_and_leaves_no_partial_output(cluster, shards, tmp_path):
    bad = shards / "part-2.jsonl"
    lines = bad.read_text().splitlines()
    lines[30] = '{"text": 17}'
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError) as err:
        tag_corpus(RUN, shards, tmp_path / "out", cluster, workers=2, progress=False)
    assert err.value.path.endswith("part-2.jsonl") and err.value.line == 31
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["part-0.jsonl", "part-1.jsonl"]


def test_text_and_parquet_shards_and_parquet_output(cluster, tmp_path):
    docs = texts()[:40]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("\n".join(docs[:20]) + "\n\n")
    pq.write_table(pa.table({"text": docs[20:], "n": list(range(20))}), folder / "b.parquet")
    tag_corpus(
        RUN, folder / "a.txt", tmp_path / "out", cluster, workers=2, output_format="parquet", progress=False
    )
    tag_corpus(RUN, folder / "b.parquet", tmp_path / "out", cluster, workers=2, progress=False)
    from_text = pq.read_table(tmp_path / "out" / "a.parquet").to_pylist()
    from_parquet = records(tmp_path / "out" / "b.jsonl")
    assert [r["text"] for r in from_text] == docs[:20]
    assert [r["n"] for r in from_parquet] == list(range(20))
    predict_raw_file(RUN, folder / "a.txt", tmp_path / "one.jsonl")
    assert [r["entities"] for r in from_text] == [r["entities"] for r in records(tmp_path / "one.jsonl")]


def test_shard_listing_refuses_mixed_and_missing_inputs(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "b.txt").write_text("x\n")
    with pytest.raises(NerError, match="mix"):
        list_shards(tmp_path)
    with pytest.raises(NerError, match="no such"):
        list_shards(tmp_path / "nothing")
    assert list_shards(tmp_path / "*.txt") == [tmp_path / "b.txt"]


def test_the_command_line_tags_on_a_cluster_and_names_a_bad_line(cluster, shards, tmp_path):
    out = tmp_path / "out"
    ner(
        "predict", "--experiment", RUN, "--input", shards, "--output", out, "--ray", cluster, "--workers", "2"
    )
    assert sorted(p.name for p in out.iterdir()) == ["part-0.jsonl", "part-1.jsonl", "part-2.jsonl"]
    (shards / "part-3.jsonl").write_text('{"text": "fine"}\nnot json\n')
    result = ner(
        "predict", "--experiment", RUN, "--input", shards, "--output", out, "--ray", cluster, expect=2
    )
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "part-3.jsonl:2: not valid JSON" in result.stderr
    assert not (out / "part-3.jsonl").exists()
