"""The operator's OTP commands: templates, and an account's OTP title and code switch."""

from __future__ import annotations

from ileti.domain.otp import DEFAULT_TEMPLATES, OtpLang

from .test_admin import _database, ileti, listing  # noqa: F401  (the fixture runs on each database)


def test_templates_can_be_changed_and_reset() -> None:
    shipped = {t["lang"]: t for t in listing("otp", "template", "list")}
    assert shipped[1]["text"] == DEFAULT_TEMPLATES[OtpLang.TURKISH]
    assert not any(t["changed"] for t in shipped.values())

    ileti("otp", "template", "set", "1", "ACME kodu: TS-CODE")
    changed = {t["lang"]: t for t in listing("otp", "template", "list")}
    assert (changed[1]["text"], changed[1]["changed"]) == ("ACME kodu: TS-CODE", True)
    assert changed[0]["text"] == DEFAULT_TEMPLATES[OtpLang.ENGLISH]

    ileti("otp", "template", "reset", "1")
    assert listing("otp", "template", "list")[1]["text"] == DEFAULT_TEMPLATES[OtpLang.TURKISH]


def test_a_template_without_the_placeholder_or_an_unknown_language_is_refused() -> None:
    assert "TS-CODE" in ileti("otp", "template", "set", "0", "Your code", ok=False)
    ileti("otp", "template", "set", "3", "TS-CODE", ok=False)
    assert not any(t["changed"] for t in listing("otp", "template", "list"))


def test_the_otp_title_must_be_one_of_the_account_s_titles() -> None:
    ileti("account", "create", "acme")
    assert "add it first" in ileti("account", "set", "acme", "--otp-title", "ACME", ok=False)
    ileti("title", "add", "acme", "ACME", "--active")
    ileti("account", "set", "acme", "--otp-title", "ACME", "--no-otp-code")
    [account] = listing("account", "list")
    assert account["otp_title"] == "ACME"
