"""The compliance report printed to PDF by WeasyPrint from the report's own HTML."""

from __future__ import annotations

import os
import warnings
from pathlib import Path


def write_pdf(html: str, base_dir: Path, path: Path) -> int:
    """Render `html` (images relative to `base_dir`) to `path`; returns the page count."""
    with warnings.catch_warnings():
        # Without the HarfBuzz subsetter WeasyPrint falls back to fontTools and says so;
        # the report's fonts are cut down beforehand for that case (reports.fonts).
        warnings.filterwarnings("ignore", message=".*HarfBuzz-Subset.*")
        import weasyprint  # imported here: it costs ~0.5 s, and only a PDF needs it

    document = weasyprint.HTML(string=html, base_url=base_dir.resolve().as_uri() + "/").render()
    tmp = path.with_suffix(".tmp.pdf")
    document.write_pdf(tmp)
    os.replace(tmp, path)
    return len(document.pages)
