"""QR codes drawn straight into a PDF page as filled rectangles.

A reply slip carries its household's code; 2,000 slips need 2,000 codes, so both halves are
kept cheap. Encoding borrows reportlab's QR tables and module placement, but only once per
symbol version: the function patterns and the order of the data modules are cached, the
Reed–Solomon check bytes are computed with log tables, and one fixed mask pattern is used.
(Choosing the "best" of the eight masks is what makes reportlab's own encoder slow — eight
trial encodings, about 3 ms a code — and any mask is valid QR: decoders read all eight.)
Drawing merges each row's dark modules into runs and writes one path of rectangles, a few
hundred bytes per code, filled in one go.
"""

from __future__ import annotations

from functools import cache

from reportlab.graphics.barcode import qrencoder
from reportlab.pdfgen.canvas import Canvas

__all__ = ["QUIET_ZONE", "draw_qr", "qr_matrix", "qr_path"]

QUIET_ZONE = 4  # modules of white around the code, as the standard asks
_MASK = 2  # every third column: no long runs in short codes
_LEVEL_M = qrencoder.QRErrorCorrectLevel.M  # survives a fold, a stain or a pen mark
_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHANUMERIC_VALUE = {char: index for index, char in enumerate(_ALPHANUMERIC)}
_MODE_ALPHANUMERIC, _MODE_BYTE = 0b0010, 0b0100
_PADDING = (0xEC, 0x11)
_MAX_VERSION = 40

# GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
_EXP = [0] * 512
_LOG = [0] * 256
_value = 1
for _power in range(255):
    _EXP[_power] = _value
    _LOG[_value] = _power
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _power in range(255, 512):
    _EXP[_power] = _EXP[_power - 255]


@cache
def _generator_logs(degree: int) -> tuple[int, ...]:
    """The logs of the Reed–Solomon generator polynomial's coefficients after the leading 1."""
    poly = [1]
    for power in range(degree):
        factor = _EXP[power]
        product = [0] * (len(poly) + 1)
        for index, coefficient in enumerate(poly):
            product[index] ^= coefficient
            if coefficient:
                product[index + 1] ^= _EXP[_LOG[coefficient] + _LOG[factor]]
        poly = product
    return tuple(_LOG[coefficient] for coefficient in poly[1:])


def _check_bytes(data: list[int], degree: int) -> list[int]:
    generator = _generator_logs(degree)
    remainder = [0] * degree
    for byte in data:
        factor = byte ^ remainder.pop(0)
        remainder.append(0)
        if factor:
            log = _LOG[factor]
            for index, generator_log in enumerate(generator):
                remainder[index] ^= _EXP[log + generator_log]
    return remainder


@cache
def _blocks(version: int) -> tuple[tuple[int, int], ...]:
    """(data codewords, check codewords) of each block of a version at level M."""
    blocks = qrencoder.QRRSBlock.getRSBlocks(version, _LEVEL_M)  # type: ignore[no-untyped-call]
    return tuple((block.dataCount, block.totalCount - block.dataCount) for block in blocks)


@cache
def _template(version: int) -> tuple[tuple[tuple[bool, ...], ...], tuple[tuple[int, int], ...]]:
    """The modules of a version with all data bits 0 (masked), and where the data bits go
    as (row, column), in order."""
    code = qrencoder.QRCode(version, _LEVEL_M)  # reportlab's symbol layout, learnt once
    code.dataCache = [0] * sum(data + check for data, check in _blocks(version))
    code.makeImpl(False, _MASK)
    order = code.dataPosIterator()  # type: ignore[no-untyped-call]
    positions = tuple((row, column) for column, row in order)
    return tuple(tuple(row) for row in code.modules), positions


def _segment(text: str) -> tuple[int, int, int, dict[int, int]]:
    """(mode, character count, payload, bits) of ``text``: alphanumeric when it can be,
    else UTF-8 bytes. ``bits`` maps a version's count-field width to the payload's length."""
    if text and all(char in _ALPHANUMERIC_VALUE for char in text):
        payload = 0
        for index in range(0, len(text) - 1, 2):
            payload = (payload << 11) | (_ALPHANUMERIC_VALUE[text[index]] * 45
                                         + _ALPHANUMERIC_VALUE[text[index + 1]])
        length = 11 * (len(text) // 2)
        if len(text) % 2:
            payload = (payload << 6) | _ALPHANUMERIC_VALUE[text[-1]]
            length += 6
        return _MODE_ALPHANUMERIC, len(text), payload, {0: length, 1: 9, 2: 11, 3: 13}
    data = text.encode("utf-8")
    return _MODE_BYTE, len(data), int.from_bytes(data, "big"), {0: 8 * len(data), 1: 8, 2: 16,
                                                                 3: 16}


def _count_bits(widths: dict[int, int], version: int) -> int:
    return widths[1] if version < 10 else widths[2] if version < 27 else widths[3]


def qr_matrix(text: str) -> list[list[bool]]:
    """The modules of the QR code of ``text`` (rows top to bottom, True = dark), level M,
    the smallest version that holds it. Text made only of digits, capital letters, space and
    ``$%*+-./:`` is encoded alphanumeric; anything else as UTF-8 bytes (never the Kanji mode:
    a scanner types the code back, and UTF-8 is what it reads best)."""
    mode, count, payload, widths = _segment(text)
    for version in range(1, _MAX_VERSION + 1):
        capacity = 8 * sum(data for data, _check in _blocks(version))
        count_width = _count_bits(widths, version)
        used = 4 + count_width + widths[0]
        if used <= capacity:
            break
    else:
        raise ValueError(f"too long for a QR code: {len(text)} characters")
    bits = (((mode << count_width) | count) << widths[0]) | payload
    terminator = min(4, capacity - used)
    bits <<= terminator
    used += terminator
    bits <<= -used % 8
    used += -used % 8
    codewords = list(bits.to_bytes(used // 8, "big")) if used else []
    filler = 0
    while len(codewords) < capacity // 8:
        codewords.append(_PADDING[filler % 2])
        filler += 1

    data_blocks: list[list[int]] = []
    check_blocks: list[list[int]] = []
    offset = 0
    for data_count, check_count in _blocks(version):
        block = codewords[offset:offset + data_count]
        offset += data_count
        data_blocks.append(block)
        check_blocks.append(_check_bytes(block, check_count))
    sequence = [block[index] for index in range(max(map(len, data_blocks)))
                for block in data_blocks if index < len(block)]
    sequence += [block[index] for index in range(max(map(len, check_blocks)))
                 for block in check_blocks if index < len(block)]

    base, positions = _template(version)
    modules = [list(row) for row in base]
    for index, byte in enumerate(sequence):
        if not byte:
            continue
        for bit in range(8):
            if byte & (0x80 >> bit):
                row, column = positions[index * 8 + bit]
                modules[row][column] = not modules[row][column]
    return modules


def qr_path(text: str, *, x: float, y: float, size: float) -> str:
    """PDF operators that fill the dark modules of ``text``'s code in the square at (x, y),
    ``size`` points wide, quiet zone included (the caller keeps that square white)."""
    modules = qr_matrix(text)
    count = len(modules)
    step = size / (count + 2 * QUIET_ZONE)
    left = x + QUIET_ZONE * step
    top = y + size - QUIET_ZONE * step
    height = f"{step + 0.05:.2f}"  # a hair taller: no seams between rows on screen
    parts = ["q 0 g"]
    for row_index, row in enumerate(modules):
        bottom = f"{top - (row_index + 1) * step:.2f}"
        column = 0
        while column < count:
            if not row[column]:
                column += 1
                continue
            start = column
            while column < count and row[column]:
                column += 1
            parts.append(f"{left + start * step:.2f} {bottom} {(column - start) * step:.2f} "
                         f"{height} re")
    parts.append("f Q")
    return "\n".join(parts)


def draw_qr(canvas: Canvas, text: str, *, x: float, y: float, size: float) -> None:
    """Draw the QR code of ``text`` in the square at (x, y), ``size`` points wide."""
    canvas.addLiteral(qr_path(text, x=x, y=y, size=size))
