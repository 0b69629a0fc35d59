"""The link checker's global limit: never more holders than slots, urgent waiters first."""

from __future__ import annotations

import asyncio

import pytest

from flows.gate import PriorityGate
from tests.conftest import run_async


def test_never_more_holders_than_slots() -> None:
    async def run() -> int:
        gate, holders, most = PriorityGate(3), 0, 0

        async def hold() -> None:
            nonlocal holders, most
            async with gate.slot():
                holders += 1
                most = max(most, holders)
                await asyncio.sleep(0.001)
                holders -= 1

        await asyncio.gather(*(hold() for _ in range(50)))
        return most

    assert run_async(run) == 3


def test_a_freed_slot_goes_to_the_oldest_urgent_waiter_then_in_order() -> None:
    async def run() -> list[str]:
        gate, order = PriorityGate(1), []
        release = asyncio.Event()

        async def first() -> None:
            async with gate.slot():
                await release.wait()

        async def waiter(name: str, urgent: bool) -> None:
            async with gate.slot(urgent=urgent):
                order.append(name)

        holder = asyncio.create_task(first())
        await asyncio.sleep(0)
        tasks = [asyncio.create_task(waiter(n, u)) for n, u in
                 (("a", False), ("b", False), ("throttled", True), ("c", False), ("throttled-2", True))]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(holder, *tasks)
        return order

    assert run_async(run) == ["throttled", "throttled-2", "a", "b", "c"]


def test_a_cancelled_waiter_does_not_lose_the_slot() -> None:
    async def run() -> bool:
        gate = PriorityGate(1)
        release = asyncio.Event()

        async def hold() -> None:
            async with gate.slot():
                await release.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        doomed = asyncio.create_task(hold())
        await asyncio.sleep(0)
        release.set()
        await asyncio.sleep(0)  # the holder leaves and hands its slot to `doomed` ...
        doomed.cancel()  # ... which is cancelled before it runs
        await asyncio.gather(holder, doomed, return_exceptions=True)
        async with asyncio.timeout(1):
            async with gate.slot():
                return True

    assert run_async(run)


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        PriorityGate(0)
