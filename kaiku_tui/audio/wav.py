"""WAV parsing and decoding to PCM16, written here rather than taken from `wave`.

Why our own: the register's recordings are G.711 A-law (format 6) and µ-law
(format 7) more often than not, which `wave` cannot read, and `audioop` is gone
in Python 3.13. Why a `read(offset, length)` callable instead of a path: the
audio lives in an encrypted blob that is decrypted segment by segment, so the
parser asks only for the bytes it needs and playback decodes lazily.

The numbers match SoX 14.4.2 with dither off (`sox -D`) sample for sample,
because SoX is what people use to check a recording by hand: a wider sample is
rounded to 16 bits half up (SoX's `SOX_SAMPLE_TO_SIGNED_16BIT`), not truncated,
and a float sample goes through SoX's own scaling by 2**31 first (so full
scale is 32768, not 32767: 1.0 clips to 32767 and -1.0 is -32768).

Every way a file can be wrong ends in `WavError` with one line that says what
is wrong; nothing here raises anything else for bad input.
"""

from __future__ import annotations

import enum
import math
import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from kaiku_tui.errors import UsageError

Reader = Callable[[int, int], bytes]
"""`read(offset, length)`: up to `length` bytes from `offset`, fewer only at the end."""

_FMT_MIN = 16  # PCMWAVEFORMAT: tag, channels, rate, byte rate, block align, bits
_FMT_EXTENSIBLE = 40  # WAVEFORMATEXTENSIBLE up to the end of the sub-format GUID
_MAX_CHUNKS = 1024  # real files have a handful; bounds the walk over hostile input
_STREAMING_SIZES = (0, 0xFFFFFFFF)

# Every KSDATAFORMAT_SUBTYPE_* GUID for a classic format tag is
# {0000xxxx-0000-0010-8000-00AA00389B71}: Data1 (4 bytes, little-endian) holds
# the tag, and the 12 bytes after it are this fixed tail.
_GUID_TAIL = bytes.fromhex("00001000800000aa00389b71")

_KNOWN_TAGS = {
    0x0002: "Microsoft ADPCM",
    0x0011: "IMA ADPCM",
    0x0022: "DSP Group TrueSpeech",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MPEG Layer 3",
    0x0064: "G.721 ADPCM",
}


class WavError(UsageError):
    """A recording that cannot be read as WAV; the message names the file and the fault."""


class Encoding(enum.Enum):
    """How the samples of the data chunk are coded."""

    PCM = 1
    FLOAT = 3
    ALAW = 6
    MULAW = 7


_BITS = {
    Encoding.PCM: (8, 16, 24, 32),
    Encoding.FLOAT: (32,),
    Encoding.ALAW: (8,),
    Encoding.MULAW: (8,),
}


@dataclass(frozen=True)
class WavFormat:
    """What the header says, with `data_offset`/`data_length` locating the samples."""

    encoding: Encoding
    channels: int
    sample_rate: int
    bits_per_sample: int
    block_align: int
    data_offset: int
    data_length: int

    @property
    def frames(self) -> int:
        """Whole frames (one sample per channel) in the data chunk."""
        return self.data_length // self.block_align

    @property
    def duration_s(self) -> float:
        """Playing time in seconds at the declared sample rate."""
        return self.frames / self.sample_rate


def memory_reader(data: bytes) -> Reader:
    """A `read(offset, length)` over bytes in memory, for files not (yet) in the vault."""
    view = memoryview(data)

    def read(offset: int, length: int) -> bytes:
        return bytes(view[offset : offset + length])

    return read


def _fail(name: str, message: str) -> WavError:
    return WavError(f"{name}: {message}" if name else message)


def _read_exact(read: Reader, offset: int, length: int, name: str, what: str) -> bytes:
    """Read and insist on every byte, so a short reader cannot become an IndexError later."""
    data = read(offset, length)
    if len(data) != length:
        raise _fail(name, f"the file ends early while reading {what} at offset {offset}")
    return data


# --- header --------------------------------------------------------------------------


def _check_riff(read: Reader, size: int, name: str) -> None:
    """The 12-byte RIFF/WAVE preamble; its size field is not trusted (see `parse_header`)."""
    if size < 12:
        raise _fail(name, f"not a WAV file: {size} bytes is too short for a RIFF header")
    head = _read_exact(read, 0, 12, name, "the RIFF header")
    if head[:4] in (b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        kind = "big-endian RIFX" if head[:4] == b"RIFX" else "RF64"
        raise _fail(name, f"{kind} WAV files are not supported")
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise _fail(name, "not a WAV file: it does not start with RIFF....WAVE")


def _encoding_of(tag: int, body: bytes, name: str) -> Encoding:
    """The format tag, looking through WAVE_FORMAT_EXTENSIBLE to its sub-format GUID."""
    if tag == 0xFFFE:
        if len(body) < _FMT_EXTENSIBLE:
            raise _fail(
                name,
                f"the WAVE_FORMAT_EXTENSIBLE fmt chunk is {len(body)} bytes, "
                f"needs {_FMT_EXTENSIBLE}",
            )
        guid = body[24:40]
        if guid[4:] != _GUID_TAIL or guid[2:4] != b"\0\0":
            raise _fail(name, f"unsupported WAVE_FORMAT_EXTENSIBLE sub-format {guid.hex()}")
        tag = int.from_bytes(guid[:2], "little")
    try:
        return Encoding(tag)
    except ValueError:
        known = _KNOWN_TAGS.get(tag)
        label = f" ({known})" if known else ""
        raise _fail(name, f"unsupported format tag 0x{tag:04X}{label}") from None


def _parse_fmt(body: bytes, name: str) -> WavFormat:
    """Decode and cross-check the fmt chunk; `block_align` must agree with the samples.

    The data location is filled in (`dataclasses.replace`) once the data chunk is found.
    """
    if len(body) < _FMT_MIN:
        raise _fail(name, f"the fmt chunk is {len(body)} bytes, needs at least {_FMT_MIN}")
    tag, channels, rate, _byte_rate, align, bits = struct.unpack_from("<HHIIHH", body)
    encoding = _encoding_of(tag, body, name)
    if bits not in _BITS[encoding]:
        raise _fail(name, f"{bits}-bit {encoding.name} samples are not supported")
    if channels == 0:
        raise _fail(name, "the fmt chunk declares 0 channels")
    if rate == 0:
        raise _fail(name, "the fmt chunk declares a sample rate of 0 Hz")
    expected = channels * bits // 8
    if align != expected:
        raise _fail(
            name,
            f"block_align {align} is inconsistent with {channels} channel(s) of "
            f"{bits} bits (expected {expected})",
        )
    return WavFormat(encoding, channels, rate, bits, align, data_offset=0, data_length=0)


def _data_length(claimed: int, offset: int, size: int, name: str) -> int:
    """The data chunk's length, accepting the placeholders of a recorder that was streaming.

    Recorders that write while recording put 0 or 0xFFFFFFFF in the size fields
    and fix them up at the end, if they ever get there. Such a data chunk is
    taken to run to the end of the file: it is then necessarily the last chunk,
    since nothing after it can be told apart from audio.
    """
    available = size - offset
    if claimed in _STREAMING_SIZES:
        return available
    if claimed > available:
        raise _fail(
            name,
            f"the data chunk claims {claimed} bytes but the file ends after "
            f"{available} (truncated)",
        )
    return claimed


def _chunk_label(cid: bytes) -> str:
    """A chunk id fit for a one-line message, even when the id is random bytes."""
    if all(32 <= b < 127 for b in cid):
        return cid.decode("ascii").strip() or "(blank)"
    return "0x" + cid.hex()


def parse_header(read: Reader, size: int, name: str = "") -> WavFormat:
    """Walk the RIFF chunks up to the data chunk and describe the audio.

    Unknown chunks (LIST, fact, bext, ...) are skipped, with the pad byte that
    follows an odd-sized chunk. fmt must come before data, as every player
    assumes. The RIFF size field is ignored: streaming recorders leave it 0 or
    0xFFFFFFFF, and what matters is that the data chunk fits in the file.
    """
    _check_riff(read, size, name)
    fmt: WavFormat | None = None
    pos = 12
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > size:
            break
        head = _read_exact(read, pos, 8, name, "a chunk header")
        cid, csize = head[:4], int.from_bytes(head[4:], "little")
        label = _chunk_label(cid)
        if cid == b"data":
            if fmt is None:
                raise _fail(name, "the data chunk comes before the fmt chunk")
            length = _data_length(csize, pos + 8, size, name)
            return replace(fmt, data_offset=pos + 8, data_length=length)
        if csize > size - pos - 8:
            raise _fail(
                name,
                f"the '{label}' chunk at offset {pos} claims {csize} bytes but the file "
                f"ends after {size - pos - 8}",
            )
        if cid == b"fmt ":
            if fmt is not None:
                raise _fail(name, "the file has more than one fmt chunk")
            want = min(csize, _FMT_EXTENSIBLE)
            fmt = _parse_fmt(_read_exact(read, pos + 8, want, name, "the fmt chunk"), name)
        pos += 8 + csize + (csize & 1)
    else:
        raise _fail(name, f"more than {_MAX_CHUNKS} chunks before the data chunk")
    raise _fail(name, "no fmt chunk" if fmt is None else "no data chunk")


def validate(read: Reader, size: int, name: str = "") -> WavFormat:
    """What the importer asks: parsable, and audio the register can keep and play."""
    fmt = parse_header(read, size, name)
    if fmt.data_length == 0:
        raise _fail(name, "the data chunk is empty (no audio)")
    if fmt.channels not in (1, 2):
        raise _fail(
            name, f"{fmt.channels} channels; only mono and stereo (agent, customer) are supported"
        )
    if not 8000 <= fmt.sample_rate <= 48000:
        raise _fail(name, f"implausible sample rate {fmt.sample_rate} Hz (expected 8000-48000)")
    if fmt.data_length % fmt.block_align:
        raise _fail(
            name,
            f"the data chunk is {fmt.data_length} bytes, not a whole number of "
            f"{fmt.block_align}-byte frames (damaged)",
        )
    if fmt.data_offset + fmt.data_length > size:  # parse_header guarantees it; kept as a guard
        raise _fail(name, "the data chunk runs past the end of the file (truncated)")
    return fmt


# --- sample conversion ---------------------------------------------------------------


def _alaw(code: int) -> int:
    """ITU-T G.711 A-law: a 13-bit value, scaled to 16 bits (<< 3) as SoX and Sun's g711.c do."""
    a = code ^ 0x55  # even bits are transmitted inverted
    exponent, mantissa = (a >> 4) & 7, a & 0x0F
    if exponent == 0:
        magnitude = 2 * mantissa + 1
    else:
        magnitude = (2 * mantissa + 33) << (exponent - 1)
    return (magnitude << 3) if a & 0x80 else -(magnitude << 3)


def _mulaw(code: int) -> int:
    """ITU-T G.711 µ-law: a 14-bit value, scaled to 16 bits (<< 2) as SoX and Sun's g711.c do."""
    u = ~code & 0xFF  # all bits are transmitted inverted
    exponent, mantissa = (u >> 4) & 7, u & 0x0F
    magnitude = ((2 * mantissa + 33) << exponent) - 33
    return -(magnitude << 2) if u & 0x80 else magnitude << 2


def _byte_tables(decode: Callable[[int], int]) -> tuple[bytes, bytes]:
    """Low and high byte of each code's little-endian PCM16, for `bytes.translate`."""
    words = [decode(code) & 0xFFFF for code in range(256)]
    return bytes(w & 0xFF for w in words), bytes(w >> 8 for w in words)


# Built once at import: 256 entries each, so an 8-bit sample decodes at C speed.
_TABLES = {
    Encoding.ALAW: _byte_tables(_alaw),
    Encoding.MULAW: _byte_tables(_mulaw),
    Encoding.PCM: _byte_tables(lambda code: (code - 128) << 8),  # 8-bit PCM is unsigned
}


def _from_bytes8(raw: bytes, tables: tuple[bytes, bytes]) -> bytes:
    """Each byte through a 256-entry table, interleaving low and high bytes."""
    out = bytearray(2 * len(raw))
    out[0::2] = raw.translate(tables[0])
    out[1::2] = raw.translate(tables[1])
    return bytes(out)


def _int32_le(raw: bytes) -> array[int]:
    """Little-endian 32-bit words as native ints, whatever `sys.byteorder` is."""
    words = array("i")  # C int: 4 bytes on every platform CPython supports
    words.frombytes(raw)
    if sys.byteorder == "big":
        words.byteswap()
    return words


def _to_pcm16(samples: Iterable[int]) -> bytes:
    """Full-scale 32-bit samples to PCM16 the way SoX does: + 0x8000, >> 16, clip at the top."""
    out = array("h", [32767 if s > 0x7FFF7FFF else (s + 0x8000) >> 16 for s in samples])
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


def _from_int24(raw: bytes) -> bytes:
    """Place each 3-byte sample in the top of a 32-bit word, then round like any wide sample."""
    wide = bytearray(4 * (len(raw) // 3))
    wide[1::4], wide[2::4], wide[3::4] = raw[0::3], raw[1::3], raw[2::3]
    return _to_pcm16(_int32_le(bytes(wide)))


def _float_to_sample(value: float) -> int:
    """SoX 14.4.2's SOX_FLOAT_32BIT_TO_SAMPLE: scale by 2**31, clip, truncate toward zero.

    Truncation, not rounding: SoX rounds 64-bit floats but casts 32-bit ones,
    and it is this cast (then the usual 16-bit rounding) that decides the
    last bit of quiet samples. NaN is undefined behaviour in SoX's C (x86
    yields the most negative value, a click); here it is silence.
    """
    if math.isnan(value):
        return 0
    scaled = value * 2147483648.0
    if scaled < -2147483648.0:
        return -0x80000000
    if scaled >= 2147483648.0:
        return 0x7FFFFFFF
    return int(scaled)


def _from_float32(raw: bytes) -> bytes:
    """IEEE float32 to PCM16 as SoX does it: to a 32-bit sample first, then rounded to 16 bits."""
    values = array("f")
    values.frombytes(raw)
    if sys.byteorder == "big":
        values.byteswap()
    return _to_pcm16([_float_to_sample(v) for v in values])


def decode_pcm16(fmt: WavFormat, raw: bytes) -> bytes:
    """Whole frames of the file's encoding to interleaved little-endian signed 16-bit.

    The channel count is kept: in a stereo call recording the agent and the
    customer are on separate channels, and the player chooses what to do.
    """
    if len(raw) % fmt.block_align:
        raise WavError(f"{len(raw)} bytes are not a whole number of {fmt.block_align}-byte frames")
    if fmt.encoding is Encoding.FLOAT:
        return _from_float32(raw)
    bits = fmt.bits_per_sample
    if bits == 8:
        return _from_bytes8(raw, _TABLES[fmt.encoding])
    if bits == 16:
        return bytes(raw)
    if bits == 24:
        return _from_int24(raw)
    return _to_pcm16(_int32_le(raw))


def iter_pcm16(
    read: Reader,
    fmt: WavFormat,
    start_frame: int = 0,
    frames_per_chunk: int = 4096,
    *,
    name: str = "",
) -> Iterator[bytes]:
    """Decode lazily from `start_frame` on, reading only one chunk ahead.

    This is what playback and seeking use: a seek is a new iterator from
    another frame, and nothing before it is read or decrypted.
    """
    if frames_per_chunk < 1:
        raise ValueError("frames_per_chunk must be at least 1")
    if not 0 <= start_frame <= fmt.frames:
        raise _fail(name, f"frame {start_frame} is outside the recording (0-{fmt.frames})")
    return _chunks(read, fmt, start_frame, frames_per_chunk, name)


def _chunks(read: Reader, fmt: WavFormat, frame: int, per_chunk: int, name: str) -> Iterator[bytes]:
    while frame < fmt.frames:
        count = min(per_chunk, fmt.frames - frame)
        offset = fmt.data_offset + frame * fmt.block_align
        raw = read(offset, count * fmt.block_align)
        if len(raw) != count * fmt.block_align:
            raise _fail(name, f"the audio ends early at frame {frame} (truncated)")
        yield decode_pcm16(fmt, raw)
        frame += count
