"""Requests that arrive together are tagged together, one batch at a time, on one worker thread."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ner.runtime.doc import Doc
from ner.runtime.pipeline import Pipeline


@dataclass
class Pending:
    """One request's texts and the future its Docs go to."""

    texts: list[str]
    nbest: int
    future: asyncio.Future = field(repr=False)


class Batcher:
    """Collects the requests waiting at a moment (up to `max_texts` texts) into one call of the
    pipeline, run on a single worker thread so the model is never used by two threads at once."""

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

    async def tag(self, texts: list[str], nbest: int = 0) -> list[Doc]:
        """The Docs of `texts`, tagged in a batch with whatever else is waiting."""
        future = asyncio.get_running_loop().create_future()
        await self.queue.put(Pending(texts, nbest, future))
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
            texts = [text for pending in batch for text in pending.texts]
            nbest = max(pending.nbest for pending in batch)
            try:
                docs = await loop.run_in_executor(self.executor, self.pipeline.process, texts, nbest)
            except Exception as err:  # handed to the requests that asked, so the service keeps serving
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(err)
            else:
                position = 0
                for pending in batch:
                    mine = docs[position : position + len(pending.texts)]
                    position += len(pending.texts)
                    if not pending.future.done():
                        pending.future.set_result(mine)
            finally:
                for _ in batch:
                    self.queue.task_done()
