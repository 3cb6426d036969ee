"""`unmentoring report`: the click command (cli.py registers it with `main.add_command(report_command)`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from report import FORMATS
from wording import plural


@click.command("report")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write index.html, open/ and export/ into (created if missing).")
@click.option("--names", is_flag=True, help="Show names and addresses (the report is then not for publishing).")
@click.option("--orgs/--no-orgs", default=True, show_default=True,
              help="Name organisations (they are not personal data); --no-orgs shows 'organisation A', ...")
@click.option("--format", "formats", type=click.Choice(FORMATS), multiple=True,
              help="Export format for export/ (repeatable; default: csv and json).")
@click.option("--rounds-in-full", "full_rounds", type=click.IntRange(1, 100), default=6, show_default=True,
              help="How many of the latest rounds to draw; older ones are summarised.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written, and the time per stage, as JSON.")
@click.pass_obj
def report_command(app: Any, out_dir: Path, names: bool, orgs: bool, formats: tuple[str, ...], full_rounds: int,
                   as_json: bool) -> None:
    """Write the network report: a self-contained HTML page plus CSV/JSON/GraphML exports.

    The page opens from disk with no internet and no JavaScript. By default people
    are anonymous dots coloured by organisation, so it can be published; the files
    in open/ can always be published as they are.

    \b
    Example:
      unmentoring report --out ./report && xdg-open report/index.html
      unmentoring report --out ./private --names --format csv
    """
    from models.db import reading
    from report.build import Options, build_report  # networkx and the drawing code: not on every CLI start

    options = Options(names=names, orgs=orgs, formats=formats or FORMATS, full_rounds=full_rounds,
                      title=app.settings.service.name, tz=app.settings.tz)
    with reading(app.ready_engine())() as session:
        built = build_report(session, out_dir, options, app.now())
    if as_json:
        click.echo(json.dumps({"index": str(built.index), "files": [str(f) for f in built.files],
                               "people": built.people, "rounds": built.rounds,
                               "seconds": {k: round(v, 3) for k, v in built.timings.items()}}, indent=2))
        return
    click.echo(f"report written: {built.index} ({plural(built.people, 'person')}, {plural(built.rounds, 'round')}, "
               f"{sum(built.timings.values()):.1f} s)")
    click.echo(f"  publishable as-is: {out_dir / 'open'}" + ("" if names else f" and {built.index.name}"))
    if names:
        click.echo("  this report shows names: keep it private")
