"""The app's commands: `finder …` (finder/cli.py) or `flask --app finder …`.

Each uses the app's Services: its geodata (loaded once), its store (`command_store`: no DB_TIMEOUT), its mailer."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext

from finder.config import default_raw_data
from finder.coverage.nudges import render_digest
from finder.coverage.service import ward_coverage
from finder.geo import maps
from finder.lookup.boroughs import boroughs as all_boroughs
from finder.lookup.service import load_forces
from finder.staff.accounts import Accounts, FormErrors
from finder.staff.digest import digests, london_today, month_start, no_team_reports, send_digests
from finder.staff.notices import send_reminders, waiting
from finder.staff.views.notify import render_waiting
from finder.staff.views.wards import ward_name
from finder.store import Store
from finder.store.migrate import current, ensure_ready, head, upgrade
from finder.store.models import utcnow
from finder.store.staff import Role
from finder.teams.samples import load_sample_teams, remove_sample_teams
from finder.teams.snapshot import SnapshotError, has_teams, load_snapshot, snapshot_path
from finder.web import services

# Where the official releases are read from, for the commands that read them.
RAW_OPTION = click.option(
    "--raw",
    "raw_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder of raw releases laid out like shared/data-raw (default: FINDER_RAW_DATA or ../shared/data-raw).",
)


@click.command("build-geodata")
@RAW_OPTION
@click.option(
    "--download/--no-download", default=True, help="Download the official releases when no raw folder exists."
)
@click.option("--force", is_flag=True, help="Rebuild even when geodata/ is present and matches its manifest.")
@with_appcontext
def build_geodata(raw_dir: Path | None, download: bool, force: bool) -> None:
    """Build geodata/ from the official open data (postcodes, wards, boroughs)."""
    from finder.geo import build as geobuild  # here: 183 ms and pandas, which no server process needs

    out_dir = Path(current_app.config["GEODATA_DIR"])
    if not force and geobuild.is_built(out_dir):
        _draw_map_scripts_if_stale(out_dir)
        click.echo(f"geodata: {out_dir} is built and matches its manifest; nothing to do (--force rebuilds)")
        return
    raw_dir = raw_dir or default_raw_data()
    if not raw_dir.exists():
        if not download:
            raise click.ClickException(f"no raw data at {raw_dir} and --no-download given")
        from finder.geo import download as geodownload  # here: 197 ms, pandas and requests, for this case only

        raw_dir = out_dir / "raw"
        click.echo(f"geodata: no local mirror; downloading the official releases into {raw_dir}")
        geodownload.fetch_all(raw_dir, log=click.echo)
    click.echo(f"geodata: building from {raw_dir}")
    geobuild.build(raw_dir, out_dir, log=click.echo)


def _draw_map_scripts_if_stale(out_dir: Path) -> None:
    """Geodata built before ward_maps.json, or by another version of finder/geo/maps.py or Folium, gets its
    map scripts drawn again: without them every worker would import Folium and draw each ward on demand."""
    if maps.prebuilt_scripts(out_dir) is not None:
        return
    click.echo("geodata: drawing each ward's map script (none yet, or drawn by another version)")
    wards = services(current_app).geodata.wards
    drawn = out_dir / (maps.SCRIPTS_FILE + ".tmp")
    maps.write_map_scripts(wards, drawn)
    drawn.replace(out_dir / maps.SCRIPTS_FILE)  # whole or not at all, for a server starting meanwhile


def _force_names() -> dict[str, str]:
    return {force_id: force.name for force_id, force in load_forces().items()}


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the team store or upgrade it to the newest schema (Alembic migrations)."""
    store = services(current_app).command_store
    before = current(store)
    upgrade(store)
    click.echo(f"store: {store!r} at schema {head()}" + (f" (was {before})" if before != head() else " (no change)"))
    if not has_teams(store):  # a new store starts with police.uk's dated snapshot, where the raw files are
        _load_snapshot(store, default_raw_data(), missing_ok=True)
    store.dispose()


def _load_snapshot(store: Store, raw_dir: Path, *, missing_ok: bool) -> None:
    path = snapshot_path(raw_dir)
    if not path.exists():
        message = f"snapshot: no {path}; teams come from sync-policeuk on a connected machine"
        if missing_ok:
            click.echo(message)
            return
        raise click.ClickException(message)
    wards = services(current_app).geodata.wards.wards
    try:
        report = load_snapshot(store, path, wards, _force_names()["metropolitan"])
    except SnapshotError as exc:
        raise click.ClickException(str(exc)) from None
    services(current_app).announce()  # every team, to every running worker (FINDER_REDIS_URL)
    for line in report.lines():
        click.echo(line)


@click.command("load-snapshot")
@RAW_OPTION
@with_appcontext
def load_snapshot_command(raw_dir: Path | None) -> None:
    """Store each Met ward's team mailbox and accounts as published on police.uk in March 2023 (safe to rerun:
    an officer's record and anything synced from police.uk since are kept)."""
    store = services(current_app).command_store
    ensure_ready(store)
    try:
        _load_snapshot(store, raw_dir or default_raw_data(), missing_ok=False)
    finally:
        store.dispose()


@click.command("sync-policeuk")
@click.option(
    "--force",
    "forces",
    multiple=True,
    required=True,
    type=click.Choice(["metropolitan", "city-of-london"]),
    help="The police force to sync (repeat for both).",
)
@click.option("--dry-run", is_flag=True, help="Fetch everything and print what would change; write nothing.")
@click.option("--restart", is_flag=True, help="Start a new run rather than resume an unfinished one.")
@click.option("--verbose", "-v", is_flag=True, help="Print every change, not just the summary.")
@click.option(
    "--allow-shrink",
    is_flag=True,
    help="Believe a listing or team that loses more than 20% (and at least 2) of what the store holds; "
    "without it such answers are reported and nothing of them is removed.",
)
@click.option("--url", default=None, help="API base URL (default FINDER_POLICEUK_URL).")
@click.option("--rate", type=float, default=None, help="Requests per second (default FINDER_POLICEUK_RATE, 14).")
@click.option("--burst", type=int, default=None, help="Largest burst of requests (default FINDER_POLICEUK_BURST).")
@click.option("--workers", type=int, default=None, help="Neighbourhoods fetched at once (default 4).")
@with_appcontext
def sync_policeuk(
    forces: tuple[str, ...],
    dry_run: bool,
    restart: bool,
    verbose: bool,
    allow_shrink: bool,
    url: str | None,
    rate: float | None,
    burst: int | None,
    workers: int | None,
) -> None:
    """Fill the store with neighbourhood teams from data.police.uk (resumes an unfinished run)."""
    # Here, not at the top: 81 ms and requests, which no server needs.
    from finder.teams.policeuk_client import PoliceUK
    from finder.teams.sync import Sync, SyncError, WardMatcher

    config = current_app.config
    wards = services(current_app).geodata.wards
    store = services(current_app).command_store
    ensure_ready(store)
    failed = False
    for force_id in forces:
        client = PoliceUK(
            url or config["POLICEUK_URL"],
            rate=rate or config["POLICEUK_RATE"],
            burst=burst or config["POLICEUK_BURST"],
        )
        sync = Sync(
            store,
            client,
            WardMatcher(wards.wards, index=wards),
            _force_names(),
            workers=workers or config["POLICEUK_WORKERS"],
            log=click.echo,
        )
        try:
            report = sync.run(force_id, dry_run=dry_run, restart=restart, verbose=verbose, allow_shrink=allow_shrink)
        except SyncError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo(f"{force_id}: interrupted; the next sync-policeuk resumes where this one stopped", err=True)
            raise SystemExit(130) from None
        finally:
            if not dry_run:  # what it wrote, to every running worker (FINDER_REDIS_URL)
                services(current_app).announce()
        for line in report.lines():
            click.echo(line)
        failed = failed or report.status != "complete"
    store.dispose()
    if failed:
        raise SystemExit(1)


@click.command("load-sample-teams")
@click.option("--remove", is_flag=True, help="Remove every sample team and place instead.")
@with_appcontext
def load_sample_teams_command(remove: bool) -> None:
    """Load fictional sample teams for a handful of wards (demos and browser tests); marked as sample everywhere."""
    store = services(current_app).command_store
    ensure_ready(store)
    if remove:
        click.echo(f"sample teams: removed {remove_sample_teams(store)}")
        services(current_app).announce()
        return
    report = load_sample_teams(store, _force_names())
    services(current_app).announce()
    for line in report.loaded:
        click.echo(f"sample team: {line}")
    for line in report.skipped:
        click.echo(f"skipped: {line}")
    click.echo(f"sample teams: {len(report.loaded)} loaded, {report.changes} changes; all are fictional")
    store.dispose()


SERVE_URL = "http://127.0.0.1:5000"  # ./scripts/serve's default address, for links without FINDER_PUBLIC_URL


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="", help="Their name as staff see it (default: the email's part before the @).")
@with_appcontext
def create_admin(email: str, name: str) -> None:
    """Make a site admin and print their invitation link (they set their own password through it)."""
    store = services(current_app).command_store
    ensure_ready(store)
    service = Accounts(store, secret=current_app.config["SECRET_KEY"])
    try:
        account, token = service.invite(
            None,
            email=email,
            name=name or email.partition("@")[0],
            role=Role.SITE_ADMIN,
            borough_of=lambda _code: None,
            boroughs=(),
        )
    except FormErrors as error:
        raise click.ClickException("; ".join(error.errors.values())) from None
    finally:
        store.dispose()
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"] or SERVE_URL):
        link = url_for("admin.invitation", token=token, _external=True)
    click.echo(f"site admin {account.email} created. Send them this link; it works once, within 24 hours:")
    click.echo(link)


@click.command("send-digest")
@click.option("--dry-run", is_flag=True, help="List who would get which wards and reminders; send nothing.")
@with_appcontext
def send_digest(dry_run: bool) -> None:
    """Email each ward editor and borough admin the wards that need attention (once a week each), and each borough
    admin the changes waiting for their review (once a day each). Run it daily."""
    config = current_app.config
    wards = services(current_app).geodata.wards
    mailer = services(current_app).mailer
    store = services(current_app).command_store
    ensure_ready(store)
    now = utcnow()
    report = ward_coverage(store, wards, now)
    found = digests(store, report, no_team_reports(store, month_start(london_today(now))), config["DIGEST_THRESHOLD"])
    reminders = waiting(store, lambda code: ward.borough_code if (ward := wards.get(code)) else None)
    if dry_run or mailer is None:
        for digest in found:
            click.echo(f"{digest.email}: {len(digest.wards)} wards")
        for reminder in reminders:
            click.echo(f"{reminder.email}: {len(reminder.entries)} changes waiting for review")
        why = "dry run" if dry_run else "FINDER_SMTP_URL is not set, so nothing was emailed"
        click.echo(f"digest: {len(found)} people have wards that need attention ({why}; each sees the list at /admin)")
        click.echo(f"reminders: {len(reminders)} borough admins have changes waiting ({why}; /admin/review lists them)")
        store.dispose()
        return
    base_url = config["PUBLIC_URL"] or SERVE_URL
    host = urlsplit(base_url).hostname
    names = {code: b.name for code, b in all_boroughs(wards).items()}

    def deliver(digest) -> None:
        with current_app.test_request_context(base_url=base_url):
            subject, text, html = render_digest(digest)
        mailer.send(host=host, to=digest.email, subject=subject, body=text, html=html)

    def remind(reminder) -> None:
        with current_app.test_request_context(base_url=base_url):
            borough = names.get(reminder.borough_code, reminder.borough_code)
            subject, text, html = render_waiting(reminder, ward_name=ward_name, borough_name=borough)
        mailer.send(host=host, to=reminder.email, subject=subject, body=text, html=html)

    done = send_digests(store, found, deliver, now)
    reminded = send_reminders(store, reminders, remind, london_today(now), now)
    store.dispose()
    click.echo(f"digest: {len(done.sent)} sent, {len(done.already)} already sent this week, {len(done.failed)} failed")
    click.echo(
        f"reminders: {len(reminded.sent)} sent, {len(reminded.already)} already sent today, "
        f"{len(reminded.failed)} failed"
    )
    for email, why in done.failed + reminded.failed:
        click.echo(f"not sent to {email}: {why}", err=True)
    if done.failed or reminded.failed:
        raise SystemExit(1)


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@with_appcontext
def backup_command(path: Path) -> None:
    """Copy the whole team store to PATH while the finder runs (SQLite's online backup; PostgreSQL's pg_dump)."""
    from finder.ops.backup import BackupError, backup

    store = services(current_app).command_store
    try:
        backup(store, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()
    click.echo(f"backup: {store!r} written to {path}")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--replace", is_flag=True, help="Overwrite a store that is not empty (its contents are lost).")
@with_appcontext
def restore_command(path: Path, replace: bool) -> None:
    """Load a backup made by `finder backup` into the team store (an empty one, unless --replace)."""
    from finder.ops.backup import BackupError, restore

    store = services(current_app).command_store
    try:
        restore(store, path, replace=replace)
        revision = current(store)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()
    services(current_app).announce()  # every team, to every running worker (FINDER_REDIS_URL)
    behind = "" if revision == head() else f"; it is behind this code's schema {head()}: run `finder init-db`"
    click.echo(f"restore: {path} loaded into {store!r}, at schema {revision}{behind}")


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    app.cli.add_command(build_geodata)
    app.cli.add_command(init_db)
    app.cli.add_command(load_snapshot_command)
    app.cli.add_command(sync_policeuk)
    app.cli.add_command(load_sample_teams_command)
    app.cli.add_command(create_admin)
    app.cli.add_command(send_digest)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
