"""TFRecord framing and a protobuf wire-format walker: the layers under a TensorBoard event file.

A record is ``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``
(little-endian; the mask is ``rotr15(crc) + 0xA282EAD8``). Both CRCs are checked:

* a bad *length* CRC means the framing is lost; reading stops there (what came before is kept);
* a bad *data* CRC drops that one record; records longer than :data:`CRC_CHECK_LIMIT` bytes
  (images, histograms, graphs: never a scalar) are not checked, which keeps the check vectorised;
* a last record cut short (a job still writing) ends the read quietly, with a note.

CRC-32C (Castagnoli) is not in the standard library, so it is table-driven here; the per-record
checks run as numpy "lanes" (every record's CRC advanced one byte per step), so a file of a million
small records costs a few dozen array operations rather than tens of millions of Python steps.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

_POLY = 0x82F63B78
_MASK_DELTA = 0xA282EAD8
CRC_CHECK_LIMIT = 4096


def _table() -> list[int]:
    out = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        out.append(c)
    return out


_TABLE = _table()
_NP_TABLE = np.array(_TABLE, dtype=np.uint32)


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (``crc32c(b"123456789") == 0xE3069283``)."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    return mask(crc32c(data))


def _masked_many(
    buf: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint32]:
    """Masked CRC-32C of ``buf[starts[i]:starts[i]+lengths[i]]`` for every i, as numpy lanes."""
    n = starts.shape[0]
    out = np.empty(n, dtype=np.uint32)
    if n == 0:
        return out
    order = np.argsort(-lengths, kind="stable")
    s = starts[order]
    ln = lengths[order]
    crc = np.full(n, 0xFFFFFFFF, dtype=np.uint32)
    longest = int(ln[0])
    # active[j] = how many records are longer than j (a prefix, since sorted by length descending)
    active = np.searchsorted(-ln, -np.arange(longest), side="left")
    for j in range(longest):
        k = int(active[j])
        b = buf[s[:k] + j].astype(np.uint32)
        c = crc[:k]
        crc[:k] = _NP_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    crc ^= np.uint32(0xFFFFFFFF)
    masked = ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + np.uint32(_MASK_DELTA)
    out[order] = masked
    return out


def looks_like_tfrecord(head: bytes) -> bool:
    """The first 12 bytes are a length and its masked CRC: the TFRecord (event file) magic."""
    if len(head) < 12:
        return False
    stored: int = struct.unpack_from("<I", head, 8)[0]
    return masked_crc32c(head[:8]) == stored


@dataclass
class Records:
    """Where each whole record's data lies in the file, and what went wrong around them."""

    starts: list[int]
    lengths: list[int]
    notes: list[str] = field(default_factory=list)
    truncated: bool = False


def split_records(data: bytes) -> Records:
    """Frame ``data`` into records, checking both CRCs (see the module docstring)."""
    n = len(data)
    starts: list[int] = []
    lengths: list[int] = []
    heads: list[int] = []
    pos = 0
    unpack = struct.unpack_from
    truncated = False
    while pos < n:
        if pos + 12 > n:
            truncated = True
            break
        (length,) = unpack("<Q", data, pos)
        end = pos + 12 + length + 4
        if end > n:
            truncated = True
            break
        heads.append(pos)
        starts.append(pos + 12)
        lengths.append(length)
        pos = end
    out = Records([], [])
    cut_note = f"the last record is cut short (still being written?): read up to byte {pos} of {n}"
    if not starts:
        if truncated:
            out.truncated = True
            out.notes.append(cut_note)
        return out
    buf = np.frombuffer(data, dtype=np.uint8)
    head_pos = np.asarray(heads, dtype=np.int64)
    stored_len_crc = _u32_at(buf, head_pos + 8)
    ok_len = _masked_many(buf, head_pos, np.full(head_pos.shape[0], 8, dtype=np.int64))
    bad = np.flatnonzero(ok_len != stored_len_crc)
    if bad.shape[0]:
        first = int(bad[0])
        out.notes.append(
            f"record {first + 1} (byte {heads[first]}) has a corrupt length; "
            f"{len(starts) - first} record(s) from there on not read"
        )
        starts, lengths, head_pos = starts[:first], lengths[:first], head_pos[:first]
    elif truncated:
        out.truncated = True
        out.notes.append(cut_note)
    st = np.asarray(starts, dtype=np.int64)
    ln = np.asarray(lengths, dtype=np.int64)
    small = np.flatnonzero(ln <= CRC_CHECK_LIMIT)
    crcs = _masked_many(buf, st[small], ln[small])
    stored = _u32_at(buf, st[small] + ln[small])
    corrupt = small[crcs != stored]
    if corrupt.shape[0]:
        keep = np.ones(st.shape[0], dtype=np.bool_)
        keep[corrupt] = False
        out.notes.append(f"{corrupt.shape[0]} record(s) with a bad checksum skipped")
        starts = st[keep].tolist()
        lengths = ln[keep].tolist()
    out.starts, out.lengths = list(starts), list(lengths)
    return out


def _u32_at(buf: npt.NDArray[np.uint8], pos: npt.NDArray[np.int64]) -> npt.NDArray[np.uint32]:
    out = buf[pos].astype(np.uint32)
    for k in range(1, 4):
        out |= buf[pos + k].astype(np.uint32) << np.uint32(8 * k)
    return out


# --- protobuf wire format --------------------------------------------------------------------


def varint(buf: bytes, i: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``i``; returns (value, next index)."""
    b = buf[i]
    if b < 0x80:
        return b, i + 1
    result = b & 0x7F
    shift = 7
    i += 1
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ValueError("malformed varint")


def signed64(value: int) -> int:
    """A varint read as int64 (negative numbers are 10-byte two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def walk(buf: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The fields of one message in ``buf[start:end]`` as ``(field, wire type, a, b)``.

    For varints ``a`` is the value; for every other wire type ``buf[a:b]`` is the payload.
    Groups (wire types 3/4, deprecated) and anything past ``end`` are malformed input.
    """
    out = []
    i = start
    while i < end:
        key, i = varint(buf, i)
        f = key >> 3
        wt = key & 7
        if wt == 0:
            v, i = varint(buf, i)
            out.append((f, 0, v, 0))
        elif wt == 2:
            ln, i = varint(buf, i)
            out.append((f, 2, i, i + ln))
            i += ln
        elif wt == 5:
            out.append((f, 5, i, i + 4))
            i += 4
        elif wt == 1:
            out.append((f, 1, i, i + 8))
            i += 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wt}")
    if i != end:
        raise ValueError("protobuf field runs past the end of its message")
    return out
