"""What the CLI prints is text, not rich markup: help texts that mention `[[stores]]` show it,
data holding brackets (the `[b2bsync]` marker, a setting's name) is printed as it is, and help
paragraphs are written to reflow instead of keeping the source's line breaks."""

from __future__ import annotations

import click
import pytest
import typer
from typer.testing import CliRunner

from b2bsync.cli import app
from b2bsync.commands.runtime import fail, out

runner = CliRunner()


def _commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []

    def walk(command: click.Command, path: str) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    return found


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["webhooks", "install"], "[[stores]]"),
        (["webhooks", "list"], "[[stores]]"),
        (["writeback", "run"], "TOML file of [[rule]] tables (default: [[writeback]]"),
    ],
)
def test_help_shows_bracketed_names(command: list[str], shown: str) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert shown in result.output


def test_help_texts_are_written_to_reflow() -> None:
    # typer keeps the line breaks of a command's first paragraph in command lists, and of every
    # option's help text that does not go through its joining: no manual break may sit inside.
    broken = [
        path or "b2bsync"
        for path, command in _commands()
        if "\n" in (command.help or "").split("\n\n")[0]
    ]
    broken += [
        f"{path} {param.name}"
        for path, command in _commands()
        for param in command.params
        if "\n" in (getattr(param, "help", None) or "")
    ]
    assert broken == []


def test_the_command_list_shows_whole_first_sentences() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "Show watermarks, lag, orders by state, outbox, dead letters, rate budget and " in (
        result.output
    )


def test_printed_data_keeps_its_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    out.print("[b2bsync] Invoice payment for INV-1 [bold]x[/]", highlight=False)
    assert capsys.readouterr().out == "[b2bsync] Invoice payment for INV-1 [bold]x[/]\n"


def test_an_error_message_keeps_its_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    exit_ = fail("[bigcommerce] and [[stores]] cannot be used together", 2)
    assert exit_.exit_code == 2
    assert capsys.readouterr().err == (
        "Error: [bigcommerce] and [[stores]] cannot be used together\n"
    )
