"""Requests that arrive together are tagged together, one batch at a time, on one worker thread."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ner.runtime.doc import Doc
from ner.runtime.pipeline import Pipeline
from ner.utils.thresholds import MinScore


@dataclass
class Pending:
    """One request's texts and the future its Docs go to."""

    texts: list[str]
    nbest: int
    min_score: MinScore | None
    future: asyncio.Future = field(repr=False)


class Batcher:
    """Collects the requests waiting at a moment (up to `max_texts` texts) into one call of the
    pipeline per threshold they ask for, run on a single worker thread so the model is never used by
    two threads at once."""

    def __init__(self, pipeline: Pipeline, max_texts: int = 256):
        self.pipeline = pipeline
        self.max_texts = max_texts
        self.queue: asyncio.Queue[Pending] | None = None
        self.executor: ThreadPoolExecutor | None = None
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        """Begin serving a new queue (call from the event loop; a stopped batcher can start again)."""
        self.queue = asyncio.Queue()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tagger")
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        await self.queue.join()
        self.task.cancel()
        self.executor.shutdown(wait=True)

    async def tag(self, texts: list[str], nbest: int = 0, min_score: MinScore | None = None) -> list[Doc]:
        """The Docs of `texts` (entities below `min_score`, default the model's, left out), tagged in a
        batch with whatever else is waiting."""
        future = asyncio.get_running_loop().create_future()
        await self.queue.put(Pending(texts, nbest, min_score, future))
        return await future

    async def run(self) -> None:
        """Take the waiting requests, tag them in one call, hand each its Docs; forever."""
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            count = len(batch[0].texts)
            while not self.queue.empty() and count < self.max_texts:
                batch.append(self.queue.get_nowait())
                count += len(batch[-1].texts)
            try:
                for group in by_threshold(batch):
                    await self.answer(loop, group)
            finally:
                for _ in batch:
                    self.queue.task_done()

    async def answer(self, loop: asyncio.AbstractEventLoop, group: list[Pending]) -> None:
        """Tag the texts of requests that ask for one threshold in one call; hand each its Docs (or the
        error, so the service keeps serving)."""
        texts = [text for pending in group for text in pending.texts]
        nbest = max(pending.nbest for pending in group)
        process = self.pipeline.process
        try:
            docs = await loop.run_in_executor(self.executor, process, texts, nbest, group[0].min_score)
        except Exception as err:
            for pending in group:
                if not pending.future.done():
                    pending.future.set_exception(err)
            return
        position = 0
        for pending in group:
            mine = docs[position : position + len(pending.texts)]
            position += len(pending.texts)
            if not pending.future.done():
                pending.future.set_result(mine)


def by_threshold(batch: list[Pending]) -> list[list[Pending]]:
    """The requests grouped by the threshold they ask for, in order of first appearance."""
    groups: list[list[Pending]] = []
    for pending in batch:
        group = next((g for g in groups if g[0].min_score == pending.min_score), None)
        if group is None:
            groups.append([pending])
        else:
            group.append(pending)
    return groups
