"""Strict JSON documents: the reading layer under the interchange format (FORMAT.md v1).

Every document pamdp reads goes through :func:`loads_json` / :func:`read_json`: UTF-8 (a BOM is
refused), nesting at most :data:`MAX_DEPTH`, no duplicate keys, no ``NaN``/``Infinity``, and
every JSON number read from its decimal text under the bounds of :mod:`theory.numbers` (never
through a binary float). Errors are :class:`DocumentError`, a :class:`json.JSONDecodeError`
that names the field path. :mod:`theory.format` builds instances and solutions on top and
re-exports these names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from theory.numbers import RejectedNumber, excerpt, json_number_hooks

#: Deepest nesting of arrays and objects in a document (the format itself needs 5).
MAX_DEPTH = 100


class DocumentError(json.JSONDecodeError):
    """Bytes that are not a JSON document pamdp reads: empty, not UTF-8 (binary, UTF-16, a
    byte-order mark), nested deeper than :data:`MAX_DEPTH`, a duplicate key, or ``NaN`` /
    ``Infinity`` (not JSON). A :class:`json.JSONDecodeError`, so callers that handle invalid
    JSON handle these too. ``path`` names the field where there is one (``"discount"``)."""

    def __init__(self, message: str, pos: int = 0, *, path: str = "") -> None:
        ValueError.__init__(self, f"{path}: {message}" if path else message)
        self.msg, self.doc, self.pos, self.path = message, "", pos, path
        self.lineno, self.colno = 1, pos + 1

    def __reduce__(self) -> Any:
        return (_rebuild_document_error, (self.msg, self.pos, self.path))


def _rebuild_document_error(message: str, pos: int, path: str) -> DocumentError:
    return DocumentError(message, pos, path=path)


def check_document(raw: bytes) -> None:
    """The checks of :func:`decode_document` without building the text (an ASCII document,
    the usual large case, is valid UTF-8 as it stands).

    Raises
    ------
    DocumentError
        As :func:`decode_document`.
    """
    if raw.isascii() and raw.find(b"\x00") < 0:
        return
    decode_document(raw)


def decode_document(raw: bytes) -> str:
    """The text of a JSON document: UTF-8 (RFC 8259), no byte-order mark, not empty.

    Raises
    ------
    DocumentError
        Empty, a byte-order mark, NUL bytes (binary data, UTF-16 or UTF-32), invalid UTF-8.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raise DocumentError("the file starts with a UTF-8 byte-order mark; save it without one")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError("the file is UTF-16 or UTF-32 text; save it as UTF-8")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DocumentError(
            f"the file contains a NUL byte at offset {nul}: binary data or UTF-16/UTF-32 "
            "text, not UTF-8 JSON",
            nul,
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})",
            error.start,
        ) from None


_STRING_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` before parsing (a deep document would
    exhaust the parser's recursion), in time linear in the text (strings skipped)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    brackets = _NOT_BRACKET.sub("", _STRING_TOKEN.sub("", text)).encode("ascii")
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    if steps.size and int(np.cumsum(steps).max()) > MAX_DEPTH:
        raise DocumentError(f"arrays and objects nested deeper than {MAX_DEPTH} levels")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DocumentError("duplicate key in an object", path=excerpt(key).strip("'"))
            seen.add(key)
    return document


def loads_json(text: str | bytes) -> Any:
    """Parse a JSON document by pamdp's rules: numbers exact and bounded
    (:mod:`theory.numbers`; a number beyond the limits is kept as a
    :class:`~theory.numbers.RejectedNumber` for the loader to report with its field),
    nesting at most :data:`MAX_DEPTH`, no duplicate keys, no ``NaN``/``Infinity``.

    Raises
    ------
    json.JSONDecodeError
        Invalid JSON; :class:`DocumentError` (a subclass) for the cases above.
    """
    if isinstance(text, bytes | bytearray):
        text = decode_document(bytes(text))
    if not text.strip(" \t\n\r"):
        raise DocumentError("the document is empty")
    _check_depth(text)
    try:
        try:
            data = json.loads(
                text, object_pairs_hook=_no_duplicate_keys, **json_number_hooks(fast_integers=True)
            )
        except ValueError as error:
            if isinstance(error, json.JSONDecodeError):
                raise
            # an integer beyond Python's int-string limit: read again by pamdp's own limits
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys, **json_number_hooks())
    except RecursionError:
        raise DocumentError(f"arrays and objects nested deeper than {MAX_DEPTH} levels") from None
    except MemoryError:
        raise DocumentError("the document is too large to read into memory") from None
    if "NaN" in text or "Infinity" in text:  # the walk is needed only then
        path, bad = _first_not_json(data)
        if bad is not None:
            raise DocumentError(bad.reason, path=path or "<document>")
    return data


def read_json(path: str | Path) -> Any:
    """Read a JSON file by the rules of :func:`loads_json`.

    Raises
    ------
    json.JSONDecodeError
        Invalid JSON (:class:`DocumentError` for encoding, depth, duplicates, NaN).
    OSError
        The file cannot be read.
    """
    if str(path).endswith(".npz"):  # the binary companion (theory.binary), as its document
        from theory.binary import document_npz

        return document_npz(path)
    return loads_json(Path(path).read_bytes())


def _first_not_json(data: Any) -> tuple[str, RejectedNumber | None]:
    """The first ``NaN``/``Infinity`` token of a parsed document and its path, iteratively."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, RejectedNumber):
            if value.not_json:
                return path, value
        elif isinstance(value, dict):
            stack.extend(
                (item, f"{path}.{key}" if path else key)
                for key, item in reversed(list(value.items()))
            )
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
    return "", None
