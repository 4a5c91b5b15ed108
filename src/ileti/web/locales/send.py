"""The send page: the form, its live counter, the answer, and the refusals a send can meet."""

TR = {
    # The form.
    "Sender ID": "Başlık",
    "Content type": "İçerik türü",
    "Informational (transactional)": "Bilgilendirme (işlem)",
    "Informational, high quality": "Bilgilendirme, yüksek kalite",
    "Commercial (advertising)": "Ticari (reklam)",
    "Alphabet": "Alfabe",
    "Automatic": "Otomatik",
    "Turkish (GSM 7-bit)": "Türkçe (GSM 7-bit)",
    "English (GSM 7-bit, no Turkish letters)": "İngilizce (GSM 7-bit, Türkçe harfsiz)",
    "Automatic picks the cheapest that keeps every letter.": (
        "Otomatik, her harfi koruyan en ucuz kodlamayı seçer."
    ),
    "English": "İngilizce",
    "Turkish": "Türkçe",
    "Unicode (UCS-2)": "Unicode (UCS-2)",
    "Message": "Mesaj",
    "Recipients": "Alıcılar",
    "One a line, or separated by commas or semicolons; in any form: 0532 555 12 34, +90 532 555 12 34, 905325551234.": (
        "Her satıra bir numara ya da virgül veya noktalı virgülle ayrılmış; her biçimde:"
        " 0532 555 12 34, +90 532 555 12 34, 905325551234."
    ),
    "Contact group": "Kişi grubu",
    "Its numbers are added to the ones typed.": "Grubun numaraları yazılanlara eklenir.",
    "None": "Yok",
    "Send at": "Gönderim zamanı",
    "Istanbul time; leave empty to send now.": "İstanbul saati; hemen göndermek için boş bırakın.",
    "Validity (minutes)": "Geçerlilik süresi (dakika)",
    "How long operators keep trying: 1 to 4320; empty: 1440 (24 hours).": (
        "Operatörlerin teslim için deneyeceği süre: 1 ile 4320 arası; boşsa 1440 (24 saat)."
    ),
    "Send": "Gönder",
    "The account has no active sender ID yet: request one under Sender IDs.": (
        "Hesabın henüz etkin bir başlığı yok: Başlıklar sayfasından talep edin."
    ),
    # The counter.
    "Encoding": "Kodlama",
    "Characters": "Karakter",
    "Segments": "Parça",
    "Credits": "Kredi",
    "Abroad": "Yurt dışı",
    "GSM 7-bit": "GSM 7-bit",
    "GSM 7-bit, Turkish single shift": "GSM 7-bit, Türkçe tek kaydırma (single shift)",
    "GSM 7-bit, Turkish locking shift": "GSM 7-bit, Türkçe kilitli kaydırma (locking shift)",
    "GSM 7-bit, Turkish locking and single shift": (
        "GSM 7-bit, Türkçe kilitli ve tek kaydırma (locking + single shift)"
    ),
    "UCS-2 (Unicode)": "UCS-2 (Unicode)",
    "The text takes {segments} segments; a message may take at most {cap}. Shorten it to send.": (
        "Metin {segments} parça tutuyor; bir mesaj en çok {cap} parça olabilir."
        " Göndermek için kısaltın."
    ),
    "This alphabet writes Turkish letters as Latin ones: {letters}. Choose Turkish or Automatic to keep them.": (
        "Bu alfabe Türkçe harfleri Latin harfleriyle yazar: {letters}. Harfleri korumak için"
        " Türkçe ya da Otomatik seçin."
    ),
    "Numbers that cannot receive SMS (left out): {count}": (
        "SMS alamayan ya da geçersiz numara (gönderilmez): {count}"
    ),
    "Given more than once (sent once): {count}": "Birden çok kez yazılan (bir kez gönderilir): {count}",
    "Credits are for numbers in Turkey; numbers abroad are paid from the international balance at their country's price.": (
        "Kredi Türkiye'deki numaralar içindir; yurt dışındaki numaralar ülkelerinin fiyatıyla"
        " yurt dışı bakiyesinden ödenir."
    ),
    "This needs {credits} credits; the account has {available}.": (
        "Bu gönderim {credits} kredi tutuyor; hesapta {available} kredi var."
    ),
    # The answer.
    "Send accepted": "Gönderim kabul edildi",
    "Accepted: the messages are on their way to the operators.": (
        "Kabul edildi: mesajlar operatörlere iletiliyor."
    ),
    "Accepted and scheduled for {moment} (Istanbul time).": (
        "Kabul edildi; {moment} (İstanbul saati) için zamanlandı."
    ),
    "Group": "Grup",
    "Recipients accepted": "Kabul edilen alıcı",
    "Credits charged": "Düşülen kredi",
    "Charged abroad": "Yurt dışı ücreti",
    "Credits left": "Kalan kredi",
    "The send": "Gönderim",
    "Country": "Ülke",
    "Recipients left out": "Gönderilmeyen alıcılar",
    "Line": "Sıra",
    "Number": "Numara",
    "Reason": "Gerekçe",
    "Not a number that can receive SMS": "SMS alabilen bir numara değil",
    "Given more than once": "Birden çok kez yazılmış",
    "Blacklisted": "Kara listede",
    "Abroad, and the account has no international sending": (
        "Yurt dışında; hesabın yurt dışı gönderimi kapalı"
    ),
    "See the send": "Gönderimi gör",
    "Send another": "Yeni gönderim",
    # The refusals a send can meet (the catalogue's words, codes.py).
    "Recipient number is missing.": "Alıcı numarası yok.",
    "Message text is empty.": "Mesaj metni boş.",
    "Insufficient balance.": "Bakiye yetersiz.",
    "Sender ID (title) is not active.": "Gönderici adı (başlık) etkin değil.",
    "Sender ID (title) is unknown.": "Gönderici adı (başlık) tanınmıyor.",
    "Account is not active.": "Hesap etkin değil.",
    "Destination is outside Turkey and the account has no international sending.": (
        "Alıcı Türkiye dışında ve hesabın yurt dışı gönderimi kapalı."
    ),
    "Invalid phone number.": "Geçersiz telefon numarası.",
    "A field is missing or invalid.": "Bir alan eksik ya da geçersiz.",
    "Invalid or past schedule.": "Geçersiz ya da geçmiş bir gönderim zamanı.",
    "Recipient is blacklisted.": "Alıcı kara listede.",
    "Recipients (İYS)": "Alıcılar (İYS)",
    "Individuals (BIREYSEL)": "Bireyler (BIREYSEL)",
    "Traders (TACIR)": "Tacirler (TACIR)",
    "Advertising goes only to numbers with this kind of İYS consent.": (
        "Reklam iletileri yalnızca bu türden İYS onayı olan numaralara gider."
    ),
    "No İYS consent for a commercial (Advertising) message.": (
        "Ticari (reklam) ileti için İYS onayı yok."
    ),
    "Too many recipients in one request.": "Tek gönderimde çok fazla alıcı var.",
    "Message is longer than the segment cap.": "Mesaj izin verilen parça sayısından uzun.",
    "Internal error; nothing was charged.": "İç hata; hiçbir ücret alınmadı.",
    "Temporarily unavailable; safe to retry.": (
        "Geçici olarak hizmet dışı; yeniden denemek güvenli."
    ),
}
