"""API keys and webhooks."""

TR = {
    "API keys": "API anahtarları",
    "Your new key. Copy it now: it is shown only this once.": (
        "Yeni anahtarınız. Şimdi kopyalayın: yalnızca bu kez gösterilir."
    ),
    "Copy": "Kopyala",
    "Copied": "Kopyalandı",
    "API access is on for the key.": "Anahtarın API erişimi açıldı.",
    "API access is off for the key: its requests are refused.": (
        "Anahtarın API erişimi kapatıldı: istekleri reddedilir."
    ),
    "The key is revoked: it no longer works.": "Anahtar iptal edildi: artık çalışmaz.",
    "Key": "Anahtar",
    "State": "Durum",
    "Permissions": "Yetkiler",
    "IP allowlist": "İzinli IP adresleri",
    "Per minute": "Dakikada",
    "Created": "Oluşturulma",
    "Revoked": "İptal edildi",
    "Enabled": "Açık",
    "Disabled": "Kapalı",
    "none": "yok",
    "any address": "her adres",
    "default ({n})": "varsayılan ({n})",
    "no limit": "sınırsız",
    "revoked {when}": "iptal: {when}",
    "Disable": "Kapat",
    "Enable": "Aç",
    "Webhook": "Webhook",
    "Revoke": "İptal et",
    "The account has no API keys yet.": "Hesabın henüz API anahtarı yok.",
    "New key": "Yeni anahtar",
    "One address or network per line; empty: any address.": (
        "Her satıra bir adres ya da ağ; boş bırakılırsa her adres."
    ),
    "Requests per minute": "Dakikada istek sınırı",
    "Empty: the gateway's default ({n}); 0: no limit.": (
        "Boş: sistemin varsayılanı ({n}); 0: sınırsız."
    ),
    "Create key": "Anahtar oluştur",
    "Single SMS": "Tekil SMS",
    "OTP": "OTP",
    "Bulk SMS": "Toplu SMS",
    "Balance": "Bakiye",
    "SMS status": "SMS durumu",
    "The per-minute limit is a whole number (0: no limit).": (
        "Dakikalık sınır bir tam sayı olmalı (0: sınırsız)."
    ),
    "per-minute limit cannot be negative": "Dakikalık sınır eksi olamaz.",
    "“{line}” is not an IP address or network (write one per line, e.g. 192.0.2.10"
    " or 198.51.100.0/24).": (
        "“{line}” bir IP adresi ya da ağı değil (her satıra bir tane yazın, örneğin 192.0.2.10"
        " ya da 198.51.100.0/24)."
    ),
    "Revoke key": "Anahtarı iptal et",
    "This key is revoked already.": "Bu anahtar zaten iptal edilmiş.",
    "Back to keys": "Anahtarlara dön",
    "Revoke the key {prefix}? Programs using it stop working within seconds. This cannot be"
    " undone.": (
        "{prefix} anahtarı iptal edilsin mi? Onu kullanan programlar birkaç saniye içinde"
        " çalışmaz olur. Bu işlem geri alınamaz."
    ),
    "Cancel": "Vazgeç",
    # A key's webhook.
    "Webhook of key {prefix}": "{prefix} anahtarının webhook'u",
    "The webhook's signing secret. Copy it now: it is shown only this once.": (
        "Webhook'un imza anahtarı. Şimdi kopyalayın: yalnızca bu kez gösterilir."
    ),
    "The previous secret keeps signing too for {hours} hours.": (
        "Önceki imza anahtarı {hours} saat daha imzalamaya devam eder."
    ),
    "The webhook is saved.": "Webhook kaydedildi.",
    "A test event is on its way to the webhook.": "Deneme olayı webhook'a gönderiliyor.",
    "Events sent again: {n}": "Yeniden gönderilen olay: {n}",
    "This key is revoked: events of its earlier messages may still arrive.": (
        "Bu anahtar iptal edildi: önceki mesajlarının olayları yine de gelebilir."
    ),
    "Settings": "Ayarlar",
    "URL": "Adres (URL)",
    "Events are POSTed here as JSON, signed with the secret (Standard Webhooks).": (
        "Olaylar bu adrese JSON olarak POST edilir ve imza anahtarıyla imzalanır"
        " (Standard Webhooks)."
    ),
    "Events": "Olaylar",
    "Test events (key.test) always go.": "Deneme olayları (key.test) her zaman gönderilir.",
    "Deliver events (off: they are held)": "Olayları gönder (kapalıysa bekletilir)",
    "Save": "Kaydet",
    "Delivering": "Gönderiliyor",
    "Delivered": "Teslim edildi",
    "Dead": "Başarısız",
    "Pending": "Bekliyor",
    "Secret": "İmza anahtarı",
    "The previous secret signs too until {when}.": (
        "Önceki imza anahtarı {when} tarihine kadar imzalamaya devam eder."
    ),
    "Send a test event": "Deneme olayı gönder",
    "Rotate the secret": "İmza anahtarını yenile",
    "Latest deliveries": "Son gönderimler",
    "Event": "Olay",
    "Attempts": "Denemeler",
    "no answer": "yanıt yok",
    "{ms} ms": "{ms} ms",
    "not attempted yet": "henüz denenmedi",
    "No events yet.": "Henüz olay yok.",
    "Dead events": "Başarısız olaylar",
    "Events that used every attempt. Sent again, they get a fresh set of attempts.": (
        "Tüm denemeleri tükenmiş olaylar. Yeniden gönderilince denemeleri baştan başlar."
    ),
    "Send all again": "Tümünü yeniden gönder",
    "Last answer": "Son yanıt",
    "Send again": "Yeniden gönder",
    "No dead events.": "Başarısız olay yok.",
    "This address is on a private network or this machine: a webhook must reach a public"
    " address.": (
        "Bu adres özel bir ağda ya da bu makinede: webhook herkese açık bir adrese ulaşmalı."
    ),
    "This URL cannot receive webhooks: give an http or https address that resolves.": (
        "Bu adres webhook alamaz: çözümlenebilen bir http ya da https adresi girin."
    ),
    "No webhook is configured for this key.": "Bu anahtar için ayarlı bir webhook yok.",
}
