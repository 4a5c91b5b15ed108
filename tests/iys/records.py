"""Records to send İYS in tests: a brand's ONAY an hour ago, changed as a test needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ileti.domain.consent import Consent, iys_date

IYS_CODE, BRAND_CODE = "700123", "800456"
CONSENTS = f"/sps/{IYS_CODE}/brands/{BRAND_CODE}/consents"
RECIPIENT = "905321234567"


def minutes_ago(minutes: float) -> datetime:
    """To the second, as İYS writes dates."""
    return (datetime.now(UTC) - timedelta(minutes=minutes)).replace(microsecond=0)


def record(**fields: Any) -> dict[str, Any]:
    """A brand's ONAY for ``RECIPIENT`` an hour ago, in İYS's form, with ``fields`` changed
    (None removes one)."""
    base: dict[str, Any] = {
        "recipient": f"+{RECIPIENT}",
        "recipientType": "BIREYSEL",
        "type": "MESAJ",
        "status": "ONAY",
        "source": "HS_WEB",
        "consentDate": iys_date(minutes_ago(60)),
    }
    base.update(fields)
    return {name: value for name, value in base.items() if value is not None}


def consent(recipient: str = RECIPIENT, status: str = "ONAY", minutes: float = 60) -> Consent:
    return Consent(recipient, "BIREYSEL", "MESAJ", status, "HS_WEB", minutes_ago(minutes))
