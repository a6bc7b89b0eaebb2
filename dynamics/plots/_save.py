"""Write a figure atomically."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from ..results import atomic_write

__all__ = ["save_figure"]


def save_figure(fig: Figure, path: str | Path, dpi: int = 130) -> Path:
    """Save `fig` to `path` (format from the suffix: .png, .pdf, .svg) via temp file + rename."""
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt))
