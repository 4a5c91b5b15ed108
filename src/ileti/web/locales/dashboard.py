"""The dashboard: today, the last 14 days, what is waiting and the last sends."""

TR = {
    "Today": "Bugün",
    "The last 14 days": "Son 14 gün",
    "Messages delivered, failed and expired per day": (
        "Günlere göre iletilen, iletilemeyen ve süresi dolan mesajlar"
    ),
    "The numbers per day": "Günlere göre sayılar",
    "Waiting": "Bekleyenler",
    "Scheduled for later": "İleri bir zamana planlanan",
    "Queued to go out": "Gönderilmek üzere sırada",
    "Last sends": "Son gönderimler",
    "Recipient": "Alıcı",
    "{n} recipients": "{n} alıcı",
    "All sends": "Tüm gönderimler",
}
