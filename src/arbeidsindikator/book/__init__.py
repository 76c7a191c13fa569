"""Layer 9, the book: what chapters call and the build.

:mod:`~arbeidsindikator.book.chapter` (setup, glue, tables with suppression and downloads),
:mod:`~arbeidsindikator.book.figures`, :mod:`~arbeidsindikator.book.tables` and
:mod:`~arbeidsindikator.book.build` (``python -m arbeidsindikator.book.build --config …``:
configuration → pipeline → execute chapters → render).
"""
