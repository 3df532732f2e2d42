"""The chaos: a random replica of every service SIGKILLed at random moments and started again after a short pause,
and the Kafka broker crashed and started again once, in the middle; each blow is recorded with its time, so what
only a crash can explain (a mail sent twice under one Message-ID) is checked against the crashes that happened.

A service exits when it cannot reach Kafka at start-up (it fails fast, for its supervisor to start it again), so a
victim restarted while the broker is down would stay down: the monkey also supervises, as systemd or Kubernetes
would, starting every process that is not running and not being held down.
"""

import asyncio
import random
import time
from dataclasses import dataclass

from jobbro.infra import Infrastructure
from jobbroctl import stack
from jobbroctl.stack import Layout
from tests.chaos.broker import LocalBroker

VICTIMS = ("subsidy", "benefits", "activation", "notify", "backoffice")
BROKER = "kafka"


@dataclass(frozen=True)
class Blow:
    """One crash: what was killed, when, and when it was started again."""

    victim: str
    """The service (or `kafka`) a blow hit."""
    process: str
    """Which process: the replica's `Service.key`, or `kafka`."""
    at: float
    back_at: float


class Monkey:
    """Kills a random replica of each victim `kills_each` times in a random order, `spacing` seconds apart, the broker
    once among them."""

    def __init__(
        self,
        layout: Layout,
        infra: Infrastructure,
        prefix: str,
        broker: LocalBroker,
        rng: random.Random,
        *,
        kills_each: int,
        spacing: tuple[float, float],
    ) -> None:
        self._layout = layout
        self._infra = infra
        self._prefix = prefix
        self._broker = broker
        self._rng = rng
        self._kills_each = kills_each
        self._spacing = spacing
        self.blows: list[Blow] = []
        self.restarts = 0
        """Processes the supervisor started again after they exited on their own (at start-up, broker down)."""
        self._held_down: set[str] = set()

    async def run(self) -> None:
        schedule = [victim for victim in VICTIMS for _ in range(self._kills_each)]
        self._rng.shuffle(schedule)
        schedule.insert(self._rng.randrange(2, len(schedule) - 2), BROKER)
        for victim in schedule:
            await asyncio.sleep(self._rng.uniform(*self._spacing))
            if victim == BROKER:
                await self._crash_broker()
            else:
                await self._kill(victim)

    async def supervise(self, interval: float = 1.0) -> None:
        """Until cancelled: start whatever process of the stack is not running, unless a blow holds it down."""
        while True:
            await asyncio.sleep(interval)
            for service in self._layout.services:
                if service.key in self._held_down:
                    continue
                before = service.pid_file.read_text()
                if str(stack.start(service, self._infra, self._prefix)) != before:
                    self.restarts += 1

    def times(self, victim: str) -> list[float]:
        """When `victim` was killed."""
        return [blow.at for blow in self.blows if blow.victim == victim]

    async def _kill(self, victim: str) -> None:
        service = self._rng.choice(self._layout.replicas_of(victim))
        self._held_down.add(service.key)
        at = time.time()
        await asyncio.to_thread(stack.kill, service)
        await asyncio.sleep(self._rng.uniform(0.5, 2.0))
        stack.start(service, self._infra, self._prefix)
        self._held_down.discard(service.key)
        self.blows.append(Blow(victim, service.key, at, time.time()))

    async def _crash_broker(self) -> None:
        at = time.time()
        await asyncio.to_thread(self._broker.crash)
        await asyncio.sleep(self._rng.uniform(1.0, 3.0))
        await self._broker.start()
        self.blows.append(Blow(BROKER, BROKER, at, time.time()))
