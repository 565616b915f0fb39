"""Where roster files come from: one uploaded file or several, a path, a folder or a zip.

Files are opened as streams and parsed row by row; nothing here reads a whole file into memory.
Every file is hashed once (in chunks) so the import log can name exactly what was imported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO

from app.core.errors import FieldError, Unprocessable

CHUNK = 1024 * 1024
MAX_FILES = 64
LIMIT_EVERY = 10_000  # lines between checks of the line count and the time spent
# Fields longer than this are not roster data; the csv module's default (128 KiB) is kept.
csv.field_size_limit(128 * 1024)

Progress = Callable[[int], None]


def file_error(name: str, message: str, kind: str) -> Unprocessable:
    return Unprocessable(message, errors=[FieldError(field=name, message=message, type=kind)])


class _View(io.RawIOBase):
    """A read-only view of a stream: closing it leaves the stream open (an upload is read more
    than once), and it reports the bytes read (for the command line's progress bar)."""

    def __init__(self, inner: IO[bytes], report: Progress | None) -> None:
        self._inner, self._report = inner, report

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self._report is not None:
            self._report(n)
        return n


@dataclass
class ReadLimits:
    """What reading one import may cost, whatever its files hold: lines (blank ones included,
    across every file: a small zip can unpack to millions of empty lines) and time."""

    max_lines: int = 1_000_000
    max_seconds: float = 60.0
    max_people: int = 100_000  # staff kept (students stream past uncounted)
    max_errors: int = 100  # errors kept and reported; the rest are counted
    lines: int = 0
    deadline: float = float("inf")

    def start(self) -> None:
        self.lines = 0
        self.deadline = time.monotonic() + self.max_seconds

    def count(self, name: str, lines: int) -> None:
        self.lines += lines
        if self.lines > self.max_lines:
            raise file_error(
                name,
                f"the files hold more than {self.max_lines} lines; split the import",
                "too_many_lines",
            )
        if time.monotonic() > self.deadline:
            raise file_error(
                name,
                f"reading the files took longer than {self.max_seconds:g} s; split the import",
                "too_slow",
            )


@dataclass
class RosterFiles:
    """The named CSV files of one import. Names are lower-case base names (`users.csv`)."""

    openers: dict[str, Callable[[], IO[bytes]]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    sha256: str = ""
    filename: str | None = None
    progress: Progress | None = None
    limits: ReadLimits = field(default_factory=ReadLimits)
    _close: list[Callable[[], None]] = field(default_factory=list)

    def names(self) -> set[str]:
        return set(self.openers)

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes.values())

    def rename(self, old: str, new: str) -> None:
        self.openers[new] = self.openers.pop(old)
        self.sizes[new] = self.sizes.pop(old)

    def header(self, name: str) -> list[str]:
        """The first row of a file (for format detection), without reading the rest."""
        try:
            with self._text(name, progress=False) as stream:
                header = [h.strip() for h in next(csv.reader(stream), [])]
            if _not_utf8(header):
                raise UnicodeDecodeError("utf-8", b"", 0, 1, "not UTF-8")
            return header
        except READ_ERRORS as exc:
            raise _not_csv(name, exc) from exc

    def table(self, name: str) -> Table:
        return Table(self, name)

    def _text(self, name: str, *, progress: bool = True) -> IO[str]:
        view = _View(self.openers[name](), self.progress if progress else None)
        # Bytes that are not UTF-8 are kept as lone surrogates and found row by row (Table):
        # a strict decoder fails a whole buffer ahead of the row the parser is on, naming the
        # wrong row.
        return io.TextIOWrapper(
            io.BufferedReader(view, CHUNK),
            encoding="utf-8-sig",
            errors="surrogateescape",
            newline="",
        )

    def close(self) -> None:
        for close in self._close:
            close()


# What reading a damaged or odd file can raise: a wrong encoding, broken CSV quoting, a zip
# member that is corrupt, truncated or packed with a method Python does not read.
READ_ERRORS = (
    UnicodeDecodeError, csv.Error, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
)  # fmt: skip


def _not_utf8(values: list[str]) -> bool:
    """Does a row hold bytes that were not UTF-8 (kept as lone surrogates)?"""
    try:
        "".join(values).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _not_csv(name: str, exc: Exception, row: int | None = None) -> Unprocessable:
    where = f"{name} row {row}" if row else name
    if isinstance(exc, csv.Error) and "NUL" in str(exc):  # UTF-16 and UTF-32 are full of NULs
        exc = UnicodeDecodeError("utf-8", b"\x00", 0, 1, "NUL bytes")
    if not isinstance(exc, (UnicodeDecodeError, csv.Error)):
        return file_error(where, f"{name} could not be unpacked: {exc}", "zip")
    if isinstance(exc, UnicodeDecodeError):
        return file_error(
            where,
            f"{name} is not UTF-8 text (near row {row or 1}); save it as 'CSV UTF-8' and try again",
            "encoding",
        )
    return file_error(where, f"{name} is not a readable CSV file: {exc}", "csv")


class Table:
    """One CSV file read row by row: `header`, then `rows()` yields (row number, values).
    Row 1 is the header, as a spreadsheet numbers it. Blank lines are skipped; values are
    stripped of stray spaces."""

    def __init__(self, files: RosterFiles, name: str) -> None:
        self.name = name
        self.limits = files.limits
        try:
            self._stream = files._text(name)
        except READ_ERRORS as exc:
            raise _not_csv(name, exc) from exc
        self._reader = csv.reader(self._stream)
        try:
            self.header = [h.strip() for h in next(self._reader, [])]
            if _not_utf8(self.header):
                raise UnicodeDecodeError("utf-8", b"", 0, 1, "not UTF-8")
        except READ_ERRORS as exc:
            self._stream.close()
            raise _not_csv(name, exc, 1) from exc
        if not any(self.header):
            self._stream.close()
            raise file_error(name, f"{name} is empty (no header row)", "empty")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        number = 1
        counted = 1
        try:
            for values in self._reader:
                number += 1
                if number - counted >= LIMIT_EVERY:
                    self.limits.count(self.name, number - counted)
                    counted = number
                if any(v.strip() for v in values):
                    if _not_utf8(values):
                        raise UnicodeDecodeError("utf-8", b"", 0, 1, "not UTF-8")
                    yield number, [v.strip() for v in values]
            self.limits.count(self.name, number - counted + 1)
        except UnicodeDecodeError as exc:
            raise _not_csv(self.name, exc, number) from exc
        except READ_ERRORS as exc:  # broken quoting: the reader is on the row after the last
            raise _not_csv(self.name, exc, number + 1) from exc
        finally:
            self._stream.close()

    def records(self, columns: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
        """Rows as {column: value} for the named columns (missing trailing cells are empty)."""
        index = {name: self.header.index(name) for name in columns if name in self.header}
        for number, values in self.rows():
            yield number, {name: values[i] if i < len(values) else "" for name, i in index.items()}


def _hash_stream(digest: hashlib._Hash, stream: IO[bytes]) -> int:
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size


def _is_zip(stream: IO[bytes]) -> bool:
    head = stream.read(4)
    stream.seek(0)
    return head == b"PK\x03\x04"


def _add_zip(files: RosterFiles, stream: IO[bytes], label: str, max_unzipped: int) -> None:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as exc:
        raise file_error(label, f"{label} is not a readable zip file", "zip") from exc
    files._close.append(archive.close)
    members = [
        m
        for m in archive.infolist()
        if not m.is_dir()
        and not m.filename.startswith("__MACOSX/")
        and not PurePosixPath(m.filename).name.startswith(".")
    ]
    if len(members) > MAX_FILES:
        raise file_error(label, f"{label} holds more than {MAX_FILES} files", "zip")
    if sum(m.file_size for m in members) > max_unzipped:
        raise file_error(label, f"{label} unpacks to more than {max_unzipped} bytes", "too_large")
    for member in members:
        if member.flag_bits & 0x1:
            raise file_error(label, f"{member.filename} in {label} is encrypted", "zip")
        name = PurePosixPath(member.filename).name.lower()
        if name in files.openers:
            raise file_error(label, f"{label} holds two files named {name}", "duplicate")
        files.openers[name] = partial(archive.open, member)
        files.sizes[name] = member.file_size


def from_streams(
    items: Sequence[tuple[str | None, IO[bytes]]], *, max_unzipped: int
) -> RosterFiles:
    """Uploaded files: one CSV, one zip, or several loose CSV files of one export."""
    files = RosterFiles()
    digest = hashlib.sha256()
    names = [name for name, _ in items if name]
    files.filename = ", ".join(names)[:255] or None
    for position, (name, stream) in enumerate(items, start=1):
        _hash_stream(digest, stream)
        stream.seek(0)
        label = PurePosixPath(name or f"file{position}.csv").name.lower()
        if _is_zip(stream):
            _add_zip(files, stream, label, max_unzipped)
            continue
        if label in files.openers:
            raise file_error(label, f"two files named {label} were sent", "duplicate")
        stream.seek(0, io.SEEK_END)
        files.sizes[label] = stream.tell()
        stream.seek(0)

        def opener(stream: IO[bytes] = stream) -> IO[bytes]:
            stream.seek(0)
            return stream

        files.openers[label] = opener
    files.sha256 = digest.hexdigest()
    return files


def from_path(path: Path, *, max_unzipped: int) -> RosterFiles:
    """A CSV file, a zip, or a folder of loose CSV files (for the command line)."""
    if path.is_dir():
        paths = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if not paths:
            raise file_error(path.name, f"{path} holds no .csv files", "empty")
    else:
        paths = [path]
    streams = [(p.name, p.open("rb")) for p in paths]
    try:
        files = from_streams(streams, max_unzipped=max_unzipped)
    except BaseException:
        for _, s in streams:
            s.close()
        raise
    files.filename = path.name
    files._close.extend(s.close for _, s in streams)
    return files


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
