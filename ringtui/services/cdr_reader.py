"""Master.csv read in chunks of whole records, each a polars frame of text cells with line numbers.

polars parses a chunk in native code; Python's csv module reads a chunk only when polars
cannot vouch for its line numbers or cells (a quoted line break, a lone CR, a line polars
refuses). Each frame has the columns `line` (the record's first physical line, as
`csv.reader`'s line_num counts them), `fields` (how many cells the line has: exact below
18, else 18) and c0..c17 (stripped of nothing, "" for an empty or missing cell). Blank
lines and a header line 1 are left out. polars is imported in the functions: the CLI path must not load it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ringtui.errors import Invalid

if TYPE_CHECKING:
    import polars as pl

WIDTH = 18
CELLS = [f"c{i}" for i in range(WIDTH)]
_BOM = b"\xef\xbb\xbf"


def frames(file: Path, chunk_bytes: int, header: list[str], required: int) -> Iterator[pl.DataFrame]:
    """The file's records, chunk by chunk; `header`: the column names a header line 1 may give."""
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Invalid(f"cannot read {file}: no such file") from None
    except OSError as error:
        raise Invalid(f"cannot read {file}: {error.strerror}") from None
    with handle:
        first_line = 1
        for chunk in _chunks(handle, chunk_bytes):
            frame = _frame(chunk, first_line, file)
            if first_line == 1:
                frame = _without_header(frame, header, required)
            first_line += _line_breaks(chunk)
            frame = frame.filter(_not_blank())
            if frame.height:
                yield frame


def _chunks(handle: io.BufferedReader, chunk_bytes: int) -> Iterator[bytes]:
    """Whole records: each chunk ends after a line feed outside quotes (or at the end of the file)."""
    rest = handle.read(len(_BOM))
    if rest == _BOM:
        rest = b""
    while True:
        more = handle.read(max(chunk_bytes, 1))
        if not more:
            if rest:
                yield rest
            return
        data = rest + more
        cut = _record_end(data)
        if cut:
            yield data[:cut]
        rest = data[cut:]


def _record_end(data: bytes) -> int:
    """The length of the longest prefix of `data` that ends a record; 0 when none does.

    A line feed ends a record when the quotes before it are even in number (a doubled
    quote inside a quoted cell counts twice)."""
    quotes = data.count(b'"')
    end = len(data)
    while (newline := data.rfind(b"\n", 0, end)) >= 0:
        quotes -= data.count(b'"', newline, end)
        if quotes % 2 == 0:
            return newline + 1
        end = newline
    return 0


def _line_breaks(chunk: bytes) -> int:
    """Line ends as universal newlines count them: LF, CRLF and a lone CR."""
    returns = chunk.count(b"\r")
    return chunk.count(b"\n") + (returns and returns - chunk.count(b"\r\n"))


def _frame(chunk: bytes, first_line: int, file: Path) -> pl.DataFrame:
    import polars as pl

    records = chunk.count(b"\n") + (not chunk.endswith(b"\n"))
    returns = chunk.count(b"\r")
    if not returns or returns == chunk.count(b"\r\n"):  # no lone CR: polars and csv agree on line ends
        try:
            frame = pl.read_csv(
                io.BytesIO(chunk),
                has_header=False,
                schema=dict.fromkeys(CELLS, pl.String),
                encoding="utf8-lossy",
                truncate_ragged_lines=True,
            )
        except (pl.exceptions.PolarsError, ValueError):
            frame = None
        if frame is not None and frame.height == records:  # else a quoted line break: not line by line
            return _numbered(frame, first_line, chunk)
    return _read_with_csv(chunk, first_line, file)


def _numbered(frame: pl.DataFrame, first_line: int, chunk: bytes) -> pl.DataFrame:
    """Line numbers, and the exact cell count of lines with a missing cell (polars pads short lines)."""
    import polars as pl

    padded = frame.select(pl.any_horizontal(pl.col(CELLS[:-1]).is_null())).to_series()
    fields = pl.repeat(WIDTH, frame.height, dtype=pl.Int32, eager=True)
    if padded.any():
        lines = chunk.split(b"\n")
        counts = {
            index: len(next(csv.reader([lines[index].decode("utf-8", "replace")]), []))
            for index in padded.arg_true().to_list()
        }
        fields = pl.Series([counts.get(index, WIDTH) for index in range(frame.height)], dtype=pl.Int32)
    return frame.select(
        pl.int_range(first_line, first_line + frame.height, dtype=pl.Int64).alias("line"),
        fields.alias("fields"),
        pl.col(CELLS).fill_null(""),
    )


def _read_with_csv(chunk: bytes, first_line: int, file: Path) -> pl.DataFrame:
    import polars as pl

    reader = csv.reader(io.StringIO(chunk.decode("utf-8", "replace"), newline=""))
    lines, fields, rows, last_line = [], [], [], 0
    try:
        for cells in reader:
            lines.append(first_line + last_line)
            last_line = reader.line_num
            fields.append(len(cells))
            rows.append((cells + [""] * WIDTH)[:WIDTH])
    except csv.Error as error:
        raise Invalid(
            f"{file} line {first_line - 1 + reader.line_num}: not readable as CSV ({error})"
        ) from None
    columns = list(zip(*rows, strict=False)) if rows else [()] * WIDTH
    return pl.DataFrame(
        {
            "line": pl.Series(lines, dtype=pl.Int64),
            "fields": pl.Series(fields, dtype=pl.Int32),
            **{
                name: pl.Series(list(column), dtype=pl.String)
                for name, column in zip(CELLS, columns, strict=True)
            },
        }
    )


def _not_blank() -> pl.Expr:
    import polars as pl

    return pl.any_horizontal(pl.col(CELLS).str.strip_chars() != "")


def _without_header(frame: pl.DataFrame, header: list[str], required: int) -> pl.DataFrame:
    if frame.height == 0 or frame["line"][0] != 1:
        return frame
    first = [frame[name][0].strip().lower() for name in CELLS[:required]]
    return frame.slice(1) if first == header[:required] else frame
