"""Audio: reading the register's WAV recordings (sinks for playback come next to it).

A pure room: no devices, no vault; it reads through a `read(offset, length)`
callable so the same code serves an encrypted blob and bytes in memory.
"""

from kaiku_tui.audio.wav import (
    Encoding,
    Reader,
    WavError,
    WavFormat,
    decode_pcm16,
    iter_pcm16,
    memory_reader,
    parse_header,
    validate,
)

__all__ = [
    "Encoding",
    "Reader",
    "WavError",
    "WavFormat",
    "decode_pcm16",
    "iter_pcm16",
    "memory_reader",
    "parse_header",
    "validate",
]
