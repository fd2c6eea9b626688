"""A report file as a download (a PDF one with its French refusal when it cannot be made), and the size
hint of a download link (DSFR's « CSV – 2,1 ko »)."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from allo.reports.tables import decimal

PDF_TYPE = "application/pdf"


def download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    """`attachment` with the file's name (RFC 6266: a non-ASCII name gets its filename* form)."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Content-Length"] = str(len(body))
    return response


def pdf_download(make, filename: str) -> HttpResponse:
    """The PDF `make()` returns, as a download; 503 with the French reason when this server cannot make
    PDF files (pdf.PdfUnavailable: WeasyPrint's system libraries missing)."""
    from allo.reports.pdf import PdfUnavailable

    try:
        body = make()
    except PdfUnavailable as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    return download(body, PDF_TYPE, filename)


def size_label(n: int) -> str:
    """A file's size as the DSFR writes it: « 820 octets », « 2,15 ko », « 1,2 Mo »."""
    if n < 1000:
        return f"{n} octets"
    if n < 1_000_000:
        return f"{decimal(n / 1000, 2)} ko"
    return f"{decimal(n / 1_000_000, 2)} Mo"
