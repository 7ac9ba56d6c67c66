"""Run several producers (e.g. Scan segments) in threads and consume their items in one thread.

Items travel in batches through a bounded queue, so memory is bounded by `max_pending` batches
whatever the producers' speed; an error in any producer is re-raised in the consumer, and a
consumer that stops early stops the producers.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def merged_batches(
    producers: Sequence[Callable[[], Iterable[T]]], max_pending: int = 8, batch_size: int = 1000
) -> Iterator[list[T]]:
    """Batches of the producers' items, in no particular order across producers."""
    pending: queue.Queue[object] = queue.Queue(maxsize=max_pending)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                pending.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(producer: Callable[[], Iterable[T]]) -> None:
        try:
            chunk: list[T] = []
            for item in producer():
                chunk.append(item)
                if len(chunk) >= batch_size:
                    if not put(chunk):
                        return
                    chunk = []
            if chunk and not put(chunk):
                return
            put(_DONE)
        except BaseException as error:
            put(error)

    threads = [threading.Thread(target=run, args=(p,), daemon=True) for p in producers]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            item = pending.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item  # type: ignore[misc]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def flatten(batches: Iterable[list[T]]) -> Iterator[T]:
    for batch in batches:
        yield from batch
