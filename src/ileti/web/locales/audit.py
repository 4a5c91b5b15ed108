"""The audit log."""

TR = {
    "Changes to the account's keys, webhooks and users, newest first.": (
        "Hesabın anahtar, webhook ve kullanıcı değişiklikleri, en yenisi üstte."
    ),
    "When": "Zaman",
    "Who": "Kim",
    "What": "İşlem",
    "Subject": "Konu",
    "Detail": "Ayrıntı",
    "operator": "sistem yöneticisi",
    "Nothing recorded yet.": "Henüz kayıt yok.",
    "Pages": "Sayfalar",
    "Newest": "En yeniler",
    "Older": "Daha eski",
    "Key created": "Anahtar oluşturuldu",
    "Key enabled": "Anahtar açıldı",
    "Key disabled": "Anahtar kapatıldı",
    "Key revoked": "Anahtar iptal edildi",
    "Webhook set": "Webhook ayarlandı",
    "Webhook secret rotated": "Webhook imza anahtarı yenilendi",
    "Webhook events sent again": "Webhook olayları yeniden gönderildi",
    "User added": "Kullanıcı eklendi",
    "Password reset": "Parola sıfırlandı",
    "User removed": "Kullanıcı silindi",
    "Personal data exported": "Kişisel veriler dışa aktarıldı",
    "Personal data erased": "Kişisel veriler silindi",
    "Customer account created": "Müşteri hesabı oluşturuldu",
    "Customer account suspended": "Müşteri hesabı askıya alındı",
    "Customer account reactivated": "Müşteri hesabı yeniden etkinleştirildi",
    "Customer's price set": "Müşteri fiyatı belirlendi",
    "Customer's price reset": "Müşteri fiyatı sıfırlandı",
}
