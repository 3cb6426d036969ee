"""The network report: load the history (data), compute (figures, layout), draw (svg, pictures), write (html, export).

API::

    build_report(session, out_dir, Options(...), now) -> Built    # report/build.py
"""
from report.build import Built, Options, build_report

__all__ = ["Built", "Options", "build_report"]
