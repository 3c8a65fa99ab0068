"""The `finder` command (setup.cfg's entry point): finder/commands.py on the app that `create_app` builds."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from finder import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True)
def main() -> None:
    """finder: London postcode to neighbourhood policing team."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
