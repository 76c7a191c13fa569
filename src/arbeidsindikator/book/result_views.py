"""What the results chapter (04) shows of the indicator tables: wide views, period and tertial
means, percentage deviations, and the report's selected counties and programmes.

The chapter imports this book module (chapters may import only pipeline, analyses, book,
config, spec); the computations are :mod:`arbeidsindikator.indicator.indicator`'s.
"""

from __future__ import annotations

from arbeidsindikator.indicator.indicator import (  # noqa: F401 (the chapter's vocabulary)
    PROGRAMME_PAIRS,
    PROGRAMME_TWO_COUNTIES,
    SELECTED_COUNTIES,
    all_outcomes,
    percent_deviation_all,
    period_means,
    tertial_means,
    tertials_all,
    wide,
)

__all__ = ["PROGRAMME_PAIRS", "PROGRAMME_TWO_COUNTIES", "SELECTED_COUNTIES", "all_outcomes", "percent_deviation_all",
           "period_means", "tertial_means", "tertials_all", "wide"]
