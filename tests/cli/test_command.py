"""The `tidal` command as a whole: version, help, and where it finds its folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidal.service.cli import app, tidal_version
from tidal.service.cli.serve import first_start_banner, tidal_command

REPOSITORY = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_version_prints_the_installed_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"tidal {tidal_version()}\n"
    assert tidal_version()[0].isdigit()


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["train"], ["evaluate"], ["rules", "check"], ["token", "create"]]
)
def test_help_shows_no_type_beside_flags(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0
    assert "--help" in result.stdout
    assert "<bool>" not in result.stdout


def test_help_still_shows_the_type_of_options_that_take_a_value() -> None:
    result = runner.invoke(app, ["serve", "--help"], terminal_width=100)
    assert "<integer range>" in result.stdout or "<int" in result.stdout


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["rules", "check"], "tidal rules check DIR"),
        (["classify", "hi", "--direction", "inbound"], "--rules DIR"),
        (["replay", "-"], "--rules DIR"),
        (["serve"], "--rules DIR"),
        (["train"], "--data DIR"),
        (["evaluate"], "--eval DIR"),
    ],
)
def test_outside_the_repository_a_command_says_where_it_looked_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], option: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIDAL_HOME", raising=False)
    result = runner.invoke(app, command, terminal_width=400)
    assert result.exit_code == 2
    output = " ".join(result.output.replace("│", " ").split())
    assert "there is no" in output and f"folder at {tmp_path}/" in output
    assert option in output and "TIDAL_HOME" in output
    assert "Errno" not in output


def test_tidal_home_points_the_defaults_at_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIDAL_HOME", str(REPOSITORY))
    checked = runner.invoke(app, ["rules", "check"])
    assert checked.exit_code == 0, checked.output
    assert "files OK" in checked.stdout
    classified = runner.invoke(app, ["classify", "no thanks", "--direction", "inbound"])
    assert classified.exit_code == 0, classified.output
    assert json.loads(classified.stdout.splitlines()[-1])["intent"] == "deny"


def test_a_folder_named_on_the_command_line_is_taken_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIDAL_HOME", str(REPOSITORY))
    result = runner.invoke(app, ["rules", "check", str(tmp_path / "elsewhere")])
    assert result.exit_code == 2
    assert "elsewhere" in result.output


def test_the_command_printed_for_more_tokens_is_the_running_executable(tmp_path: Path) -> None:
    script = tmp_path / "venv" / "bin" / "tidal"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    assert tidal_command(str(script)) == str(script)
    assert tidal_command(".venv/bin/tidal") == str(Path(".venv/bin/tidal").absolute())


def test_the_first_start_banner_names_the_desk_and_a_working_token_command() -> None:
    banner = first_start_banner(
        "tidal_x", "0.0.0.0", 8000, "sqlite:///my db.sqlite", command="/opt/tidal/bin/tidal"
    )
    assert "Open the desk at http://127.0.0.1:8000/ and sign in with it" in banner
    assert "/opt/tidal/bin/tidal token create --role supervisor --db 'sqlite:///my db.sqlite'" in (
        banner
    )
