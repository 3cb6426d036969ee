"""The network report: load the history (data), compute (figures, layout), draw (svg, pictures), write (html, export).

API::

    build_report(session, out_dir, Options(...), now) -> Built    # report/build.py

Nothing is imported here, so `tick` can import :mod:`report.digest` without
paying for networkx and the drawing code on runs that send no digest, and the
CLI starts without them.
"""

FORMATS = ("csv", "json")   # of export/
