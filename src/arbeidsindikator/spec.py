"""The main model's specification: outcomes, their horizons and families, the spell rule (digest §1.2–1.4).

One definition of each: every stage that needs to know which outcomes exist, how far ahead each
looks and which estimator it gets imports it from here.
"""

from __future__ import annotations

from typing import Literal

Family = Literal["ols", "probit", "lpm"]

OUTCOMES: tuple[str, ...] = ("atid3", "atid12", "jobb3", "jobb12")
HORIZONS: dict[str, int] = {"atid3": 3, "atid12": 12, "jobb3": 3, "jobb12": 12}
FAMILY: dict[str, Family] = {"atid3": "ols", "atid12": "ols", "jobb3": "probit", "jobb12": "probit"}

#: A NAV spell breaks after this many months or more outside the population (seed 002 ch. 4, text:
#: three months). The default of the run configuration, the panel builder and the generator.
SPELL_GAP_MONTHS: int = 3
#: The other reading the source gives (seed 002 footnotes 11/13: two months), shown as an alternative.
SPELL_GAP_MONTHS_ALTERNATIVE: int = 2
