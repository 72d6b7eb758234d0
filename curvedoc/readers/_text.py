"""Reading a log file's bytes and decoding them, with a clear error for anything that is not text.

Files are opened read-only and read once; nothing here writes. Binary formats we recognise
(TensorBoard event files, W&B run files, archives, pickles) get a message that says what the file
is and what to do instead of a generic "not UTF-8".
"""

from __future__ import annotations

import os
import stat
import zlib
from pathlib import Path
from typing import BinaryIO

from curvedoc.errors import InputError

_MAX_BYTES = 2 * 1024**3  # a text log beyond 2 GiB is almost surely not a training log

_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b":W&B", "a Weights & Biases run file (.wandb); export the run history as CSV instead"),
    (b"PK\x03\x04", "a zip archive; extract the log first"),
    (b"\x89PNG", "a PNG image, not a training log"),
    (b"\x93NUMPY", "a NumPy .npy file; save the history as JSON or CSV instead"),
    (b"SQLite format 3\x00", "an SQLite database without MLflow's metrics and runs tables"),
)


def read_bytes(path: Path, source: str) -> bytes:
    """The file's bytes, or an InputError that says why they cannot be read."""
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(str(path))
        # A FIFO would block until a writer comes, a device (/dev/zero) never ends: only regular
        # files are logs. Standard input has its own path (read_stream).
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not a regular file (a pipe, socket or device)", path=source)
        if st.st_size > _MAX_BYTES:
            raise InputError(f"file too large ({st.st_size} bytes) for a training log", path=source)
        with open(path, "rb") as fh:
            data = fh.read(_MAX_BYTES + 1)  # a file that grows while read stays bounded
        if len(data) > _MAX_BYTES:
            raise InputError("file too large (it grew while being read)", path=source)
        return data
    except InputError:
        raise
    except IsADirectoryError:
        raise InputError("is a directory", path=source) from None
    except FileNotFoundError:
        raise InputError("no such file", path=source) from None
    except PermissionError:
        raise InputError("permission denied", path=source) from None
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise InputError(f"cannot read: {reason}", path=source) from None


GZIP_MAGIC = b"\x1f\x8b"
#: An SQLite database file (an MLflow store) starts with this.
SQLITE_MAGIC = b"SQLite format 3\x00"


def gunzip(data: bytes, source: str) -> bytes:
    """Decompress gzip data (several members too), refusing more than the text size limit."""
    out: list[bytes] = []
    total = 0
    rest = data
    try:
        while rest.startswith(GZIP_MAGIC):
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = d.decompress(rest, _MAX_BYTES + 1 - total)
            total += len(chunk)
            out.append(chunk)
            if total > _MAX_BYTES:
                raise InputError("decompresses to more than 2 GiB", path=source)
            if not d.eof:
                raise InputError("truncated gzip data", path=source)
            rest = d.unused_data
    except zlib.error as exc:
        raise InputError(f"corrupt gzip data ({exc})", path=source) from None
    return b"".join(out)


def read_stream(stream: BinaryIO, source: str) -> bytes:
    """All bytes of a binary stream (standard input), up to the size limit."""
    try:
        data = stream.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=source) from None
    if len(data) > _MAX_BYTES:
        raise InputError("more than 2 GiB of input", path=source)
    return data


#: How many leading bytes :func:`binary_kind` looks at for a NUL byte.
SNIFF_BYTES = 8192


def binary_kind(data: bytes, name: str) -> str | None:
    """What a binary file we recognise is (and what to do instead), or None for text."""
    for magic, what in _MAGICS:
        if data.startswith(magic):
            return what
    if len(data) > 1 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return "a Python pickle; save the history as JSON (json.dump(history.history, f))"
    if "tfevents" in name or b"brain.Event" in data[:256]:
        return "a TensorBoard event file whose first record is corrupt (bad length checksum)"
    if b"\x00" in data[:SNIFF_BYTES]:
        return "binary data, not a text training log"
    return None


def decode(data: bytes, source: str) -> str:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16; refuse anything else clearly."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError("invalid UTF-16 text", path=source) from None
    else:
        kind = binary_kind(data, os.path.basename(source))
        if kind is not None:
            raise InputError(f"this is {kind}", path=source)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InputError(
                f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "save the log as UTF-8",
                path=source,
                line=line,
            ) from None
    if not text or text.isspace():  # (``strip()`` would copy a big log once more)
        raise InputError("empty file", path=source)
    return text


def read_text(path: Path, source: str) -> str:
    return decode(read_bytes(path, source), source)
