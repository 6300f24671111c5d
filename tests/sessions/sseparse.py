"""A small SSE parser for the tests: the client's view of the wire format."""

import json


def parse_frame(block: str) -> dict:
    """One frame (text between blank lines) -> {"comment"} or {"event", "id", "retry", "data"}."""
    frame: dict = {}
    data_lines = []
    for line in block.split("\n"):
        if not line:
            continue
        if line.startswith(":"):
            frame["comment"] = line[1:].strip()
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data_lines.append(value)
        elif name == "retry":
            frame["retry"] = int(value)
        else:
            frame[name] = value
    if data_lines:
        frame["data"] = json.loads("\n".join(data_lines))
    return frame


class FrameReader:
    """Splits a byte stream (in any chunking) into parsed frames."""

    def __init__(self) -> None:
        self.buffer = ""

    def feed(self, chunk: bytes) -> list[dict]:
        self.buffer += chunk.decode()
        *blocks, self.buffer = self.buffer.split("\n\n")
        return [parse_frame(block) for block in blocks if block.strip()]
