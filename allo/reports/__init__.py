"""Report files shared by every report of Allô (the « Bilan », the partner's monthly report).

  tables.py        pure: a Table (title, typed columns, rows) and the French display of its values
  spreadsheets.py  Tables -> CSV, ODS (odfpy) and XLSX (openpyxl): numbers, dates, percentages typed
  pdf.py           the PDF building blocks: headings, the month in brief, per-day charts (matplotlib) with
                   their text alternative, Tables over as many pages as they need; set by WeasyPrint as a
                   tagged PDF/UA-1
  http.py          a file as a download response (content type, Content-Disposition; a PDF's French
                   refusal when this server cannot make one)
"""
