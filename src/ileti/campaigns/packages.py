"""What a workbook file holds, checked before calamine opens it.

An xlsx or ods file is a zip of XML. A zip bomb (a few kilobytes that expand to gigabytes) is
refused from the zip's directory, without expanding anything; a zip whose directory
understates a member's size is caught while that member is expanded here, in bounded steps,
as soon as it outgrows what it declared. A password-protected xlsx is not a zip at all but an
OLE container (what .xls files are) holding an ``EncryptedPackage`` stream.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from ileti.campaigns.limits import FileLimits, FileRefused, megabytes

ZIP = b"PK\x03\x04"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
# A member this large that expands more than this many times is a bomb, whatever the total.
_SUSPECT_SIZE = 10 * 1024 * 1024
_SUSPECT_RATIO = 100
_CHUNK = 1024 * 1024
_LOCAL_HEADER = struct.Struct("<4s22xHH")


def kind(data: bytes) -> str:
    """``zip``, ``ole``, ``encrypted`` (an OLE container with an encrypted Office package),
    ``pdf`` or ``other``."""
    if data.startswith(ZIP):
        return "zip"
    if data.startswith(OLE):
        return "encrypted" if _ENCRYPTED in data else "ole"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return "other"


def check_zip(data: bytes, file_name: str, limits: FileLimits) -> zipfile.ZipFile:
    """The zip of a workbook file once its sizes are known to be within the limits."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise corrupt(file_name) from None
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed:
        raise FileRefused(
            f"“{file_name}” expands to more than {megabytes(limits.max_uncompressed)} when "
            "opened; split it into smaller files."
        )
    for member in members:
        if member.file_size > _SUSPECT_SIZE and member.file_size > _SUSPECT_RATIO * max(
            member.compress_size, 1
        ):
            raise _bomb(file_name, "expands far more than a workbook does")
        _expand(data, member, file_name)
    return package


def _expand(data: bytes, member: zipfile.ZipInfo, file_name: str) -> None:
    """Expand one member in steps and refuse it once it holds more than it declared."""
    start = member.header_offset
    signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(data, start)
    if signature != ZIP:
        raise corrupt(file_name)
    begin = start + _LOCAL_HEADER.size + name_length + extra_length
    compressed = memoryview(data)[begin : begin + member.compress_size]
    if member.compress_type == zipfile.ZIP_STORED:
        produced = len(compressed)
    elif member.compress_type == zipfile.ZIP_DEFLATED:
        produced = _inflated_size(compressed, member.file_size, file_name)
    else:
        raise corrupt(file_name)
    if produced != member.file_size:
        raise corrupt(file_name)


def _inflated_size(compressed: memoryview, declared: int, file_name: str) -> int:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    pending: bytes | memoryview = compressed
    try:
        while not inflater.eof:
            out = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            produced += len(out)
            if produced > declared:
                raise _bomb(file_name, "holds more than its directory declares")
            if not out and not pending:
                break  # the data ends before the stream does: the size check refuses it
    except zlib.error:
        raise corrupt(file_name) from None
    return produced


def corrupt(file_name: str) -> FileRefused:
    return FileRefused(f"“{file_name}” is damaged and cannot be read; save it again and upload it.")


def _bomb(file_name: str, what: str) -> FileRefused:
    return FileRefused(f"“{file_name}” {what} when opened; it is refused as a possible zip bomb.")
