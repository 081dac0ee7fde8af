"""Keep ALSA's own messages off the terminal.

On a jump host without a sound card, opening a device makes libasound print
dozens of lines ("ALSA lib confmisc.c:855:(parse_card) cannot find card '0'")
to stderr, and an underrun during playback prints more, from the device's
thread. Textual draws the whole screen on stderr (its Linux driver writes to
`sys.__stderr__`), so those lines land in the middle of the picture.

Why an error handler and not fd 2 redirected: fd 2 *is* the screen. Pointing
it at /dev/null around a device open would also swallow Textual's frames
written by its writer thread meanwhile, and it could not cover the messages
ALSA prints later from the device thread. `snd_lib_error_set_handler` is
process-wide in libasound, which miniaudio (dlopen) and simpleaudio (linked)
share with us, and costs nothing when nothing goes wrong.
"""

from __future__ import annotations

import ctypes
import threading

# void handler(const char *file, int line, const char *function, int err, const char *fmt, ...)
# The variadic tail is never read; on the System V x86-64 and AArch64 ABIs a
# callee that ignores it is called correctly.
_HANDLER_TYPE = ctypes.CFUNCTYPE(
    None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
)


def _ignore(file: bytes, line: int, function: bytes, err: int, fmt: bytes) -> None:
    """Drop the message: the sink turns the failure itself into one clear error."""


_handler = _HANDLER_TYPE(_ignore)  # kept alive for the life of the process
_lock = threading.Lock()
_installed: bool | None = None


def silence_alsa() -> bool:
    """Install the no-op ALSA error handler once; False where there is no libasound.

    Without libasound there is nothing to silence: the sinks then fail to
    open and say so in their own words.
    """
    global _installed
    with _lock:
        if _installed is None:
            try:
                lib = ctypes.CDLL("libasound.so.2")
                _installed = lib.snd_lib_error_set_handler(_handler) == 0
            except (OSError, AttributeError):
                _installed = False
        return _installed
