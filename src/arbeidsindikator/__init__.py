"""arbeidsindikator: NAV's work indicator (arbeidsindikatoren) re-implemented as a library.

Laid out by stage, the way data travel (seed 002 for the indicator, seed 003 for profiling):
raw extracts → contract validation → analysis panel → design → fit → expected values →
indicator → seasonal adjustment → tables, figures, exports → chapters. Layers, lowest first
(a module imports only its own layer and those below; ``tests/test_layers.py`` checks it):

* :mod:`~arbeidsindikator.config`, :mod:`~arbeidsindikator.spec`, :mod:`~arbeidsindikator.io`,
  :mod:`~arbeidsindikator.windows`: the run configuration (every default once, the repository
  root), the main model's specification (the one definition of the outcomes), atomic writes and
  fingerprints, the period/seasonal-window rule and the one month parser;
* :mod:`~arbeidsindikator.data`: contracts, readers and validation of the raw extracts, reference
  tables, the basic amount G and the month index;
* :mod:`~arbeidsindikator.panel`: the analysis panel (population rule, outcomes, covariates);
* :mod:`~arbeidsindikator.estimation`: the model engine (design, kernels, fit, results);
* :mod:`~arbeidsindikator.indicator`: the indicator, its seasonal adjustment and the export;
* :mod:`~arbeidsindikator.profiling`: the evaluation of NAV's profiling of new job seekers;
* :mod:`~arbeidsindikator.synthetic`: synthetic sources of raw extracts and registrations;
* :mod:`~arbeidsindikator.pipeline`: the only place that picks the data source, then generates,
  validates, builds, fits and caches;
* :mod:`~arbeidsindikator.analyses`: analyses that re-run the chain (alternatives, uncertainty);
* :mod:`~arbeidsindikator.book`: what chapters call (setup, glue, tables, figures, recipes) and
  the build (``python -m arbeidsindikator.book.build``);
* :mod:`~arbeidsindikator.cli`: the command line.

Chapters import only ``pipeline``, ``analyses`` and ``book`` (``config``/``spec`` for constants).

This file holds only the version and imports nothing.
"""

__version__ = "0.1.0"
