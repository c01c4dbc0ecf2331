"""`tidal token create | list | revoke`: issue, list and revoke API tokens."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

DbOption = Annotated[
    str, typer.Option(help="Database URL (postgresql+psycopg://...) or SQLite file path.")
]

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
    db: DbOption = "tidal.db",
    label: Annotated[str | None, typer.Option(help="A note on what the token is for.")] = None,
) -> None:
    """Create a token and print it alone on the last line (works on a new database too)."""
    from tidal.service.cli.serve import database_url
    from tidal.service.http.routes.fields import ID_MAX_CHARS, ID_RULE, is_identifier
    from tidal.service.persistence.store import DurableStore
    from tidal.service.tokens import Role

    if (role is RoleChoice.agent) != (agent is not None):
        raise typer.BadParameter(
            "--agent is required for --role agent, and only for it", param_hint="--agent"
        )
    if agent is not None and not is_identifier(agent):
        raise typer.BadParameter(
            f"agent ids are 1 to {ID_MAX_CHARS} {ID_RULE}", param_hint="--agent"
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


def _existing(url: str) -> str:
    """`url`, unless it names an SQLite file that does not exist (reading or revoking
    must not create an empty database)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not Path(url.removeprefix(prefix)).is_file():
        raise typer.BadParameter(f"no database at {url.removeprefix(prefix)}", param_hint="--db")
    return url


@app.command("list")
def list_(
    db: DbOption = "tidal.db",
    json_lines: Annotated[
        bool, typer.Option("--json", help="One JSON object per token instead of a table.")
    ] = False,
) -> None:
    """Every token: id, role, agent, label, created, revoked. Secrets are never shown
    (only their hashes are stored)."""
    import orjson

    from tidal.service.cli.serve import database_url
    from tidal.service.persistence.store import make_engine
    from tidal.service.persistence.tokens import list_tokens

    engine = make_engine(_existing(database_url(db)))
    try:
        tokens = list_tokens(engine)
    finally:
        engine.dispose()
    if json_lines:
        for t in tokens:
            typer.echo(orjson.dumps(t.as_json()).decode())
        return
    typer.echo(f"{'ID':>5}  {'ROLE':<10}  {'AGENT':<16}  {'CREATED':<20}  {'REVOKED':<7}  LABEL")
    for t in tokens:
        created = t.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        typer.echo(
            f"{t.id:>5}  {t.role:<10}  {t.agent_id or '-':<16}  {created:<20}  "
            f"{'yes' if t.revoked else 'no':<7}  {t.label or ''}"
        )


@app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(min=1, help="The token's id (see `token list`).")],
    db: DbOption = "tidal.db",
) -> None:
    """Revoke a token: running services refuse it within 5 seconds."""
    from tidal.service.cli.serve import database_url
    from tidal.service.persistence.store import make_engine
    from tidal.service.persistence.tokens import revoke_token

    engine = make_engine(_existing(database_url(db)))
    try:
        revoked = revoke_token(engine, token_id)
    finally:
        engine.dispose()
    if revoked is None:
        raise typer.BadParameter(f"no token with id {token_id}", param_hint="TOKEN_ID")
    typer.echo(f"Revoked token {revoked.id} (role {revoked.role}).")
