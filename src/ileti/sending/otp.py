"""One-time passwords: issuing (a message like any other, at the head of the queue, with a
row that holds its code as a keyed hash) and verifying, and the operator's texts per language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ileti import codes
from ileti.codes import GatewayError
from ileti.config import Settings
from ileti.domain import otp, priority
from ileti.domain.encoding import SmsLang
from ileti.domain.otp import OtpLang
from ileti.domain.webhooks import EventType
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import Order, OtpOrder, Recipient, encode, encoding_warnings
from ileti.sending.results import Accepted, Verified
from ileti.sending.service import Caller, Sending
from ileti.store import accounts as account_store
from ileti.store import otp as otp_store
from ileti.store import webhooks as outbox
from ileti.store.db import Database
from ileti.store.keyring import OTP_CODES, Keyring
from ileti.validation import has_text, invalid, phone_number, quoted, sms_lang, text, title, within

# The encoding each template language goes out in.
_ENCODING = {OtpLang.ENGLISH: SmsLang.ENGLISH, OtpLang.TURKISH: SmsLang.TURKISH}


@dataclass(frozen=True, slots=True)
class OtpSend:
    """A code to a number, in the operator's text for ``lang``, from the account's OTP title;
    or, with ``text`` and ``title``, in the caller's own text (``TS-CODE`` marks the code)."""

    number: object
    lang: int | str | None = None
    digits: int | None = None
    ttl_seconds: int | None = None
    title: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class OtpCheck:
    """A code a user typed, for an OTP named by its id or by its number's latest."""

    code: object
    otp_id: str | None = None
    number: object = None


class Otps:
    def __init__(self, sending: Sending, settings: Settings, keyring: Keyring) -> None:
        self.sending = sending
        self.db: Database = sending.db
        self.clock = sending.clock
        self.attempts = settings.otp_attempts
        configured = settings.otp_secret
        # ILETI_OTP_SECRET, else one derived from the installation's secret key: never a key
        # kept in the database, so that its copy cannot test codes against the hashes.
        self._code_key = configured.get_secret_value().encode() if configured else None
        self._keyring = keyring

    async def send(self, caller: Caller, send: OtpSend, identity: RequestIdentity) -> Accepted:
        """The operator's template in the language asked for, from the account's OTP title."""
        lang = OtpLang(within("lang", _language_code(send.lang), 0, 2, OtpLang.ARABIC))
        async with self.db.read() as conn:
            settings = await account_store.otp_settings(conn, caller.account_id)
            if not settings.title:
                raise GatewayError(codes.TITLE_UNKNOWN, "The account has no default OTP title.")
            template = await otp_store.template(conn, lang)
        return await self._issue(
            caller,
            send,
            settings.title,
            template,
            _ENCODING.get(lang, SmsLang.UNICODE),
            settings.code_in_response,
            identity,
        )

    async def send_detailed(
        self, caller: Caller, send: OtpSend, identity: RequestIdentity
    ) -> Accepted:
        """The caller's own text and title."""
        sender = title(send.title)
        if not has_text(send.text):
            raise GatewayError(codes.TEXT_EMPTY)
        try:
            template = otp.check_template(text(send.text))
        except otp.NoPlaceholder:
            raise GatewayError(codes.OTP_TEMPLATE_NO_CODE) from None
        lang = sms_lang(send.lang, "lang")
        async with self.db.read() as conn:
            settings = await account_store.otp_settings(conn, caller.account_id)
        return await self._issue(
            caller, send, sender, template, lang, settings.code_in_response, identity
        )

    async def _issue(
        self,
        caller: Caller,
        send: OtpSend,
        title: str,
        template: str,
        lang: SmsLang,
        code_in_response: bool,
        identity: RequestIdentity,
    ) -> Accepted:
        if send.number is None or send.number == "":
            raise GatewayError(codes.NUMBER_MISSING)
        digits = within("digits", send.digits, otp.MIN_DIGITS, otp.MAX_DIGITS, otp.DEFAULT_DIGITS)
        ttl = within("ttl_seconds", send.ttl_seconds, otp.MIN_TTL, otp.MAX_TTL, otp.DEFAULT_TTL)
        number = phone_number(send.number, "mobile")
        code = otp.new_code(digits)
        message = otp.render(template, code)
        encoding = encode(message, lang, self.sending.max_segments)
        otp_id = otp.new_otp_id()
        now = self.clock.now()
        expires = now + timedelta(seconds=ttl)
        order = Order(
            kind="otp",
            title=title,
            content_type=0,
            lang=lang,
            priority=priority.OTP,
            due_at=now,
            # A code that arrives after it expired is no use: the message's validity is its life.
            expires_at=expires,
            recipients=[Recipient(0, quoted(send.number), number, message, encoding)],
            otp=OtpOrder(
                otp_id=otp_id,
                code=code,
                code_hash=otp.code_hash(await self._key(), otp_id, code),
                masked_text=otp.masked(template, code),
                expires_at=expires,
                attempts=self.attempts,
                code_in_response=code_in_response,
            ),
            # The code's digits are GSM 7-bit and stay as they are: no warning quotes them.
            warnings=encoding_warnings(lang, [(message, encoding)], lang_field="lang"),
        )
        return await self.sending.accept(caller, order, identity)

    async def verify(self, caller: Caller, check: OtpCheck) -> Verified:
        """Right once: a code verifies a live OTP one time; wrong codes spend its attempts."""
        code = _code_of(check.code)
        if not check.otp_id and check.number in (None, ""):
            raise invalid("otp_id", "give otp_id or mobile")
        number = phone_number(check.number, "mobile") if not check.otp_id else None
        key = await self._key()
        now = self.clock.now()
        now_ms = self.clock.now_ms()
        verified, left = False, None
        async with self.db.write() as conn:
            if check.otp_id:
                found = await otp_store.find(conn, caller.account_id, check.otp_id)
            else:
                assert number is not None
                found = await otp_store.latest(conn, caller.account_id, number.digits, now_ms)
            if found is None:
                raise GatewayError(codes.NOT_FOUND, "Unknown OTP for this account.")
            if not found.usable(now_ms):
                raise GatewayError(codes.OTP_UNUSABLE)
            right = otp.code_matches(key, found.id, code, found.code_hash)
            if right:
                verified = await otp_store.mark_verified(conn, found.id, now_ms)
                if verified:
                    # otp.verified to the key's webhook, in the transaction that verifies.
                    data = {
                        "otp_id": found.id,
                        "sms_id": found.message_id,
                        "status": "verified",
                        "sentto": found.sentto,
                    }
                    await outbox.emit(conn, found.key_id, EventType.OTP_VERIFIED, data, now)
            else:
                left = await otp_store.use_attempt(conn, found.id, now_ms)
        # Outside the transaction: a wrong guess must stay counted, so it commits before refusing.
        if not right:
            if left is None:
                raise GatewayError(codes.OTP_UNUSABLE)
            raise GatewayError(
                codes.OTP_WRONG,
                f"OTP code is wrong; {left} attempt{'s' if left != 1 else ''} left.",
            )
        if not verified:
            # Another request verified it (or spent it) between our read and our write.
            raise GatewayError(codes.OTP_UNUSABLE)
        self.sending.wakeups.ring()
        return Verified(found.id, found.message_id)

    # The operator's texts.

    async def templates(self) -> dict[OtpLang, tuple[str, bool]]:
        """Each language's text, and whether the operator changed it."""
        async with self.db.read() as conn:
            return await otp_store.all_templates(conn)

    async def set_template(self, lang: OtpLang, text: str) -> None:
        """Replace a language's text; it must contain TS-CODE, which becomes the code."""
        otp.check_template(text)
        if len(text) > 1000:
            raise ValueError("a template has at most 1,000 characters")
        async with self.db.write() as conn:
            await otp_store.set_template(conn, lang, text)

    async def reset_template(self, lang: OtpLang) -> None:
        """Back to the text that ships."""
        async with self.db.write() as conn:
            await otp_store.reset_template(conn, lang)

    async def _key(self) -> bytes:
        """The key for code hashes: ``ILETI_OTP_SECRET``, else the installation's own."""
        if self._code_key is None:
            self._code_key = self._keyring.derive(OTP_CODES)
        return self._code_key


def _language_code(value: object) -> object:
    """0, 1 or 2; as a string of that digit too, as ``sms_lang`` takes it."""
    return int(value) if value in ("0", "1", "2") else value


def _code_of(value: object) -> str:
    code = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    if not (code.isascii() and code.isdigit() and otp.MIN_DIGITS <= len(code) <= otp.MAX_DIGITS):
        raise invalid("code", f"must be {otp.MIN_DIGITS} to {otp.MAX_DIGITS} digits")
    return code
