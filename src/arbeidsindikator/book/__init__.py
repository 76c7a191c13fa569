"""Layer 9, the book: what chapters call and the build.

A chapter calls a recipe and shows what it returns: :mod:`~arbeidsindikator.book.recipes`
(tables and numbers from the pipeline's stored results, the data contracts, the build's windows)
and :mod:`~arbeidsindikator.book.profiling_view` (chapter 07). Besides them
:mod:`~arbeidsindikator.book.chapter` (setup, glue, tables with suppression and downloads),
:mod:`~arbeidsindikator.book.figures` (every figure), :mod:`~arbeidsindikator.book.tables`,
:mod:`~arbeidsindikator.book.archive` and :mod:`~arbeidsindikator.book.changes` (publications
and their comparison) and
:mod:`~arbeidsindikator.book.build` (``python -m arbeidsindikator.book.build --config …``:
configuration → pipeline → execute chapters → render).
"""
