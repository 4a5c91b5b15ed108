"""The customer's commands: ``ileti send``, ``ileti send-file`` and ``ileti campaign``.

They talk to a gateway over HTTP with an API key, as any client of the API does, so a customer
runs them on their own machine: nothing here touches the database or the services. httpx and
rich are imported when a command runs, which keeps ``ileti --help`` quick.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ileti.cli.app import app
from ileti.cli.common import fail, show, show_one

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

campaign_app = typer.Typer(
    help="Campaigns sent from a file: list, follow, cancel.", no_args_is_help=True
)
app.add_typer(campaign_app, name="campaign", rich_help_panel="Customer")

Url = Annotated[
    str,
    typer.Option(
        "--url", envvar="ILETI_URL", help="The gateway's address.", rich_help_panel="Connection"
    ),
]
Key = Annotated[
    str,
    typer.Option(
        "--key",
        envvar="ILETI_API_KEY",
        help="The API key (better given as ILETI_API_KEY than on the command line).",
        show_default=False,
        rich_help_panel="Connection",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Title = Annotated[str, typer.Option("--title", help="The sender ID (title), as registered.")]
SmsLang = Annotated[str, typer.Option("--sms-lang", help="auto, 0 English, 1 Turkish, 2 Unicode.")]
ContentType = Annotated[
    int | None,
    typer.Option(
        "--content-type", min=0, max=2, help="0 transactional, 1 high quality, 2 advertising."
    ),
]
At = Annotated[
    str | None,
    typer.Option("--at", help='Send later: "YYYY-MM-DD HH:MM", Istanbul time.'),
]

DEFAULT_URL = "http://127.0.0.1:8000"
LANGS = ("auto", "0", "1", "2")
AT_FORMAT = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{1,2}:\d{2})$")
# Where a message's life ends; a campaign is done when every message has reached one.
FINAL = ("delivered", "failed", "expired", "cancelled")
POLL_SECONDS = 1.0
UPLOAD_CHUNK = 64 * 1024
CAMPAIGN_COLUMNS = [
    "id",
    "name",
    "file_name",
    "created_at",
    "due_at",
    "total",
    "queued",
    "sent",
    "delivered",
    "failed",
    "expired",
    "cancelled",
]


@dataclass(frozen=True)
class Gateway:
    """A gateway's address and the key that speaks for the account."""

    url: str
    key: str

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` (with the key) as JSON; the success envelope, or a clean exit 1."""
        return self._answer(lambda client: client.post(path, json={"api_key": self.key, **body}))

    def upload(
        self, path: str, fields: dict[str, str], file: Path, console: Console
    ) -> dict[str, Any]:
        """POST ``fields`` and ``file`` as multipart/form-data, with a bar counting bytes sent."""
        form = Multipart({"api_key": self.key, **fields}, file)
        with _bar(console, transient=True) as progress:
            task = progress.add_task(f"Uploading {file.name}", total=form.length)

            def sent(count: int) -> None:
                progress.advance(task, count)

            return self._answer(
                lambda client: client.post(
                    path,
                    content=form.chunks(sent),
                    headers={"Content-Type": form.content_type, "Content-Length": str(form.length)},
                )
            )

    def csv(self, path: str, body: dict[str, Any]) -> bytes:
        """POST ``body`` as JSON and return the text/csv answer."""
        import httpx

        try:
            with httpx.Client(base_url=self.url, timeout=120) as client:
                response = client.post(path, json={"api_key": self.key, **body})
        except httpx.TransportError as exc:
            fail(self._unreachable(exc))
        if response.headers.get("content-type", "").startswith("text/csv"):
            return response.content
        self._envelope(response)
        fail(f"{self.url} did not answer {path} with a CSV file")

    def _answer(self, send: Any) -> dict[str, Any]:
        import httpx

        try:
            with httpx.Client(base_url=self.url, timeout=httpx.Timeout(120, connect=10)) as client:
                response = send(client)
        except httpx.TransportError as exc:
            fail(self._unreachable(exc))
        return self._envelope(response)

    def _envelope(self, response: httpx.Response) -> dict[str, Any]:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "result" not in answer:
            fail(
                f"{self.url} did not answer as an ileti gateway "
                f"(HTTP {response.status_code} for {response.request.url.path})"
            )
        if answer["result"] is not True:
            fail(f"{answer.get('result_code')} {answer.get('result_message')}")
        return answer

    def _unreachable(self, exc: Exception) -> str:
        return f"cannot reach the gateway at {self.url} ({type(exc).__name__}: {exc})"


class Multipart:
    """A multipart/form-data body streamed in chunks, so an upload's progress can be counted."""

    def __init__(self, fields: dict[str, str], file: Path) -> None:
        self.boundary = secrets.token_hex(16)
        self.file = file
        head = b"".join(
            self._part_head(f'name="{name}"') + value.encode() + b"\r\n"
            for name, value in fields.items()
        )
        quoted = file.name.replace('"', "%22")
        self.head = head + self._part_head(f'name="file"; filename="{quoted}"', file=True)
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.length = len(self.head) + file.stat().st_size + len(self.tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def chunks(self, sent: Any) -> Iterator[bytes]:
        yield self.head
        sent(len(self.head))
        with self.file.open("rb") as source:
            while chunk := source.read(UPLOAD_CHUNK):
                yield chunk
                sent(len(chunk))
        yield self.tail
        sent(len(self.tail))

    def _part_head(self, disposition: str, *, file: bool = False) -> bytes:
        kind = "Content-Type: application/octet-stream\r\n" if file else ""
        return (
            f"--{self.boundary}\r\nContent-Disposition: form-data; {disposition}\r\n{kind}\r\n"
        ).encode()


def _bar(console: Console, *, transient: bool = False) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=transient,
    )


def _schedule(at: str | None) -> dict[str, Any]:
    """``--at`` as the API's scheduling fields; the gateway checks that it is in the future."""
    if at is None:
        return {}
    match = AT_FORMAT.match(at.strip())
    if match is None:
        raise typer.BadParameter('give the time as "YYYY-MM-DD HH:MM"', param_hint="--at")
    return {"scheduled_sms": 1, "scheduled_date": match[1], "scheduled_time": match[2]}


def _lang(sms_lang: str) -> str | int:
    if sms_lang not in LANGS:
        raise typer.BadParameter("one of auto, 0, 1, 2", param_hint="--sms-lang")
    return sms_lang if sms_lang == "auto" else int(sms_lang)


def _dropping_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


@app.command("send", rich_help_panel="Customer")
def send(
    numbers: Annotated[list[str], typer.Argument(help="Recipients' numbers.")],
    title: Title,
    text: Annotated[str, typer.Option("--text", help="The message.")],
    sms_lang: SmsLang = "auto",
    content_type: ContentType = None,
    at: At = None,
    url: Url = DEFAULT_URL,
    key: Key = "",
    json_output: JsonFlag = False,
) -> None:
    """Send one text to one or more numbers through a gateway."""
    gateway = _gateway(url, key)
    body = _dropping_none(
        {
            "title": title,
            "text": text,
            "sms_lang": _lang(sms_lang),
            "content_type": content_type,
            **_schedule(at),
        }
    )
    if len(numbers) == 1:
        answer = gateway.call("/sms/send", {**body, "sentto": numbers[0]})
    else:
        answer = gateway.call("/group/send", {**body, "sentto": numbers})
    fields = {name: value for name, value in answer.items() if not name.startswith("result")}
    show_one(fields, json_output, "Accepted")


@app.command("send-file", rich_help_panel="Customer")
def send_file(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="xlsx, xls, ods or csv."),
    ],
    title: Title,
    text: Annotated[str, typer.Option("--text", help="The template: {Column} placeholders.")],
    phone_column: Annotated[
        str | None, typer.Option("--phone-column", help="The phone column's header.")
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="The sheet to read.")] = None,
    header: Annotated[
        bool, typer.Option("--header/--no-header", help="Whether the first row names columns.")
    ] = True,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="A CSV's encoding, if not UTF-8/cp1254.")
    ] = None,
    sms_lang: SmsLang = "auto",
    content_type: ContentType = None,
    at: At = None,
    name: Annotated[str | None, typer.Option("--name", help="The campaign's name.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Stop after the preview.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Send without asking.")] = False,
    url: Url = DEFAULT_URL,
    key: Key = "",
    json_output: JsonFlag = False,
) -> None:
    """Preview a spreadsheet campaign, then send it and follow it to the end.

    The last line printed is the campaign's id.
    """
    from rich.console import Console

    gateway = _gateway(url, key)
    schedule = _schedule(at)
    options = _dropping_none(
        {
            "phone_column": phone_column,
            "sheet": sheet,
            "header": header,
            "encoding": encoding,
            "sms_lang": _lang(sms_lang),
            "content_type": content_type,
        }
    )
    # People read tables and bars; with --json only the one object goes to stdout.
    console = Console(stderr=json_output)
    form = {name: str(value).lower() for name, value in options.items()}
    preview = gateway.upload(
        "/campaign/preview", {"text": text, "title": title, **form}, file, console
    )
    summary = _summary(preview)
    if not json_output:
        _show_preview(console, preview)
    if dry_run or summary["valid"] == 0:
        if json_output:
            typer.echo(json.dumps(summary, ensure_ascii=False))
        if summary["valid"] == 0 and not dry_run:
            fail("no row of this file can be sent; nothing was started")
        return
    if not yes and not typer.confirm(
        f"Send {summary['valid']} messages for {summary['credits']} credits?", err=json_output
    ):
        fail("not sent")
    started = gateway.call(
        "/campaign/start",
        _dropping_none(
            {
                "upload_id": preview["upload_id"],
                "text": text,
                "title": title,
                "name": name,
                **options,
                **schedule,
            }
        ),
    )
    campaign_id = int(started["campaign_id"])
    if json_output:
        typer.echo(json.dumps({**summary, "group_id": campaign_id}, ensure_ascii=False))
        return
    console.print(f"Campaign {campaign_id} accepted: {started.get('success_count')} messages.")
    if schedule:
        console.print(f"It goes out at {at} (Istanbul time).")
    else:
        _follow(gateway, console, campaign_id)
    typer.echo(campaign_id)


# The preview's counts a script reads and the table shows, in order.
_COUNTS = (
    "rows",
    "valid",
    "invalid",
    "duplicates",
    "blacklisted",
    "no_consent",
    "segments",
    "credits",
)


def _summary(preview: dict[str, Any]) -> dict[str, Any]:
    """The counts a script reads, from the preview's answer."""
    # A gateway older than a count leaves it out.
    summary = {field: preview[field] for field in _COUNTS if field in preview}
    summary["balance"] = preview["balance"]
    for extra in ("international_kurus", "rejects_total", "upload_id", "file_name", "sheet"):
        if extra in preview:
            summary[extra] = preview[extra]
    return summary


def _show_preview(console: Console, preview: dict[str, Any]) -> None:
    from rich.table import Table

    counts = Table(title=f"Preview of {preview.get('file_name', '')}", show_header=False)
    counts.add_column(style="bold", no_wrap=True)
    counts.add_column(justify="right")
    for field in _COUNTS:
        if field in preview:
            counts.add_row(field.replace("_", " "), str(preview[field]))
    counts.add_row("balance", str(preview["balance"]))
    if preview.get("international_kurus"):
        counts.add_row("international (kuruş)", str(preview["international_kurus"]))
    console.print(counts)

    samples = Table(title="First messages")
    samples.add_column("row", justify="right", no_wrap=True)
    samples.add_column("number", no_wrap=True)
    samples.add_column("text", overflow="fold")
    samples.add_column("segments", justify="right")
    for sample in preview.get("samples", [])[:10]:
        samples.add_row(
            str(sample["row"]), sample["sentto"], sample["text"], str(sample["segments"])
        )
    console.print(samples)

    rejects = preview.get("rejects") or []
    if rejects:
        table = Table(title=f"Rejected rows ({preview.get('rejects_total', len(rejects))})")
        table.add_column("row", justify="right", no_wrap=True)
        table.add_column("number", no_wrap=True)
        table.add_column("reason", overflow="fold")
        for reject in rejects[:10]:
            table.add_row(str(reject["row"]), str(reject["sentto"]), reject["reason"])
        console.print(table)


def _follow(gateway: Gateway, console: Console, campaign_id: int) -> None:
    """A bar filling as messages reach a final state; Ctrl-C stops watching, not sending."""
    try:
        with _bar(console) as progress:
            task = progress.add_task("Delivering", total=None)
            while True:
                campaign = gateway.call("/campaign/status", {"campaign_id": campaign_id})[
                    "campaign"
                ]
                done = sum(campaign.get(state, 0) for state in FINAL)
                progress.update(task, total=campaign["accepted"], completed=done)
                if done >= campaign["accepted"]:
                    break
                time.sleep(POLL_SECONDS)
        console.print(", ".join(f"{state} {campaign.get(state, 0)}" for state in FINAL))
    except KeyboardInterrupt:
        console.print(
            f"Stopped watching. The campaign is still being sent: "
            f"ileti campaign status {campaign_id}"
        )


@campaign_app.command("list")
def campaign_list(
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many, newest first.")] = 20,
    before: Annotated[
        int | None, typer.Option("--before", help="Older than this campaign id (next page).")
    ] = None,
    url: Url = DEFAULT_URL,
    key: Key = "",
    json_output: JsonFlag = False,
) -> None:
    """The account's campaigns with their progress, newest first."""
    answer = _gateway(url, key).call(
        "/campaign/list", _dropping_none({"limit": limit, "before": before})
    )
    show(answer["campaigns"], CAMPAIGN_COLUMNS, json_output, "Campaigns")
    if answer.get("next_before") is not None and not json_output:
        typer.echo(f"more: --before {answer['next_before']}")


@campaign_app.command("status")
def campaign_status(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    url: Url = DEFAULT_URL,
    key: Key = "",
    json_output: JsonFlag = False,
) -> None:
    """One campaign: its file, template and how far its messages have got."""
    answer = _gateway(url, key).call("/campaign/status", {"campaign_id": campaign_id})
    show_one(answer["campaign"], json_output, f"Campaign {campaign_id}")


@campaign_app.command("cancel")
def campaign_cancel(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    url: Url = DEFAULT_URL,
    key: Key = "",
    json_output: JsonFlag = False,
) -> None:
    """Stop what has not been handed to an operator yet; it is refunded."""
    answer = _gateway(url, key).call("/campaign/cancel", {"campaign_id": campaign_id})
    fields = ("cancelled", "refunded_credits", "refunded_international", "left")
    show_one({field: answer.get(field) for field in fields}, json_output, "Cancelled")


def _gateway(url: str, key: str) -> Gateway:
    if not key:
        fail("no API key: set ILETI_API_KEY (or give --key)")
    return Gateway(url.rstrip("/"), key)
