"""Plain decimal numbers in a block of delimited bytes, parsed by numpy without a string per cell.

A million-row log is ~5 million cells. Through ``float()`` each costs a Python string (made by
``split``) and a C call from ``map``, about 300 ns together; numpy's own string-to-float cast
is no faster. Here a block of cells is read column by column of *characters*: the k-th
character of every cell is one vector, so the digits, the point, the exponent and the signs of
all cells are accumulated with a dozen numpy operations per character position, in C.

Only what this grammar covers is decided here::

    [spaces] [+-] digits [. digits] [(e|E) [+-] digits] [spaces]   (at least one mantissa digit)

with at most 18 significant digits. Such a number is ``m × 10^e`` with an integer ``m``:

* when ``m < 2^53`` and ``|e| <= 22`` both factors are exact doubles and one multiplication or
  division gives the correctly rounded result (Clinger's fast path);
* when ``e < 0`` otherwise (17–18 digits: half of all float32 values logged as Python floats;
  exponents down to 10^-44), :func:`divide_by_power_of_ten` finds the quotient and proves it
  correctly rounded with an exact residual, or leaves the cell undecided.

So every decided value equals what ``float()`` returns, bit for bit. Every other cell
(``nan``, ``inf``, tabs, ``NA``, 19 digits, ``1e300``) is left to the caller:
:func:`float_cells` runs ``float()`` over them in C, and text goes the string route.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from curvedoc.model import FloatArray

IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

#: Longer cells are left to ``float()`` (Ultralytics pads to 23 characters; a number longer
#: than this without padding has more than 18 digits).
MAX_WIDTH = 32
_MAX_DIGITS = 18  # a mantissa of 18 digits fits an int64
_EXACT_MANTISSA = 1 << 53
_POW10 = np.array([10.0**k for k in range(23)])  # exact doubles

_DIGIT0, _POINT, _PLUS, _MINUS, _E_LOWER, _SPACE = 48, 46, 43, 45, 101, 32


def cell_bounds(raw: npt.NDArray[np.uint8], delimiter: int) -> tuple[IntArray, IntArray]:
    """Start and end offsets of every cell of ``raw`` (lines joined by ``\\n``, no trailing one)."""
    ends = np.flatnonzero((raw == delimiter) | (raw == 10))
    ends = np.append(ends, raw.shape[0])
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    return starts, ends


def trim_carriage_returns(raw: npt.NDArray[np.uint8], starts: IntArray, ends: IntArray) -> IntArray:
    """``ends`` with the ``\r`` of a ``\r\n`` line end left out of the line's last cell
    (Python's csv module, and so Keras' and Lightning's loggers, end lines with ``\r\n``)."""
    n = raw.shape[0]
    last_of_line = ends == n
    last_of_line[:-1] |= raw[ends[:-1]] == 10
    back = last_of_line & (ends > starts)
    back &= raw[np.maximum(ends - 1, 0)] == 13
    trimmed: IntArray = ends - back
    return trimmed


def _zero_padded(raw: npt.NDArray[np.uint8], width: int) -> npt.NDArray[np.uint8]:
    """``raw`` and ``width`` zero bytes: every cell can then be read ``width`` characters long,
    one character position at a time (``padded[k:].take(starts)``), past its end included."""
    padded = np.zeros(raw.shape[0] + width, dtype=np.uint8)
    padded[: raw.shape[0]] = raw
    return padded


def parse_cells(
    raw: npt.NDArray[np.uint8], starts: IntArray, ends: IntArray
) -> tuple[FloatArray, BoolArray]:
    """The value of every cell ``raw[starts[i]:ends[i]]`` and whether it was decided here.

    Undecided cells (``decided`` False) hold NaN; empty cells are undecided too (the caller
    tells blank from text). Cells longer than :data:`MAX_WIDTH` are undecided.
    """
    n = starts.shape[0]
    lens = ends - starts
    bad = (lens == 0) | (lens > MAX_WIDTH)
    lens16 = np.minimum(lens, MAX_WIDTH).astype(np.int16)
    # Longest cells first: the cells still being read at character k are then a prefix, and
    # the work is the number of characters, not cells x the longest cell.
    order = np.argsort(-lens16, kind="stable")
    still = np.bincount(lens16, minlength=MAX_WIDTH + 1)[::-1].cumsum()[::-1]  # len >= k
    width = int(lens16.max()) if n else 0
    at = starts[order]
    padded = _zero_padded(raw, width)
    mant = np.zeros(n, dtype=np.int64)
    digits = np.zeros(n, dtype=np.int16)
    significant = np.zeros(n, dtype=np.int16)
    frac = np.zeros(n, dtype=np.int16)
    exp = np.zeros(n, dtype=np.int32)
    exp_digits = np.zeros(n, dtype=np.int16)
    point = np.zeros(n, dtype=np.bool_)
    in_exp = np.zeros(n, dtype=np.bool_)
    exp_neg = np.zeros(n, dtype=np.bool_)
    prev_e = np.zeros(n, dtype=np.bool_)
    neg = np.zeros(n, dtype=np.bool_)
    wrong = np.zeros(n, dtype=np.bool_)
    started = np.zeros(n, dtype=np.bool_)
    ended = np.zeros(n, dtype=np.bool_)
    any_exp = any_space = False
    for k in range(width):
        m = int(still[k + 1])  # cells with more than k characters
        c = padded[k:].take(at[:m])  # their k-th character
        d = c - np.uint8(_DIGIT0)  # wraps for anything below '0'
        is_digit = d < 10
        d *= is_digit
        ie = in_exp[:m]
        mant_digit = is_digit & ~ie if any_exp else is_digit
        # branch-free "m = m * 10 + d where this is a mantissa digit" (np.where mispredicts)
        mm = mant[:m]
        step = mant_digit.astype(np.int64)
        step *= mm * 9 + d
        mm += step
        digits[:m] += mant_digit
        significant[:m] += mant_digit & (mm != 0)  # leading zeros (0.000123) do not count
        frac[:m] += mant_digit & point[:m]
        if any_exp:
            exp_digit = is_digit & ie
            em = exp[:m]
            em += exp_digit * (em * 9 + d)
            exp_digits[:m] += exp_digit
        is_point = c == _POINT
        is_e = (c | 0x20) == _E_LOWER
        is_minus = c == _MINUS
        is_sign = is_minus | (c == _PLUS)
        is_space = c == _SPACE
        w = wrong[:m]
        w |= is_point & (point[:m] | ie)
        w |= ~(is_digit | is_point | is_e | is_sign | is_space)
        pe = prev_e[:m]
        exp_neg[:m] |= is_minus & pe
        if not any_space and is_space.any():
            # the first padded cells (old Ultralytics pads every cell): from here on, who has
            # begun their number is tracked; until now every cell began at its first character
            any_space = True
            started[:m] = k > 0
        if any_space:
            st = started[:m]
            first = ~is_space & ~st  # the number's first character
            en = ended[:m]
            en |= is_space & st  # a space after the number ends it ...
            w |= en & ~is_space  # ... and nothing but spaces may follow
            st |= ~is_space
            neg[:m] |= is_minus & first
            w |= is_sign & ~first & ~pe
        elif k == 0:
            neg[:m] = is_minus
        else:
            w |= is_sign & ~pe
        point[:m] |= is_point
        if any_exp or is_e.any():
            any_exp = True
            w |= is_e & (ie | (digits[:m] == 0))
            ie |= is_e
        prev_e[:m] = is_e
        prev_e[m:] = False
    # a digit past the 18th may have overflowed int64 (that value is never used)
    wrong |= (digits == 0) | (significant > _MAX_DIGITS)
    wrong |= (in_exp & (exp_digits == 0)) | (exp_digits > 4)
    e10 = np.where(exp_neg, -exp, exp) - frac
    clinger = ~wrong & (mant <= _EXACT_MANTISSA) & (np.abs(e10) <= 22)
    longer = ~wrong & ~clinger & (e10 < 0) & (e10 >= -_MAX_SCALE)
    at = np.flatnonzero(longer)
    scale = -e10[at]
    e10[~clinger] = 0
    # one of the two factors is 1.0: a single correctly rounded multiplication or division
    sorted_values = mant.astype(np.float64)
    sorted_values *= _POW10[np.maximum(e10, 0)]
    sorted_values /= _POW10[np.maximum(-e10, 0)]
    wrong |= ~clinger
    if at.size:
        got, exact = divide_by_power_of_ten(mant[at], scale)
        sorted_values[at] = got
        wrong[at[exact]] = False
    np.negative(sorted_values, out=sorted_values, where=neg)
    values = np.empty(n, dtype=np.float64)
    values[order] = sorted_values
    bad[order] |= wrong
    values[bad] = np.nan
    return values, ~bad


#: ``divide_by_power_of_ten`` takes exponents down to 10^-44 (5^44 is exact as two doubles).
_MAX_SCALE = 44
_FIVE_HI = np.array([float(5**k) for k in range(_MAX_SCALE + 1)])
_FIVE_LO = np.array([float(5**k - int(float(5**k))) for k in range(_MAX_SCALE + 1)])
_SPLIT = 134217729.0  # 2^27 + 1: Dekker's splitting constant


def _two_product_error(a: FloatArray, b: FloatArray, p: FloatArray) -> FloatArray:
    """``e`` with ``a * b == p + e`` exactly, where ``p = fl(a * b)`` (Dekker; no FMA needed)."""
    ca, cb = _SPLIT * a, _SPLIT * b
    a_hi, b_hi = ca - (ca - a), cb - (cb - b)
    a_lo, b_lo = a - a_hi, b - b_hi
    err: FloatArray = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return err


def divide_by_power_of_ten(
    mant: npt.NDArray[np.int64], k: npt.NDArray[np.integer[Any]]
) -> tuple[FloatArray, BoolArray]:
    """``mant / 10**k`` correctly rounded where ``exact`` is set, for mantissas beyond 2^53
    (17 significant digits: half of all float32 values logged as Python floats) and
    exponents down to 10^-44, where Clinger's single division is not exact any more.

    ``mant / 10^k = (mant / 5^k) · 2^-k`` and the power of two is exact, so only ``mant / 5^k``
    must be rounded right. A candidate quotient ``v`` is corrected once by its residual
    ``R = mant - v · 5^k``, computed to about 2^-100 relative with error-free products
    (Dekker) and 5^k held exactly as two doubles; ``v`` is then the correctly rounded quotient
    when ``|R|`` is under half an ulp of ``v`` times 5^k, which is checked with a margin far
    above the residual's own error. The rest (a quotient within 2^-20 ulp of a rounding
    boundary, or a power of two) is left undecided, for ``float()``.
    """
    m_hi = mant.astype(np.float64)
    m_lo = (mant - m_hi.astype(np.int64)).astype(np.float64)  # exact: |m - m_hi| < 2^10
    p_hi, p_lo = _FIVE_HI[k], _FIVE_LO[k]

    def residual(v: FloatArray) -> FloatArray:
        p = v * p_hi
        r: FloatArray = (m_hi - p) - _two_product_error(v, p_hi, p) + m_lo - v * p_lo
        return r

    v = m_hi / p_hi
    v = v + residual(v) / p_hi
    r = residual(v)
    half_ulp = np.spacing(v) * p_hi * 0.5  # (in this order: half the spacing of 0.0 is 0.0)
    exact = (np.abs(r) < half_ulp * (1.0 - 2.0**-20)) & (np.frexp(v)[0] != 0.5)
    return np.ldexp(v, -k), exact


#: Wider undecided cells are not gathered into a fixed-width array (it would be mostly padding).
_GATHER_WIDTH = 64


def float_cells(raw: npt.NDArray[np.uint8], starts: IntArray, ends: IntArray) -> FloatArray | None:
    """``float()`` of the cells ``raw[starts[i]:ends[i]]``, run in C over ``bytes`` objects made
    by numpy (no Python step per cell), or None where that would not be exactly the string
    route's reading: a cell ``float`` refuses (text, ``NA``: the caller's slower path tells
    which), a NUL or non-ASCII byte (``float`` reads Unicode digits in text, not in bytes), or a
    very wide cell.

    These are the cells :func:`parse_cells` leaves undecided: a float32 logged as a Python
    float has 17 significant digits about half the time, beyond the exact fast path.
    """
    lens = ends - starts
    width = int(lens.max()) if lens.shape[0] else 0
    if width == 0 or width > _GATHER_WIDTH or bool(np.any((raw == 0) | (raw >= 128))):
        return None
    padded = _zero_padded(raw, width)
    grid = np.empty((starts.shape[0], width), dtype=np.uint8)
    for k in range(width):  # a column of characters at a time: no index array per character
        grid[:, k] = padded[k:].take(starts)
    grid[np.arange(width) >= lens[:, None]] = 0  # NUL-padded: numpy's bytes drop the padding
    cells = grid.view(f"S{width}").ravel().tolist()
    try:
        return np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))
    except (ValueError, OverflowError):
        return None
