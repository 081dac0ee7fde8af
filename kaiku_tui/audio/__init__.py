"""Audio: the register's WAV recordings decoded, played and drawn.

`wav` parses and decodes; `player` plays through a `sinks.Sink` and reports
positions and played spans; `stretch` changes speed at the same pitch;
`envelope` draws the waveform's outline; `alsa` keeps libasound quiet. No
vault and no Textual here: everything reads through a `read(offset, length)`
callable (`source`), so the same code serves an encrypted blob and bytes in
memory. It imports only `errors`.
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
