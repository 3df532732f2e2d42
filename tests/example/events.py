"""Events of the example service the messaging tests drive; topics are per test, so the classes are made per test."""

from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field

from contracts.envelope import Event


class AddToCounter(Event):
    """An amount to add to one counter (the example service's input)."""

    type: ClassVar[str] = "dk.jobbro.example.add-to-counter.v1"
    key_field: ClassVar[str] = "counter"
    counter: str
    amount: int = Field(gt=0)


class CounterChanged(Event):
    """A counter's new value and version (the example service's output, through the outbox)."""

    type: ClassVar[str] = "dk.jobbro.example.counter-changed.v1"
    key_field: ClassVar[str] = "counter"
    counter: str
    value: int
    version: int


@dataclass(frozen=True)
class ExampleTopics:
    commands: str
    changes: str

    def bind(self) -> tuple[type[AddToCounter], type[CounterChanged]]:
        """The two event classes, published on this test's topics."""
        add = type("AddToCounter", (AddToCounter,), {"topic": self.commands})
        changed = type("CounterChanged", (CounterChanged,), {"topic": self.changes})
        return add, changed
