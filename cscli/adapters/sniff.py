"""What a data file really is, and a UTF-8 copy for polars when it is not plain UTF-8 text.

polars' CSV reader (the fast path) reads UTF-8 text with LF or CRLF line ends, in place. Before
a CSV/TSV is scanned, its first and last 64 KiB are sniffed (nothing more of a clean file is
read here):

- a magic number says the file is not text: a zip archive (an `.xlsx` workbook is one), an
  old `.xls`, bzip2, xz, zstd or 7-Zip, Parquet, PDF: an error that names what it is;
- gzip (`\\x1f\\x8b`, whatever the name) is decompressed as a stream and stopped at a size
  limit (`CSCLI_MAX_UNCOMPRESSED`, 8 GiB by default), so that a gzip bomb cannot fill memory
  or disk; a truncated or corrupt stream is an error naming the file;
- a byte-order mark (UTF-16 or UTF-32, either byte order) or the source's `encoding:` (cp1252,
  latin-1, …) is decoded; a byte-order mark wins over `encoding:`;
- NUL bytes in every second (or fourth) position without a byte-order mark is UTF-16 (UTF-32)
  without its mark: an error naming the encoding to set, since a guess could misread it;
- carriage returns with no line feed (classic Mac OS line ends) are read as line ends.

When any of these applies, the text is written once per process to a temporary UTF-8 file
(deleted at exit; the export itself is never changed), with the same lines as the export so
that line numbers in messages still match it. Bytes the encoding cannot decode become U+FFFD
and are counted like the non-UTF-8 bytes of a file read in place (a finding of
`cscli.engine.polars.loader.findings`); for those, `guess_encoding` names the likely encoding
from the sniffed bytes.
"""

from __future__ import annotations

import atexit
import codecs
import dataclasses
import gzip
import io
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cscli.errors import InputError, UsageError

SNIFF_BYTES = 64 * 1024
CHUNK = 1 << 20
LIMIT_VAR = "CSCLI_MAX_UNCOMPRESSED"
DEFAULT_LIMIT = 8 << 30

#: (magic bytes, what the file is, the fix); checked at offset 0
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an Excel 97-2003 workbook (.xls)",
        "save the sheet as CSV (in Excel: File → Save As → CSV UTF-8), and point the source "
        "at the .csv file",
    ),
    (b"BZh", "bzip2-compressed", "decompress it (bunzip2), or compress it with gzip instead"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it (unxz), or compress it with gzip instead"),
    (
        b"\x28\xb5\x2f\xfd",
        "zstd-compressed",
        "decompress it (unzstd), or compress it with gzip instead",
    ),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the CSV and point the source at it"),
    (b"%PDF-", "a PDF document", "export the data as CSV"),
)

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: bytes 0x80–0x9F that cp1252 prints (€ ‚ „ … ’ “ ” – — …); in latin-1 they are controls
_CP1252_ONLY = re.compile(rb"[\x80\x82-\x8c\x8e\x91-\x9c\x9e\x9f]")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A file ready for polars: `path` is what polars reads, `shown` the export itself."""

    path: Path
    shown: Path
    #: the encoding decoded into the copy, when one was (a BOM's or `encoding:`)
    decoded: str | None = None
    #: for a file read as UTF-8: the likely encoding of bytes that are not UTF-8, if seen
    guess: str | None = None


_PREPARED: dict[tuple[str, int, int, str | None], Prepared] = {}
_TEMP: list[Path] = []


def _temp_dir() -> Path:
    if not _TEMP:
        folder = Path(tempfile.mkdtemp(prefix="cscli-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _TEMP.append(folder)
    return _TEMP[0]


def uncompressed_limit() -> int:
    """The most bytes a gzip file may decompress to: `$CSCLI_MAX_UNCOMPRESSED` (a number of
    bytes, or with a K/M/G/T suffix: `20G`), else 8 GiB."""
    text = os.environ.get(LIMIT_VAR, "").strip()
    if not text:
        return DEFAULT_LIMIT
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", text, flags=re.IGNORECASE)
    if not m:
        raise UsageError(
            f"${LIMIT_VAR} is {text!r}: not a size",
            hint=f"give a number of bytes, or one with a unit: {LIMIT_VAR}=20G",
        )
    power = " KMGT".index(m.group(2).upper() or " ")
    return int(float(m.group(1)) * 1024**power)


def size_words(n: int) -> str:
    """1073741824 → '1 GiB'; sizes as the limit is written."""
    for unit, power in (("TiB", 4), ("GiB", 3), ("MiB", 2), ("KiB", 1)):
        if n >= 1024**power:
            return f"{n / 1024**power:,.4g} {unit}"
    return f"{n:,} bytes"


def _head_tail(path: Path) -> tuple[bytes, bytes]:
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
        if len(head) < SNIFF_BYTES:
            return head, b""
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(SNIFF_BYTES, size - SNIFF_BYTES))
        return head, f.read()


def _zip_kind(head: bytes) -> tuple[str, str]:
    if b"xl/" in head or b"[Content_Types].xml" in head:
        return (
            "an Excel workbook (.xlsx, a zip archive)",
            "save the sheet as CSV (in Excel: File → Save As → CSV UTF-8), and point the source "
            "at the .csv file",
        )
    if b"opendocument.spreadsheet" in head:
        return ("an OpenDocument spreadsheet (.ods)", "save the sheet as CSV")
    return ("a zip archive", "extract the CSV from it and point the source at the CSV")


def not_text_error(head: bytes, path: Path, fmt: str, setting: str) -> InputError | None:
    """The error for a file whose first bytes say it is not CSV text, if they do."""
    found: tuple[str, str] | None = None
    if head.startswith(b"PK\x03\x04"):
        found = _zip_kind(head)
    elif head.startswith(b"PAR1"):
        found = ("a Parquet file", f"set format: parquet on {setting} (or rename it .parquet)")
    else:
        for magic, what, fix in _MAGIC:
            if head.startswith(magic):
                found = (what, fix)
                break
    if found is None:
        return None
    what, fix = found
    article = "an" if fmt == "tsv" else "a"
    return InputError(
        f"the file is {what}, not {article} {fmt.upper()} file", file=str(path), hint=fix
    )


def bom_codec(head: bytes) -> str | None:
    """The codec a byte-order mark at the start of `head` names, or None."""
    for mark, codec in _BOMS:
        if head.startswith(mark):
            return codec
    return None


def _nul_encoding(head: bytes) -> str | None:
    """UTF-16/UTF-32 without a byte-order mark, told by where the NUL bytes of ASCII text
    fall: at odd offsets in UTF-16 little-endian, even ones in big-endian."""
    sample = head[: len(head) - len(head) % 4]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    if sample.count(0) >= len(sample) * 5 // 8:
        return "utf-32-le" if sample[0] != 0 else "utf-32-be"
    odd = sample[1::2].count(0)
    even = sample[0::2].count(0)
    return "utf-16-le" if odd > even else "utf-16-be"


def guess_encoding(sample: bytes, *, cut_start: bool = False, cut_end: bool = False) -> str | None:
    """The likely encoding of bytes that are not UTF-8: cp1252 when they use the bytes
    0x80–0x9F it prints (€, curly quotes, dashes), else latin-1 (the two read every other
    byte the same); None when the sample is UTF-8. `cut_start`/`cut_end`: the sample was cut
    from a longer file there, so a character split by the cut is not held against it."""
    if cut_start:
        sample = sample[min(len(sample) - len(sample.lstrip(bytes(range(0x80, 0xC0)))), 3) :]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=not cut_end)
    except UnicodeDecodeError:
        return "cp1252" if _CP1252_ONLY.search(sample) else "latin-1"
    return None


def _is_utf8(codec: str) -> bool:
    return codecs.lookup(codec).name == "utf-8"


def prepare(path: Path, fmt: str, encoding: str | None, setting: str) -> Prepared:
    """The file polars should read for `path` (see the module's rules); `setting` names the
    source in hints (`sources.tickets`). Errors name `path`."""
    try:
        stat = path.stat()
        head, tail = _head_tail(path)
    except OSError as e:
        raise InputError(
            f"cannot read the file: {e.strerror or e}",
            file=str(path),
            hint="check that the file exists and that you may read it",
        ) from e
    if stat.st_size == 0 and head:
        raise InputError(
            "the file says it is empty (size 0) but has content: a file the system makes up "
            "as it is read (/proc, /sys), not an export",
            file=str(path),
            hint="copy it to a regular file first (cp FILE data.csv), and point the source there",
        )
    if fmt == "parquet":
        if head.startswith(b"PAR1") and not (tail or head).endswith(b"PAR1"):
            raise InputError(
                "the Parquet file is truncated: it does not end with the Parquet footer "
                "(the bytes PAR1)",
                file=str(path),
                hint="copy or export the file again: it was cut short",
            )
        return Prepared(path, path)
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, encoding)
    if key in _PREPARED:
        # the same file under another name (a symlink, another working directory): read what
        # was prepared, show the name this source gives
        return dataclasses.replace(_PREPARED[key], shown=path)
    if fmt not in ("csv", "tsv"):  # JSON: only decompressed (with the same limit)
        if not head.startswith(b"\x1f\x8b"):
            return Prepared(path.absolute(), path)
        target = _temp_dir() / f"{len(_PREPARED)}.json"
        _copy(path, target, gzipped=True, codec=None, cr_only=False, setting=setting)
        _PREPARED[key] = Prepared(target, path)
        return _PREPARED[key]
    gzipped = head.startswith(b"\x1f\x8b")
    if gzipped:
        with gzip.open(path, "rb") as gz:
            head = _gunzip_head(gz, path)
        tail = b""
        if head.startswith(b"\x1f\x8b"):  # polars would try to decompress it once more
            raise InputError(
                "the file is gzip-compressed twice: decompressed, it is gzip again",
                file=str(path),
                hint="decompress it once (gunzip), and point the source at the result",
            )
    problem = not_text_error(head, path, fmt, setting)
    if problem is not None:
        raise problem
    bom = bom_codec(head)
    codec = bom or encoding
    if codec is None or _is_utf8(codec):
        nul = _nul_encoding(head)
        if nul is not None and codec is None:
            raise InputError(
                f"the file looks like {nul.upper()} text without a byte-order mark (NUL "
                "bytes between the characters), not UTF-8",
                file=str(path),
                hint=f"set encoding: {nul} on {setting}, or save the file as UTF-8",
            )
        codec = None
    try:
        text_head = head.decode(codec or "utf-8", errors="replace")
    except UnicodeError as e:  # a UTF-16 decoder given bytes without a byte-order mark
        raise _decode_error(path, codec or "utf-8", e, setting) from e
    cr_only = "\r" in text_head and "\n" not in text_head
    if codec is None and not cr_only and not gzipped:
        guess = guess_encoding(head, cut_end=bool(tail)) or (
            guess_encoding(tail, cut_start=True) if tail else None
        )
        found = Prepared(path.absolute(), path, guess=guess)
    else:
        target = _temp_dir() / f"{len(_PREPARED)}.txt"  # plain text, whatever the export was
        _copy(path, target, gzipped=gzipped, codec=codec, cr_only=cr_only, setting=setting)
        guess = None if codec else guess_encoding(head, cut_end=True)
        found = Prepared(target, path, decoded=codec, guess=guess)
    _PREPARED[key] = found
    return found


def _gunzip_head(gz: gzip.GzipFile, path: Path) -> bytes:
    try:
        return gz.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as e:
        raise _gzip_error(path, e, 0) from e


def _gzip_error(path: Path, error: BaseException, done: int) -> InputError:
    if isinstance(error, EOFError):
        message = "the gzip file is truncated: it ends before its end marker"
        if done:
            message += f" (after {size_words(done)} of data)"
    else:
        message = f"the gzip file is corrupt: {error}"
    return InputError(
        message,
        file=str(path),
        hint="copy or export the file again (`gzip -t FILE` tests a gzip file)",
    )


def _decode_error(path: Path, codec: str, error: UnicodeError, setting: str) -> InputError:
    return InputError(
        f"cannot decode the file as {codec}: {error}",
        file=str(path),
        hint=f"check encoding: on {setting} (a file without a byte-order mark needs the byte "
        "order: utf-16-le or utf-16-be)",
    )


def _copy(
    source: Path, target: Path, *, gzipped: bool, codec: str | None, cr_only: bool, setting: str
) -> None:
    """Stream `source` into `target` as UTF-8: decompressed, decoded, CR line ends as LF.
    Memory stays at one chunk; a gzip stream stops at `uncompressed_limit()`."""
    limit = uncompressed_limit() if gzipped else None
    decode: Callable[[bytes, bool], str] | None = None
    if codec is not None:
        decode = codecs.getincrementaldecoder(codec)(errors="replace").decode
    done = 0
    try:
        with source.open("rb") as raw, target.open("wb") as out:
            stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw) if gzipped else raw
            while True:
                try:
                    data = stream.read(CHUNK)
                except (OSError, EOFError, zlib.error) as e:
                    if not gzipped:
                        raise
                    raise _gzip_error(source, e, done) from e
                done += len(data)
                if limit is not None and done > limit:
                    raise InputError(
                        f"the gzip file decompresses to more than {size_words(limit)}: "
                        "stopped there (a damaged file, or a gzip bomb?)",
                        file=str(source),
                        hint=f"if the export really is that large, raise the limit with "
                        f"{LIMIT_VAR}=… (e.g. 32G), or decompress it yourself",
                    )
                if decode is None and not cr_only:
                    out.write(data)
                else:
                    text = decode(data, not data) if decode else data.decode("latin-1")
                    if cr_only:
                        text = text.replace("\r", "\n")
                    out.write(text.encode("utf-8") if decode else text.encode("latin-1"))
                if not data:
                    break
    except InputError:
        target.unlink(missing_ok=True)
        raise
    except UnicodeError as e:
        target.unlink(missing_ok=True)
        raise _decode_error(source, codec or "utf-8", e, setting) from e
    except OSError as e:
        target.unlink(missing_ok=True)
        raise InputError(
            f"cannot write a readable copy to {target.parent}: {e.strerror or e}",
            file=str(source),
            hint="free some disk space there, or point TMPDIR at a folder with room",
        ) from e
