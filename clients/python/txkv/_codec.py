"""Conversions between the caller's str/bytes and the wire's base64."""
import base64
import struct

INT64 = struct.Struct("<q")


def to_bytes(data, what="key"):
    """str (as UTF-8) or bytes-like to bytes."""
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be str or bytes, not {type(data).__name__}")


def b64(data):
    return base64.b64encode(data).decode("ascii")


def b64url(data):
    return base64.urlsafe_b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text) if text else b""


def key_after(key):
    """The first key after ``key`` in byte order: the end of a one-key range."""
    return key + b"\x00"


def encode_int(number):
    """A signed 64-bit little-endian integer, the operand of the atomic ADD."""
    return INT64.pack(number)


def decode_int(value):
    """The integer in a value written by ADD (or encode_int); 0 for None or empty.

    Shorter values are zero-extended, as ADD treats them.
    """
    if value is None:
        return 0
    data = to_bytes(value, "value")
    if len(data) > 8:
        raise ValueError(f"an integer value has at most 8 bytes, not {len(data)}")
    return INT64.unpack(data.ljust(8, b"\x00"))[0]


def add_le(current, operand):
    """FoundationDB's ADD: little-endian addition, truncated to the operand's length."""
    width = len(operand)
    base = int.from_bytes(current[:width].ljust(width, b"\x00"), "little")
    total = (base + int.from_bytes(operand, "little")) % (1 << (8 * width)) if width else 0
    return total.to_bytes(width, "little")
