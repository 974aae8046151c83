"""A JSON file holding one list of objects, read element by element in constant memory.

The scanner follows only strings and nesting depth, to cut the top-level list into its
elements; orjson then parses each element. A syntax error in the list itself ends the read,
since nothing after it can be trusted to line up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

import orjson

from labelwise.formats.rows import ParsedRow, json_error

CHUNK = 1 << 20
_SPECIAL = re.compile(rb'["\\\[\]{},]')
_OPEN, _CLOSE = b"[{", b"]}"


def read(stream: IO[bytes]) -> Iterator[ParsedRow]:
    scanner = _Scanner()
    while not scanner.finished and (chunk := stream.read(CHUNK)):
        yield from scanner.feed(chunk)
    yield from scanner.close()


class _Scanner:
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.depth = 0
        self.in_string = False
        self.escape_at = -1  # buffer offset of a byte escaped by a backslash
        self.element_start = -1  # buffer offset after the '[' or ',' opening an element
        self.element_line = 1
        self.line = 1
        self.seen_list = False
        self.finished = False

    def feed(self, chunk: bytes) -> Iterator[ParsedRow]:
        buffer = self.buffer
        pos = len(buffer)
        if not self.seen_list and not buffer.strip() and chunk.strip()[:1] not in (b"[", b""):
            self.finished = True
            yield ParsedRow(self.line, None, "expected a JSON list of objects")
            return
        buffer += chunk
        for match in _SPECIAL.finditer(buffer, pos):
            index = match.start()
            self.line += buffer.count(b"\n", pos, index)
            pos = index
            if self.in_string:
                if index == self.escape_at:
                    continue
                byte = buffer[index]
                if byte == 0x5C:
                    self.escape_at = index + 1
                elif byte == 0x22:
                    self.in_string = False
                continue
            row = self._structural(buffer[index], index)
            if row is not None:
                yield row
            if self.finished:
                return
        self.line += buffer.count(b"\n", pos)
        self._compact()

    def _structural(self, byte: int, index: int) -> ParsedRow | None:
        if byte == 0x22:
            self.in_string = True
        elif byte in _OPEN:
            self.depth += 1
            if self.depth == 1:
                self.seen_list = True
                self._open_element(index)
        elif byte in _CLOSE:
            self.depth -= 1
            if self.depth == 0:
                self.finished = True
                return self._close_element(index, last=True)
        elif self.depth == 1:  # a comma between elements
            row = self._close_element(index, last=False)
            self._open_element(index)
            return row
        return None

    def _open_element(self, index: int) -> None:
        self.element_start, self.element_line = index + 1, self.line

    def _close_element(self, index: int, *, last: bool) -> ParsedRow | None:
        raw = bytes(self.buffer[self.element_start : index])
        text = raw.strip()
        line = self.element_line + raw[: len(raw) - len(raw.lstrip())].count(b"\n")
        if not text:
            if last:  # "[]" or a trailing "]" after the last element
                return None
            return ParsedRow(line, None, "empty element in the list")
        try:
            return ParsedRow(line, orjson.loads(text))
        except orjson.JSONDecodeError as error:
            return ParsedRow(line, None, json_error(error, column=False))

    def _compact(self) -> None:
        keep_from = self.element_start if self.depth >= 1 else len(self.buffer)
        if keep_from > 0:
            del self.buffer[:keep_from]
            self.element_start -= keep_from
            self.escape_at -= keep_from

    def close(self) -> Iterator[ParsedRow]:
        if self.finished:
            return
        if not self.seen_list:
            yield ParsedRow(self.line, None, "the file is empty; expected a JSON list of objects")
        else:
            yield ParsedRow(self.line, None, "the list is not closed: the file ends too early")
