"""An example of every event, built from the first example of each of its fields.

So every field's documented example is proven valid, and the AsyncAPI document and the tests show events that
a producer could really send.
"""

from __future__ import annotations

import json
from typing import TypeVar

from contracts.envelope import Event

E = TypeVar("E", bound=Event)


def example(model: type[E]) -> E:
    """The event made of each field's first example, parsed as a consumer would parse it from JSON."""
    data = {}
    for name, field in model.model_fields.items():
        if not field.examples:
            raise ValueError(f"{model.__name__}.{name} has no example")
        data[name] = field.examples[0]
    return model.model_validate_json(json.dumps(data))
