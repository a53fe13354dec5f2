"""Reading server-sent events the way a browser's EventSource does (for the tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx


@dataclass
class Event:
    event: str
    id: str
    data: dict

    @property
    def type(self) -> str:
        return self.data.get("type", self.event)


def events(response: httpx.Response) -> Iterator[Event]:
    """Each event; a `records` batch as one `record` event per record (the batch's id)."""
    kind, ident, data = "message", "", []
    for line in response.iter_lines():
        if line == "":
            if data:
                payload = json.loads("\n".join(data))
                if kind == "records":
                    for record in payload["records"]:
                        yield Event("record", ident, record)
                else:
                    yield Event(kind, ident, payload)
            kind, data = "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            kind = value
        elif name == "id":
            ident = value
        elif name == "data":
            data.append(value)
