"""Command line: `finder …` (or `flask --app finder …`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from finder.config import default_raw_data


@click.command("build-geodata")
@click.option(
    "--raw",
    "raw_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder of raw releases laid out like shared/data-raw (default: FINDER_RAW_DATA or ../shared/data-raw).",
)
@click.option(
    "--download/--no-download", default=True, help="Download the official releases when no raw folder exists."
)
@click.option("--force", is_flag=True, help="Rebuild even when geodata/ is present and matches its manifest.")
@with_appcontext
def build_geodata(raw_dir: Path | None, download: bool, force: bool) -> None:
    """Build geodata/ from the official open data (postcodes, wards, boroughs)."""
    from finder.geo import build as geobuild

    out_dir = Path(current_app.config["GEODATA_DIR"])
    if not force and geobuild.is_built(out_dir):
        click.echo(f"geodata: {out_dir} is built and matches its manifest; nothing to do (--force rebuilds)")
        return
    raw_dir = raw_dir or default_raw_data()
    if not raw_dir.exists():
        if not download:
            raise click.ClickException(f"no raw data at {raw_dir} and --no-download given")
        from finder.geo import download as geodownload

        raw_dir = out_dir / "raw"
        click.echo(f"geodata: no local mirror; downloading the official releases into {raw_dir}")
        geodownload.fetch_all(raw_dir, log=click.echo)
    click.echo(f"geodata: building from {raw_dir}")
    geobuild.build(raw_dir, out_dir, log=click.echo)


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    app.cli.add_command(build_geodata)


def _create_app():
    from finder import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """finder: London postcode to neighbourhood policing team."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
