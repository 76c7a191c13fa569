"""Layer 6, synthetic sources: seeded generators of raw extracts and of job-seeker registrations.

A source exactly as a folder of real extracts is: it writes what the contracts in
:mod:`arbeidsindikator.data` and :mod:`arbeidsindikator.profiling.contract` describe. Only
:mod:`arbeidsindikator.pipeline` imports this package (``tests/test_layers.py``).
"""
