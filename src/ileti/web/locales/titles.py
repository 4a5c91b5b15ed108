"""Sender IDs and asking for a new one."""

TR = {
    "A message goes out under one of your active sender IDs (titles). A new one is checked and approved by the operator before you can send with it.": (
        "Mesajlar etkin başlıklarınızdan biriyle gönderilir. Yeni bir başlık, onunla gönderim"
        " yapabilmeniz için önce operatör tarafından incelenip onaylanır."
    ),
    "Your request was sent: the sender ID is pending until the operator approves it.": (
        "Talebiniz iletildi: başlık, operatör onaylayana kadar onay bekliyor."
    ),
    "active": "etkin",
    "pending approval": "onay bekliyor",
    "inactive": "devre dışı",
    "Sender ID": "Başlık",
    "State": "Durum",
    "Reason": "Gerekçe",
    "Since": "Tarih",
    "Your account has no sender ID yet.": "Hesabınızın henüz başlığı yok.",
    "Ask for a new sender ID": "Yeni başlık talep et",
    "3 to 11 characters: English letters, digits, space, dot or hyphen. Upper and lower case are different titles.": (
        "3 ile 11 karakter: İngilizce harfler, rakamlar, boşluk, nokta ya da tire. Büyük ve küçük"
        " harfle yazılışlar ayrı başlıklardır."
    ),
    "Your brand or company name and what you will send with it, for the operator.": (
        "Operatör için: markanız ya da şirket adınız ve bu başlıkla ne göndereceğiniz."
    ),
    "Send the request": "Talebi gönder",
    "Invalid field title: is required.": "Başlık gerekli.",
    "Invalid field title: a sender ID has 3 to 11 characters: ASCII letters, digits, space, '.' or '-'.": (
        "Başlık 3 ile 11 karakter olmalı: İngilizce harfler, rakamlar, boşluk, '.' ya da '-'."
    ),
    "Invalid field title: the account has this sender ID already.": (
        "Bu başlık hesabınızda zaten var."
    ),
    "Invalid field reason: is required.": "Gerekçe gerekli.",
    "Invalid field reason: has at most 300 characters and no control characters.": (
        "Gerekçe en çok 300 karakter olabilir ve kontrol karakteri içeremez."
    ),
}
