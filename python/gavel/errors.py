"""Exceptions raised by gavel. Every error of the native layer is a :class:`GavelError`
carrying the C++ message (which names the file, line, field or option at fault); its subclass
tells what kind of error it is (from the error's status code), and also derives from the
closest built-in exception, so ``except ValueError`` catches bad arguments as usual.
"""
from __future__ import annotations


class GavelError(RuntimeError):
    """An error reported by gavel's native layer; ``str(e)`` is its message."""

    code = "unknown"


class InvalidArgumentError(GavelError, ValueError):
    """An input, option or file content is malformed or outside its domain."""

    code = "invalid argument"


class NotFoundError(GavelError, LookupError):
    """A file, field, template or record that was asked for does not exist."""

    code = "not found"


class OutOfRangeError(GavelError, ValueError):
    """Well-formed, but past a limit (a prompt longer than the context, say)."""

    code = "out of range"


class CorruptionError(GavelError):
    """Stored or downloaded bytes are damaged (a truncated GGUF, a bad store row)."""

    code = "corruption"


class GavelIOError(GavelError, OSError):
    """The operating system failed a read, write or rename."""

    code = "I/O error"


class UnavailableError(GavelError):
    """A resource is busy or not reachable now (a locked file, a server that is down)."""

    code = "unavailable"


class ResourceExhaustedError(GavelError):
    """A budget ran out (memory, a template's step limit, disk)."""

    code = "resource exhausted"


class CancelledError(GavelError):
    """The call was stopped by its caller."""

    code = "cancelled"


class UnimplementedError(GavelError, NotImplementedError):
    """A valid request that this build does not support."""

    code = "unimplemented"


class InternalError(GavelError):
    """An invariant of gavel itself broke (please report it)."""

    code = "internal"


_BY_CODE = {
    cls.code: cls
    for cls in (
        GavelError,
        InvalidArgumentError,
        NotFoundError,
        OutOfRangeError,
        CorruptionError,
        GavelIOError,
        UnavailableError,
        ResourceExhaustedError,
        CancelledError,
        UnimplementedError,
        InternalError,
    )
}


def error_class(code: str) -> type[GavelError]:
    """The exception class for a native status code name (GavelError for unknown codes)."""
    return _BY_CODE.get(code, GavelError)


__all__ = [c.__name__ for c in _BY_CODE.values()]
