"""The operator's OTP commands: the texts ``/otp/send`` uses, per language."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ileti.cli.app import app
from ileti.cli.common import run_with_services, show

if TYPE_CHECKING:
    from ileti.services import Services

otp_app = typer.Typer(help="One-time passwords: the texts /otp/send uses.", no_args_is_help=True)
template_app = typer.Typer(
    help="OTP texts per language (0 English, 1 Turkish, 2 Arabic).", no_args_is_help=True
)
otp_app.add_typer(template_app, name="template")
app.add_typer(otp_app, name="otp")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Lang = Annotated[int, typer.Argument(min=0, max=2, help="0 English, 1 Turkish, 2 Arabic.")]


@template_app.command("list")
def template_list(json_output: JsonFlag = False) -> None:
    """Each language's text, and whether it is the one that ships."""

    async def work(services: Services) -> list[dict[str, object]]:
        texts = await services.otps.templates()
        return [
            {"lang": int(lang), "language": lang.name.lower(), "text": text, "changed": changed}
            for lang, (text, changed) in texts.items()
        ]

    rows = run_with_services(work)
    show(rows, ["lang", "language", "text", "changed"], json_output, "OTP templates")


@template_app.command("set")
def template_set(lang: Lang, text: str) -> None:
    """Replace a language's text; it must contain TS-CODE, which becomes the code."""
    from ileti.domain.otp import OtpLang

    async def work(services: Services) -> None:
        await services.otps.set_template(OtpLang(lang), text)

    run_with_services(work)
    typer.echo(f"OTP template {OtpLang(lang).name.lower()} set")


@template_app.command("reset")
def template_reset(lang: Lang) -> None:
    """Go back to the text that ships."""
    from ileti.domain.otp import OtpLang

    async def work(services: Services) -> None:
        await services.otps.reset_template(OtpLang(lang))

    run_with_services(work)
    typer.echo(f"OTP template {OtpLang(lang).name.lower()} reset")
