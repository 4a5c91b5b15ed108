"""Sends and reports: the list and its filters, a message's and a group's detail, the CSV
export and the daily summary."""

TR = {
    # States, as every page of the area names them.
    "Queued": "Sırada",
    "Scheduled": "Zamanlanmış",
    "Sent, awaiting report": "Gönderildi, rapor bekleniyor",
    "Delivered": "İletildi",
    "Failed": "İletilemedi",
    "Expired": "Süresi doldu",
    "Cancelled": "İptal edildi",
    # The list and its filters.
    "Reports": "Raporlar",
    "Messages": "Mesajlar",
    "Daily summary": "Günlük özet",
    "Filter the messages": "Mesajları süz",
    "From": "Başlangıç",
    "To": "Bitiş",
    "Any state": "Tüm durumlar",
    "Title": "Başlık",
    "Group id": "Grup no",
    "Filter": "Süz",
    "Clear": "Temizle",
    "Newest first.": "En yeniler önce.",
    "Older messages, newest first.": "Daha eski mesajlar, en yeniler önce.",
    "Export CSV": "CSV olarak indir",
    "Group {id}": "Grup {id}",
    "Single": "Tekil",
    "No message matches these filters.": "Bu süzgeçlere uyan mesaj yok.",
    "No messages yet.": "Henüz mesaj yok.",
    # A page filtered by state or title looks through so many messages at most.
    "No more among the latest {n} messages searched.": "Aranan son {n} mesajda başka sonuç yok.",
    "Search older messages →": "Daha eskileri ara →",
    "Write dates as YYYY-MM-DD.": "Tarihleri YYYY-AA-GG biçiminde yazın.",
    "The first day comes after the last.": "Başlangıç günü bitiş gününden sonra.",
    "Choose a state from the list.": "Listeden bir durum seçin.",
    "A group id is a whole number.": "Grup numarası bir tam sayıdır.",
    # A message.
    "Message {id}": "Mesaj {id}",
    "Error reason": "Hata nedeni",
    "Country and operator": "Ülke ve operatör",
    "GSM 7-bit with Turkish letters": "Türkçe harfli GSM 7-bit",
    "Price": "Ücret",
    "1 credit": "1 kredi",
    "{n} credits": "{n} kredi",
    "international balance": "yurt dışı bakiyesinden",
    "Scheduled for": "Gönderim zamanı",
    "Sent": "Gönderilme",
    "Done": "Sonuçlanma",
    "Valid until": "Geçerlilik sonu",
    "Text": "Metin",
    "The text was removed: personal data is kept only as long as allowed.": (
        "Metin silindi: kişisel veriler yalnızca izin verilen süre boyunca saklanır."
    ),
    "Operator parts": "Operatöre giden parçalar",
    "Part": "Parça",
    "Carrier": "Taşıyıcı",
    "Operator's id": "Operatör numarası",
    # A group.
    "{accepted} accepted of {total}": "{total} alıcıdan {accepted} kabul edildi",
    "Messages by state": "Durumlarına göre mesajlar",
    "No messages in this group.": "Bu grupta mesaj yok.",
    # The summary.
    "Days of the summary": "Özetin günleri",
    "Messages created from {first} to {last} (Istanbul days), by state.": (
        "{first} ile {last} arasında (İstanbul saatiyle) oluşturulan mesajlar, durumlarına göre."
    ),
    "Per day": "Günlere göre",
    "Day": "Gün",
    "No messages on these days.": "Bu günlerde mesaj yok.",
    "Choose at most {days} days.": "En çok {days} gün seçin.",
    # Cancelling a message or a group.
    "Cancel sending": "Gönderimi iptal et",
    "1 message has not been handed to an operator yet.": (
        "1 mesaj henüz operatöre teslim edilmedi."
    ),
    "{n} messages have not been handed to an operator yet.": (
        "{n} mesaj henüz operatöre teslim edilmedi."
    ),
    "Cancel message {id}": "Mesaj {id} iptali",
    "Cancel group {id}": "Grup {id} iptali",
    "This message has not been handed to an operator yet. Cancel it? What it cost goes back to"
    " your balance.": (
        "Bu mesaj henüz operatöre teslim edilmedi. İptal edilsin mi? Ücreti bakiyenize geri"
        " yüklenir."
    ),
    "1 message of this group has not been handed to an operator yet. Cancel it? What it cost"
    " goes back to your balance.": (
        "Bu gruptaki 1 mesaj henüz operatöre teslim edilmedi. İptal edilsin mi? Ücreti"
        " bakiyenize geri yüklenir."
    ),
    "{n} messages of this group have not been handed to an operator yet. Cancel them? What they"
    " cost goes back to your balance.": (
        "Bu gruptaki {n} mesaj henüz operatöre teslim edilmedi. İptal edilsinler mi? Ücretleri"
        " bakiyenize geri yüklenir."
    ),
    "Messages already sent are not affected. A cancel cannot be undone.": (
        "Gönderilmiş mesajlar bundan etkilenmez. İptal geri alınamaz."
    ),
    "Yes, cancel": "Evet, iptal et",
    "Keep sending": "Gönderime devam et",
    "Nothing is left to cancel: an operator already has every message, or they have finished.": (
        "İptal edilecek mesaj kalmadı: hepsi operatöre teslim edildi ya da sonuçlandı."
    ),
    "Back": "Geri dön",
    "1 message was cancelled.": "1 mesaj iptal edildi.",
    "{n} messages were cancelled.": "{n} mesaj iptal edildi.",
    "1 credit went back to your balance.": "1 kredi bakiyenize geri yüklendi.",
    "{n} credits went back to your balance.": "{n} kredi bakiyenize geri yüklendi.",
    "{money} went back to your international balance.": (
        "{money} yurt dışı bakiyenize geri yüklendi."
    ),
    "{n} could not be cancelled: an operator already had them, or they had finished.": (
        "{n} mesaj iptal edilemedi: operatöre teslim edilmiş ya da sonuçlanmışlardı."
    ),
    "Nothing was cancelled: an operator already had every message, or they had finished.": (
        "Hiçbir mesaj iptal edilmedi: hepsi operatöre teslim edilmiş ya da sonuçlanmıştı."
    ),
}
