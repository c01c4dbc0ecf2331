"""`tidal token create`: issue an API token."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

app = typer.Typer(help="API tokens (stored hashed).", no_args_is_help=True)


class RoleChoice(StrEnum):
    service = "service"
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


@app.command("create")
def create(
    role: Annotated[RoleChoice, typer.Option(help="The token's role.")],
    agent: Annotated[str | None, typer.Option(help="The agent id an agent token acts for.")] = None,
    db: Annotated[
        str, typer.Option(help="Database URL (postgresql+psycopg://...) or SQLite file path.")
    ] = "tidal.db",
    label: Annotated[str | None, typer.Option(help="A note on what the token is for.")] = None,
) -> None:
    """Create a token and print it alone on the last line (works on a new database too)."""
    from service.cli.serve import database_url
    from service.persistence.store import DurableStore
    from service.tokens import Role

    if (role is RoleChoice.agent) != (agent is not None):
        raise typer.BadParameter(
            "--agent is required for --role agent, and only for it", param_hint="--agent"
        )
    store = DurableStore(database_url(db))
    try:
        store.create_schema()
        token = store.create_token(Role(role.value), agent_id=agent, label=label)
    finally:
        store.close()
    scope = f" for agent {agent}" if agent else ""
    typer.echo(f"Created a token with role {role.value}{scope}. It is shown only once:", err=True)
    typer.echo(token)
