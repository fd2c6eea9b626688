"""Report files shared by every report of Allô (the « Bilan », the partner's monthly report).

  tables.py        pure: a Table (title, typed columns, rows) and the French display of its values
  spreadsheets.py  Tables -> CSV, ODS (odfpy) and XLSX (openpyxl): numbers, dates, percentages typed
  pdf.py           the PDF building blocks (matplotlib): a document, a page, the month in brief, per-day
                   charts, a Table drawn over as many pages as it needs
  http.py          a file as a download response (content type, Content-Disposition)
"""
