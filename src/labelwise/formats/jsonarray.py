"""A JSON file holding one list of objects, read element by element in constant memory.

The scanner follows only strings and nesting depth, to cut the top-level list into its
elements; orjson then parses each element. A bad element is reported and the read goes on
(skip-invalid mode lists them all); a fault in the list itself (not a list, not closed, a
trailing comma, something after the closing bracket) is reported and ends the read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

import orjson

from labelwise.formats.rows import ParsedRow, json_error

CHUNK = 1 << 20
# A whole string (escapes included), or one byte that matters outside strings. A lone '"'
# matches only when its string runs past the end of what has been read so far.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|["\[\]{},]', re.DOTALL)
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"
_BEFORE, _INSIDE, _AFTER = "before the list", "inside the list", "after the list"


def read(stream: IO[bytes]) -> Iterator[ParsedRow]:
    scanner = _Scanner()
    while not scanner.failed and (chunk := stream.read(CHUNK)):
        yield from scanner.feed(chunk)
    yield from scanner.close()


class _Scanner:
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.state = _BEFORE
        self.failed = False
        self.pos = 0  # where scanning resumes in the buffer
        self.depth = 0
        self.element_start = 0  # buffer offset just after the '[' or ',' opening an element
        self.element_line = 1
        self.after_comma = False  # the current element was opened by a comma
        self.line = 1  # line number at buffer offset `line_pos`
        self.line_pos = 0

    def feed(self, chunk: bytes) -> Iterator[ParsedRow]:
        self.buffer += chunk
        if self.state is _BEFORE:
            yield from self._find_list()
        if self.state is _INSIDE:
            yield from self._scan()
        if self.state is _AFTER:
            yield from self._check_rest()
        self._compact()

    def close(self) -> Iterator[ParsedRow]:
        if self.failed:
            return
        if self.state is _BEFORE:
            yield self._fail(1, "the file is empty; expected a JSON list of objects")
        elif self.state is _INSIDE:
            line = self._line_at(len(self.buffer))
            yield self._fail(line, "the list is not closed: the file ends too early")

    def _find_list(self) -> Iterator[ParsedRow]:
        start = len(_BOM) if self.buffer.startswith(_BOM) else 0
        if _BOM.startswith(self.buffer):
            return  # nothing yet, or the start of a byte order mark
        content = self.buffer[start:].lstrip(_WHITESPACE)
        if not content:
            return
        if content[:1] != b"[":
            line = self._line_at(len(self.buffer) - len(content))
            yield self._fail(line, "expected a JSON list of objects")
            return
        opening = len(self.buffer) - len(content)
        self.state, self.depth, self.pos = _INSIDE, 1, opening + 1
        self._open_element(opening, after_comma=False)

    def _scan(self) -> Iterator[ParsedRow]:
        buffer = self.buffer
        for match in _TOKEN.finditer(buffer, self.pos):
            index = match.start()
            byte = buffer[index]
            if byte == 0x22:  # '"'
                if match.end() - index == 1:  # the string goes on in the next chunk
                    self.pos = index
                    return
            elif byte in b"[{":
                self.depth += 1
            elif byte in b"]}":
                self.depth -= 1
                if self.depth == 0:
                    self.state, self.pos = _AFTER, index + 1
                    row = self._close_element(index, last=True)
                    if row is not None:
                        yield row
                    return
            elif self.depth == 1:  # a comma between elements
                yield from self._next_element(index)
        self.pos = len(buffer)

    def _next_element(self, comma: int) -> Iterator[ParsedRow]:
        row = self._close_element(comma, last=False)
        if row is not None:
            yield row
        self._open_element(comma, after_comma=True)

    def _open_element(self, index: int, *, after_comma: bool) -> None:
        self.element_start = index + 1
        self.element_line = self._line_at(index)
        self.after_comma = after_comma

    def _close_element(self, index: int, *, last: bool) -> ParsedRow | None:
        raw = bytes(self.buffer[self.element_start : index])
        text = raw.lstrip(_WHITESPACE)
        line = self.element_line + raw[: len(raw) - len(text)].count(b"\n")
        if not text.rstrip(_WHITESPACE):
            if not last:
                return ParsedRow(line, None, "empty element in the list")
            if self.after_comma:
                return self._fail(self.element_line, "a comma after the last element of the list")
            return None  # "[]"
        try:
            return ParsedRow(line, orjson.loads(text))
        except orjson.JSONDecodeError as error:
            return ParsedRow(line, None, json_error(error, column=False))

    def _check_rest(self) -> Iterator[ParsedRow]:
        rest = self.buffer[self.pos :]
        extra = len(rest) - len(rest.lstrip(_WHITESPACE))
        if extra < len(rest):
            line = self._line_at(self.pos + extra)
            yield self._fail(line, "unexpected content after the end of the list")
        self.pos = len(self.buffer)

    def _line_at(self, index: int) -> int:
        self.line += self.buffer.count(b"\n", self.line_pos, index)
        self.line_pos = index
        return self.line

    def _fail(self, line: int, message: str) -> ParsedRow:
        self.failed = True
        return ParsedRow(line, None, message)

    def _compact(self) -> None:
        """Drop what has been dealt with, so memory holds one element at most."""
        if self.state is _BEFORE:
            return
        keep_from = self.element_start if self.state is _INSIDE else self.pos
        keep_from = min(keep_from, self.pos)
        if keep_from > 0:
            self._line_at(keep_from)
            del self.buffer[:keep_from]
            self.pos -= keep_from
            self.element_start -= keep_from
            self.line_pos -= keep_from
