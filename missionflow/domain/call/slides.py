"""The one-slide presentation: recognised by its content, never by its name or declared type."""

from __future__ import annotations

import io
import zipfile

MAX_SLIDE_BYTES = 10 * 1024 * 1024
PDF = "application/pdf"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


class SlideRefused(ValueError):
    """`too_large` tells a 413 from a 415."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def content_type_of(content: bytes) -> str:
    """PDF or PPTX by what the bytes are; SlideRefused otherwise."""
    if len(content) > MAX_SLIDE_BYTES:
        raise SlideRefused(
            f"The slide is {len(content) / 1048576:.1f} MB; at most 10 MB is accepted.",
            too_large=True,
        )
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            names = set()
        if {"[Content_Types].xml", "ppt/presentation.xml"} <= names:
            return PPTX
    raise SlideRefused("The slide must be a PDF or a PowerPoint (PPTX) file.")
