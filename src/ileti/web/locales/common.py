"""The frame of every page, logging in, and the messages every area shares."""

TR = {
    "Panel": "Panel",
    "Skip to content": "İçeriğe geç",
    "Language": "Dil",
    "Log out": "Çıkış",
    "Main": "Ana menü",
    "Dashboard": "Özet",
    "Send SMS": "SMS gönder",
    "Sends and reports": "Gönderimler ve raporlar",
    "Contacts": "Rehber",
    "Blacklist": "Kara liste",
    "Sender IDs": "Başlıklar",
    "Billing": "Hesap hareketleri",
    "API keys and webhooks": "API anahtarları ve webhook",
    "Users": "Kullanıcılar",
    "Audit log": "İşlem kaydı",
    "Two-step login": "İki adımlı giriş",
    "Log in": "Giriş",
    "Email": "E-posta",
    "Password": "Parola",
    "Code": "Kod",
    "Continue": "Devam",
    "Turn on": "Aç",
    "Enter the six-digit code your authenticator app shows for ileti.": (
        "Doğrulama uygulamanızın ileti için gösterdiği altı haneli kodu girin."
    ),
    "Two-step login is on for your user: every login asks for a code from your authenticator app.": (
        "Kullanıcınız için iki adımlı giriş açık: her girişte doğrulama uygulamanızdaki kod sorulur."
    ),
    "Scan this code with an authenticator app (Google Authenticator, Microsoft Authenticator, 1Password…), then enter the code it shows.": (
        "Bu kodu bir doğrulama uygulamasıyla (Google Authenticator, Microsoft Authenticator,"
        " 1Password…) okutun, ardından uygulamanın gösterdiği kodu girin."
    ),
    "QR code for your authenticator app": "Doğrulama uygulamanız için QR kod",
    "Or type this key into the app:": "Ya da bu anahtarı uygulamaya yazın:",
    "The email, password or code is not right.": "E-posta, parola ya da kod hatalı.",
    "Too many failed attempts. Try again in {seconds} seconds.": (
        "Çok fazla hatalı deneme. {seconds} saniye sonra yeniden deneyin."
    ),
    "Not found": "Bulunamadı",
    "There is nothing here, or it belongs to another account.": (
        "Burada bir şey yok ya da başka bir hesaba ait."
    ),
    "Back to the dashboard": "Özete dön",
    "Form expired": "Formun süresi doldu",
    "This form was not sent from this session (or the session changed). Open the page again and retry.": (
        "Bu form bu oturumdan gönderilmedi (ya da oturum değişti). Sayfayı yeniden açıp tekrar deneyin."
    ),
    "Credits": "Kredi",
    "International balance": "Yurt dışı bakiye",
    "Too large": "Çok büyük",
    "This form carried more than the panel takes (a file of at most {megabytes} MB).": (
        "Bu form panelin kabul ettiğinden fazlasını taşıyordu (en çok {megabytes} MB'lık bir dosya)."
    ),
}
