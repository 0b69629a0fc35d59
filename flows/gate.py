"""A concurrency limit whose urgent waiters go first.

The link checker's global limit on requests in flight is a semaphore, and a plain one is
first come, first served. A host that asked to be slowed down (429 with Retry-After) is
then asked one request at a time, and if each of those requests queues behind every other
host's at the global limit, that host's few links finish long after all the rest. Giving
its requests the next free slot costs the others one slot at a time and keeps the limit.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class PriorityGate:
    """At most ``limit`` holders; a freed slot goes to the oldest urgent waiter, else the oldest waiter."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a gate needs at least one slot")
        self._free = limit
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def slot(self, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if self._free > 0:  # a slot is only ever free when nobody waits (_release hands them over)
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._normal).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over just as the waiter was cancelled: pass it on
            raise

    def _release(self) -> None:
        """Hand the slot straight to the next waiter (so no newcomer can take it first), or free it."""
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1
