"""Randomised trials of how the scheme works (issue 17): assign people to arms, and read the result soundly.

The pure parts live here with no I/O: :mod:`trials.assign` (stratified, seeded assignment),
:mod:`trials.analysis` (meet rate per arm, the difference with a 95 % interval that allows for
people recurring across groups, and a plain sentence), :mod:`trials.simulate` (communities with a
known effect, for the calibration test and the demo).
"""
