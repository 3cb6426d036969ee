"""`unmentoring experiment plan|start|status|stop`: randomised trials of how the scheme works."""
from __future__ import annotations

import json
import secrets
from typing import Any

import click

from cli_edge import AppGroup
from wording import plural


@click.group("experiment", cls=AppGroup)
def experiment_group() -> None:
    """Run a randomised trial of how the scheme works (cadence, group size, options to book, starters).

    \b
    Example:
      unmentoring experiment plan cadence-2027 --arms monthly,two-monthly --rounds 8
      unmentoring experiment start cadence-2027
      unmentoring experiment status
    """


@experiment_group.command("plan")
@click.argument("name")
@click.option("--arms", required=True, help="Comma-separated, the usual way first: monthly,two-monthly | "
              "pairs,trios,fours | options,no-options | starters,no-starters")
@click.option("--rounds", type=click.IntRange(2, 60), default=6, show_default=True,
              help="How many rounds it should run before you read the result.")
@click.pass_obj
def experiment_plan(app: Any, name: str, arms: str, rounds: int) -> None:
    """Describe a trial; nothing changes for anyone until `experiment start`.

    \b
    Example:
      unmentoring experiment plan cadence-2027 --arms monthly,two-monthly --rounds 8
    """
    from trials.store import plan_trial

    with _writing(app) as session:
        experiment = plan_trial(session, name, [a.strip().lower() for a in arms.split(",") if a.strip()],
                                rounds, app.now())
        click.echo(f"trial {experiment.name!r} planned: {experiment.variable}, arms {experiment.arms.replace(',', ', ')}, "
                   f"{plural(rounds, 'round')}; start it with `unmentoring experiment start {experiment.name}`")


@experiment_group.command("start")
@click.argument("name")
@click.option("--seed", type=int, help="Assignment seed (default: a random one, recorded and published).")
@click.pass_obj
def experiment_start(app: Any, name: str, seed: int | None) -> None:
    """Put every active participant into an arm at random (by organisation and time as a member) and tell them.

    The trial counts from the next round drawn. Someone who confirms later joins an arm as they confirm.

    \b
    Example:
      unmentoring experiment start cadence-2027
    """
    from trials.store import start_trial
    from trials.tell import announce

    with _writing(app) as session:
        experiment, sizes = start_trial(session, name, app.now(), secrets.randbits(31) if seed is None else seed,
                                        starters=bool(app.settings.meetings.starters.strip()))
        told = announce(session, app.settings, experiment, app.now())
        arms = ", ".join(f"{arm} {plural(sizes[arm], 'person')}" for arm in experiment.arm_list)
        click.echo(f"trial {experiment.name!r} started from round {experiment.first_round}: {arms} "
                   f"(seed {experiment.seed}); {plural(told, 'email')} telling people are in the outbox")


@experiment_group.command("status")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def experiment_status(app: Any, name: str | None, as_json: bool) -> None:
    """Each trial's arms so far: people, groups, meet rate, new connections a month, pauses, leavers, the verdict.

    \b
    Example:
      unmentoring experiment status cadence-2027
    """
    from sqlalchemy import select

    from models import Experiment
    from models.db import reading
    from trials.store import find, trial_view

    with reading(app.ready_engine())() as session:
        found = [find(session, name)] if name else list(session.scalars(select(Experiment).order_by(Experiment.id)))
        views = [trial_view(session, e, app.now()) for e in found]
    if as_json:
        click.echo(json.dumps([_as_dict(v) for v in views], indent=2))
        return
    if not views:
        click.echo("no trials yet: plan one with `unmentoring experiment plan NAME --arms monthly,two-monthly`")
    for view in views:
        click.echo("\n".join(status_lines(view)))


def status_lines(view: Any) -> list[str]:
    e = view.experiment
    state = ("planned, not started" if e.started_at is None else
             f"stopped {e.stopped_at:%d %b %Y}{' early' if e.stopped_early else ''}" if e.stopped_at else "running")
    lines = [f"{e.name}: {view.variable.what} ({state}; {plural(view.rounds_done, 'round')} of {e.rounds} done)"]
    for a in view.arms:
        lines.append(f"  {a.label}: {plural(a.people, 'person')}, {plural(a.groups, 'group')}, met {a.rate:.0%} "
                     f"({a.met} of {a.seen}), {a.connections_per_month:.2f} new connections a person a month, "
                     f"{a.paused} paused, {a.left} left")
    if e.started_at is not None:
        lines.append(f"  {view.sentence}")
    return lines


def _as_dict(view: Any) -> dict[str, Any]:
    e, d = view.experiment, view.difference
    return {"name": e.name, "variable": e.variable, "seed": e.seed, "rounds_done": view.rounds_done,
            "running": e.running, "stopped_early": e.stopped_early, "sentence": view.sentence,
            "difference": None if d is None else {"estimate": d.estimate, "low": d.low, "high": d.high},
            "arms": [{"arm": a.arm, "people": a.people, "groups": a.groups, "met": a.met, "seen": a.seen,
                      "connections_per_month": a.connections_per_month, "paused": a.paused, "left": a.left}
                     for a in view.arms]}


@experiment_group.command("stop")
@click.argument("name")
@click.pass_obj
def experiment_stop(app: Any, name: str) -> None:
    """End a trial and keep its result; everyone goes back to the usual way from the next round.

    \b
    Example:
      unmentoring experiment stop cadence-2027
    """
    with _writing(app) as session:
        from trials.store import stop_trial

        view = stop_trial(session, name, app.now())
        click.echo("\n".join(status_lines(view)))


class _writing:
    """One transaction for a command; a trial error becomes one line saying what to do."""

    def __init__(self, app: Any) -> None:
        from models.db import sessions

        self.session = sessions(app.ready_engine())()

    def __enter__(self) -> Any:
        self.session.begin()
        return self.session

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        from trials.variables import TrialError

        if kind is None:
            self.session.commit()
        else:
            self.session.rollback()
        self.session.close()
        if isinstance(exc, TrialError):
            raise click.ClickException(str(exc))
        return False
