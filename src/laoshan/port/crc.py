"""The CRC32 that guards the G1's ``LowCmd_`` and ``LowState_``, computed as Unitree's SDK computes it.

Unitree's SDK packs the message as its C struct (little-endian, natural alignment), reads it as
32-bit words, drops the last (the ``crc`` field itself) and runs a word-wise CRC-32 (polynomial
0x04C11DB7, initial value 0xFFFFFFFF, most significant bit first, no final XOR) over them: that is
CRC-32/MPEG-2 of the words' bytes in big-endian order. Done here with ``zlib`` (the same
polynomial, bit-reflected, in C) on the bit-reversed bytes: about 20 µs a message in place of a
Python loop's 5 ms. :mod:`laoshan.port.cdr` lays the messages out as the SDK packs them;
``tests/test_dds.py`` checks the result against the SDK's own implementation.
"""

import zlib

import numpy as np

_BIT_REVERSED = np.array([int(f"{b:08b}"[::-1], 2) for b in range(256)], dtype=np.uint8)


def crc32_words(packed: bytes) -> int:
    """Unitree's CRC over the 32-bit little-endian words of ``packed``, all but the last."""
    words = np.frombuffer(packed, dtype=np.uint8)[: (len(packed) // 4 - 1) * 4].reshape(-1, 4)
    msb_first = _BIT_REVERSED[words[:, ::-1]]          # each word's bytes big-endian, each byte bit-reversed
    reflected = zlib.crc32(msb_first.tobytes()) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)
