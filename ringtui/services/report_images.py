"""Image reports (S15): statistics drawn as PNG or JPEG with matplotlib.

matplotlib is imported inside the functions that draw, with the Agg backend (no
display needed), so no other command pays for it (tests/test_cli_imports.py).
"""

from __future__ import annotations

import io
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ringtui.errors import Invalid
from ringtui.services.base import Operation
from ringtui.services.plans import Feature, require_feature

IMAGE_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
KPI_LABELS = {
    "total_calls": "Calls", "inbound_calls": "Inbound", "outbound_calls": "Outbound",
    "answered_calls": "Answered", "missed_calls": "Missed", "service_level": "Service level",
    "total_duration_s": "Total duration", "avg_wait_s": "Average wait", "max_wait_s": "Longest wait",
    "avg_abandon_s": "Average time before abandon", "avg_talk_in_s": "Average talk in",
    "max_talk_in_s": "Longest talk in", "avg_talk_out_s": "Average talk out",
    "max_talk_out_s": "Longest talk out", "unprocessed_missed": "Unprocessed missed",
    "avg_callback_s": "Average callback delay",
}


def image_format(path: Path) -> str:
    """matplotlib's format name for the file's extension; refuses other extensions."""
    chosen = IMAGE_FORMATS.get(path.suffix.lower())
    if chosen is None:
        raise Invalid(f"cannot draw an image into {path.name!r}: give a file ending in .png, .jpg or .jpeg")
    return chosen


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _grid(heatmap: dict[str, Any]) -> list[list[float]]:
    rows = [[float("nan")] * 24 for _ in range(7)]
    for cell in heatmap["cells"]:
        if cell["value"] is not None:
            rows[cell["weekday"]][cell["hour"]] = float(cell["value"])
    return rows


def _draw_heatmap(axes: Any, heatmap: dict[str, Any], title: str) -> Any:
    grid = _grid(heatmap)
    highest = max((v for row in grid for v in row if v == v), default=0.0)  # v == v: not NaN
    image = axes.imshow(grid, cmap="YlOrRd", aspect="auto", interpolation="nearest",
                        vmin=0.0, vmax=highest or 1.0)
    axes.set_yticks(range(7), WEEKDAYS)
    axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    axes.set_xlabel("hour (account time)")
    axes.set_title(title)
    return image


def _save(figure: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=100)
    _pyplot().close(figure)
    return buffer.getvalue()


def heatmap_image(heatmap: dict[str, Any], title: str, fmt: str = "png") -> bytes:
    """The weekday x hour grid of one indicator, colour-coded."""
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(figsize=(10, 4), layout="constrained")
    image = _draw_heatmap(axes, heatmap, title)
    figure.colorbar(image, ax=axes, label=heatmap["indicator"])
    return _save(figure, fmt)


def _kpi_text(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if name == "service_level":
        return f"{value * 100:.1f} %"
    if name.endswith("_s"):
        return f"{value:,.1f} s"
    return f"{value:,}"


def history_image(history: dict[str, Any], title: str, zone: ZoneInfo, fmt: str = "png") -> bytes:
    """One indicator per bucket as bars, labelled with the buckets' local starts."""
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(figsize=(10, 4), layout="constrained")
    points = history["points"]
    starts = [datetime.fromisoformat(p["start"].replace("Z", "+00:00")).astimezone(zone) for p in points]
    values = [p["value"] if p["value"] is not None else 0 for p in points]
    labels = [s.strftime("%Y-%m-%d %H:%M" if history["interval"] == "hour" else "%Y-%m-%d") for s in starts]
    axes.bar(range(len(values)), values, color="#d95f0e")
    step = max(1, len(labels) // 12)
    axes.set_xticks(range(0, len(labels), step), labels[::step], rotation=30, ha="right")
    axes.set_ylabel(history["indicator"])
    axes.set_title(title)
    return _save(figure, fmt)


def report_image(figures: dict[str, Any], heatmap: dict[str, Any], title: str, fmt: str = "png") -> bytes:
    """The call report: the S1/S2 indicators as a table above the heatmap of calls."""
    pyplot = _pyplot()
    figure, (table_axes, map_axes) = pyplot.subplots(
        2, 1, figsize=(10, 9), height_ratios=(1.1, 1), layout="constrained")
    figure.suptitle(title, fontsize=14)
    table_axes.axis("off")
    rows = [[KPI_LABELS.get(name, name), _kpi_text(name, value)] for name, value in figures.items()]
    table = table_axes.table(cellText=rows, colLabels=["indicator", "value"], loc="center",
                             colWidths=[0.45, 0.25])
    table.scale(1, 1.25)
    image = _draw_heatmap(map_axes, heatmap, f"{heatmap['indicator']} per weekday and hour")
    figure.colorbar(image, ax=map_axes)
    return _save(figure, fmt)


def write_image(path: Path, data: bytes) -> None:
    """Write atomically: a half-written image never replaces a good one."""
    if path.is_dir():
        raise Invalid(f"{path} is a folder: give a file name ending in .png or .jpg")
    if not path.parent.exists():
        raise Invalid(f"cannot write {path}: folder {path.parent} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise Invalid(_unwritable(path, error)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # as open() would have made it, not mkstemp's 0600
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise Invalid(_unwritable(path, error)) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _unwritable(path: Path, error: OSError) -> str:
    return f"cannot write {path}: {error.strerror}; give a file in a folder you can write to"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def save_history(op: Operation, history: dict[str, Any], path: Path, title: str) -> dict[str, Any]:
    """`stats history --out FILE`: the history as a bar chart image (an image report, Advanced plan)."""
    require_feature(op.account, Feature.IMAGE_REPORTS)
    fmt = image_format(path)
    data = history_image(history, title, ZoneInfo(op.account.timezone or "UTC"), fmt)
    write_image(path, data)
    return {"file": str(path), "format": fmt, "bytes": len(data), "indicator": history["indicator"]}


def save_heatmap(op: Operation, heatmap: dict[str, Any], path: Path, title: str) -> dict[str, Any]:
    """`stats heatmap --out FILE`: the grid as an image file (an image report, Advanced plan)."""
    require_feature(op.account, Feature.IMAGE_REPORTS)
    fmt = image_format(path)
    data = heatmap_image(heatmap, title, fmt)
    write_image(path, data)
    return {"file": str(path), "format": fmt, "bytes": len(data), "indicator": heatmap["indicator"]}
