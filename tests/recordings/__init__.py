"""Responses Microsoft really gave, kept as data: the contract the portal and its
emulator are both held to.

Each recording is one JSON file here:

    {
      "source": "where it is written: a document path or a public issue URL",
      "read_on": "YYYY-MM-DD, the day the source was read",
      "endpoint": "an emulator endpoint name (token, adminconsent, graph.messages, ...)",
      "request": {"method": "POST", "what": "what was asked"},
      "response": {"status": 429, "headers": {...}, "body": "as sent, text"},
      "notes": "what it shows, and anything the source leaves out"
    }

For a redirect (admin consent), "callback" holds the query Microsoft sent back instead
of a "response". A behaviour Microsoft documents without showing a response (how
consent and Exchange grants combine, how long a change takes) is kept as a "statement":
the source's own words, quoted, in place of a response. Recordings are never edited to
fit the code: where the emulator and a recording disagree, the recording wins and the
emulator is changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Recording:
    name: str
    source: str
    read_on: str
    endpoint: str
    request: dict[str, Any]
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    callback: dict[str, str] = field(default_factory=dict)
    statement: str = ""
    notes: str = ""

    def json(self) -> Any:
        return json.loads(self.body)

    def replay_into(self, emulator: Any, times: int = 1) -> None:
        """Have the emulator answer the next `times` requests to the endpoint with it."""
        emulator.replay(
            self.endpoint, status=self.status, body=self.body, headers=self.headers, times=times
        )


def load(name: str) -> Recording:
    data = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    response = data.get("response") or {}
    recording = Recording(
        name=name,
        source=data["source"],
        read_on=data["read_on"],
        endpoint=data["endpoint"],
        request=data.get("request") or {},
        status=int(response.get("status", 0)),
        headers={str(k): str(v) for k, v in (response.get("headers") or {}).items()},
        body=response.get("body", ""),
        callback={str(k): str(v) for k, v in (data.get("callback") or {}).items()},
        statement=data.get("statement", ""),
        notes=data.get("notes", ""),
    )
    if not recording.source or not _DATE.match(recording.read_on):
        raise ValueError(f"{name}: every recording names its source and the day it was read")
    held = [bool(recording.status), bool(recording.callback), bool(recording.statement)]
    if held.count(True) != 1:
        raise ValueError(f"{name}: a recording holds one of a response, a callback, a statement")
    return recording


def names() -> list[str]:
    return sorted(path.stem for path in HERE.glob("*.json"))
