"""One map from table 4's rows to the model's coefficient names (issue 10).

``data.reference`` defines it (``table4_rows``, ``TABLE4_NAMES``); the book's comparison table and
the generator's planted coefficients both use it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from arbeidsindikator.data import reference as ref
from arbeidsindikator.synthetic import targets

SYNTHETIC = Path(targets.__file__).resolve().parent


@pytest.mark.parametrize("outcome", ref.OUTCOMES)
def test_generator_plants_the_reference_map(outcome: str) -> None:
    gen = targets.published_coefficients(outcome)
    book = ref.published_coefficients(list(ref.TABLE4_NAMES))[outcome]
    assert list(gen.index) == list(ref.TABLE4_NAMES)
    np.testing.assert_array_equal(gen.to_numpy(), book.to_numpy())


def test_every_name_maps_to_printed_rows() -> None:
    t4 = ref.load_table4().set_index(["block", "category"])
    for name in ref.TABLE4_NAMES:
        rows = ref.table4_rows(name)
        assert rows, name
        assert all(r in t4.index for r in rows), (name, rows)
    assert len(set(ref.TABLE4_NAMES)) == len(ref.TABLE4_NAMES)


def test_reading_judgements() -> None:
    t4 = ref.load_table4().set_index(["block", "category"])
    has = t4.loc[("pensjonsgivende_inntekt", "Har pensjonsgivende inntekt"), "atid3"]
    pub = ref.published_coefficients(["inntekt[pgi_ingen]", "inntekt[pgi_d3]", "landgruppe_botid[2:13-24]",
                                      "nav_varighet[60+]", "timer_t[>38]", "inntekt[lonn_ingen]"])
    assert pub.loc["inntekt[pgi_ingen]", "atid3"] == has  # the pensionable-income source's indicator
    assert pub.loc["inntekt[pgi_d3]", "atid3"] == has + t4.loc[("pensjonsgivende_inntekt", "desil 3"), "atid3"]
    assert pub.loc["landgruppe_botid[2:13-24]", "atid3"] == (t4.loc[("botid", "Botid 13-24 mnd."), "atid3"]
        + t4.loc[("landgruppe_x_botid", "landgruppe 2: Botid 13-24 mnd."), "atid3"])
    assert np.isnan(pub.loc["inntekt[lonn_ingen]", "atid3"])  # the reference level: no counterpart


def test_no_second_map_in_the_generator() -> None:
    """Table 4's printed labels appear only in data/reference.py, not in the generator."""
    for p in SYNTHETIC.glob("*.py"):
        text = p.read_text(encoding="utf-8")
        for label in ("Botid 13-24", "måneder", "Har pensjonsgivende", "Mer enn 38 timer", "kategori "):
            assert label not in text, (p.name, label)
