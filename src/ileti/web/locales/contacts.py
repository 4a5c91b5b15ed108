"""Contact groups, their numbers and CSV imports, and the blacklist."""

TR = {
    # The groups.
    "The group was deleted.": "Grup silindi.",
    "New contact group": "Yeni rehber grubu",
    "Group name": "Grup adı",
    "Create group": "Grup oluştur",
    "Contact groups": "Rehber grupları",
    "Group": "Grup",
    "Numbers": "Numaralar",
    "Created": "Oluşturulma",
    "Send to this group": "Bu gruba gönder",
    "No contact groups yet. Create one, then add numbers to it by hand or from a CSV file.": (
        "Henüz rehber grubunuz yok. Bir grup oluşturun, sonra numaraları elle ya da bir CSV"
        " dosyasından ekleyin."
    ),
    "{count} numbers": "{count} numara",
    "The group was renamed.": "Grubun adı değiştirildi.",
    "{count} numbers removed from the group.": "Gruptan {count} numara çıkarıldı.",
    "Added: {added}": "Eklenen: {added}",
    "Already in the group: {duplicates}": "Grupta zaten olan: {duplicates}",
    "Invalid: {invalid}": "Geçersiz: {invalid}",
    "Not added": "Eklenmeyenler",
    "Row": "Satır",
    "Line": "Satır",
    "Number": "Numara",
    "Why": "Neden",
    "The first 200 are shown.": "İlk 200 tanesi gösteriliyor.",
    "Add numbers": "Numara ekle",
    "One per line, or separated by commas or semicolons; spaces inside a number are fine (0532 555 12 34).": (
        "Her satıra bir numara ya da virgül veya noktalı virgülle ayrılmış; numaranın içindeki"
        " boşluklar sorun değil (0532 555 12 34)."
    ),
    "First name": "Ad",
    "Last name": "Soyad",
    "optional": "isteğe bağlı",
    "Add": "Ekle",
    "Import a CSV file": "CSV dosyası içe aktar",
    "A header row naming the phone column (telefon, gsm, cep, numara, phone or mobile) and, if you like, ad and soyad; or just one number per line. Separated by ; or , in UTF-8 or Windows Turkish (Excel's CSV).": (
        "Telefon sütununu adlandıran bir başlık satırı (telefon, gsm, cep, numara, phone ya da"
        " mobile) ve isterseniz ad ve soyad; ya da yalnızca her satırda bir numara. Ayraç ; veya ,"
        " olabilir; kodlama UTF-8 ya da Windows Türkçe (Excel'in CSV'si)."
    ),
    "CSV file": "CSV dosyası",
    "Import": "İçe aktar",
    "Choose": "Seç",
    "Choose {number}": "{number} numarasını seç",
    "Added": "Eklenme",
    "Remove the chosen numbers": "Seçili numaraları çıkar",
    "Pages": "Sayfalar",
    "First page": "İlk sayfa",
    "Next page": "Sonraki sayfa",
    "This group has no numbers yet.": "Bu grupta henüz numara yok.",
    "No more numbers.": "Başka numara yok.",
    "Group settings": "Grup ayarları",
    "Rename": "Adını değiştir",
    "Deleting the group deletes its numbers. Messages already sent to it stay in the reports.": (
        "Grubu silmek numaralarını da siler. Gruba daha önce gönderilen mesajlar raporlarda kalır."
    ),
    "Delete the group": "Grubu sil",
    "Delete the group {name} and its {count} numbers?": (
        "{name} grubu ve içindeki {count} numara silinsin mi?"
    ),
    # The blacklist.
    "No message goes to a number you list here. A recipient who answers RET or IPTAL to your sender ID is listed for advertising only: you can widen that to every message, but the recipient's own opt-out stays.": (
        "Buraya eklediğiniz numaralara hiçbir mesaj gitmez. Başlığınıza RET ya da İPTAL yanıtı"
        " veren alıcı yalnızca reklam mesajları için listelenir: bunu tüm mesajları kapsayacak"
        " şekilde genişletebilirsiniz, ama alıcının kendi ret bildirimi kalır."
    ),
    "+{number} is on the blacklist: no message goes to it.": (
        "+{number} kara listede: bu numaraya hiçbir mesaj gitmez."
    ),
    "+{number} is off the blacklist.": "+{number} kara listeden çıkarıldı.",
    "+{number} opted out with RET itself: it stays on the blacklist for advertising.": (
        "+{number} RET ile kendisi ret bildirdi: reklam mesajları için kara listede kalır."
    ),
    "Add to the blacklist": "Kara listeye ekle",
    "Blocks": "Engellenen",
    "Source": "Kaynak",
    "Listed": "Eklenme",
    "every message": "tüm mesajlar",
    "advertising": "reklam",
    "Added by your account": "Hesabınız ekledi",
    "The recipient's RET reply": "Alıcının RET yanıtı",
    "The recipient's RET reply, widened by your account to every message": (
        "Alıcının RET yanıtı; hesabınız tüm mesajlara genişletti"
    ),
    "The recipient's opt-out cannot be removed": "Alıcının ret bildirimi kaldırılamaz",
    "Narrow to advertising": "Yalnızca reklama daralt",
    "Remove": "Çıkar",
    "Newest": "En yeniler",
    "Older": "Daha eskiler",
    "The blacklist is empty.": "Kara liste boş.",
    # Refusals.
    "Not added: {number} {reason}.": "Eklenmedi: {number} {reason}.",
    "{number} is not on your blacklist, or is there only by the recipient's own RET opt-out, which stays.": (
        "{number} kara listenizde değil ya da yalnızca alıcının kendi RET ret bildirimiyle"
        " listede; bu bildirim kaldırılamaz."
    ),
    "Invalid field name: is required.": "Grup adı gerekli.",
    "Invalid field name: has at most 100 characters and no control characters.": (
        "Grup adı en çok 100 karakter olabilir ve kontrol karakteri içeremez."
    ),
    "Invalid field name: the account has a group of that name already.": (
        "Bu adda bir grubunuz zaten var."
    ),
    "Invalid field numbers: gives no number.": "Hiç numara girilmedi.",
    "Invalid field file: holds no number.": "Dosyada hiç numara yok.",
    "Invalid field file: has a header without a phone column (name it telefon, gsm, cep, numara, phone or mobile).": (
        "Dosyanın başlık satırında telefon sütunu yok (sütunu telefon, gsm, cep, numara, phone"
        " ya da mobile olarak adlandırın)."
    ),
    # Why a number is refused (domain.numbers).
    "is not a valid phone number": "geçerli bir telefon numarası değil",
    "is a landline, which cannot receive SMS": "sabit hat; SMS alamaz",
    "is a toll-free number, which cannot receive SMS": "ücretsiz hat; SMS alamaz",
    "is a premium-rate number, which cannot receive SMS": "özel ücretli hat; SMS alamaz",
    "is a shared-cost number, which cannot receive SMS": "paylaşımlı ücretli hat; SMS alamaz",
    "is a VoIP number, which cannot receive SMS": "VoIP numarası; SMS alamaz",
    "is a personal (forwarding) number, which cannot receive SMS": (
        "kişisel (yönlendirme) numarası; SMS alamaz"
    ),
    "is a pager, which cannot receive SMS": "çağrı cihazı; SMS alamaz",
    "is a company's single number (UAN), which cannot receive SMS": (
        "şirketin tek numarası (UAN); SMS alamaz"
    ),
    "is a voicemail access number, which cannot receive SMS": (
        "sesli mesaj erişim numarası; SMS alamaz"
    ),
    "is not a mobile number, which cannot receive SMS": "cep telefonu numarası değil; SMS alamaz",
    "has a name longer than 100 characters or a control character": (
        "adı 100 karakterden uzun ya da kontrol karakteri içeriyor"
    ),
}
