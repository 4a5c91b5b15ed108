"""İYS consents: the connection's state, the records, adding and importing them."""

TR = {
    "İYS consents": "İYS izinleri",
    "İYS (İleti Yönetim Sistemi) keeps who agreed to your brand's commercial messages. Records you add here are kept at once and sent to İYS by the gateway; changes recipients make in İYS come back here.": (
        "İYS (İleti Yönetim Sistemi), markanızın ticari iletilerine kimin onay verdiğini tutar."
        " Burada eklediğiniz kayıtlar hemen saklanır ve ağ geçidi tarafından İYS'ye gönderilir;"
        " alıcıların İYS'de yaptığı değişiklikler buraya gelir."
    ),
    "İYS is not set up for your account yet.": "Hesabınız için İYS henüz tanımlanmadı.",
    "The gateway's operator first sets your İYS code, your brand code and the İYS API access. Ask them to; then you can search, add and import your customers' consents here.": (
        "Önce hizmet sağlayıcınızın İYS kodunuzu, marka kodunuzu ve İYS API erişiminizi"
        " tanımlaması gerekir. Bunu kendisinden isteyin; ardından müşterilerinizin izinlerini"
        " burada arayabilir, ekleyebilir ve içe aktarabilirsiniz."
    ),
    "waiting for İYS": "İYS'ye gönderilecek",
    "in İYS": "İYS'de",
    "refused by İYS": "İYS reddetti",
    "from İYS": "İYS'den geldi",
    "API": "API",
    "file import": "dosyadan",
    "panel": "panel",
    "RET reply by SMS": "SMS ile RET yanıtı",
    "İYS": "İYS",
    "BIREYSEL (individual)": "BIREYSEL (kişi)",
    "TACIR (trader)": "TACIR (işletme)",
    "ONAY (consent given)": "ONAY (izin verildi)",
    "RET (withdrawn)": "RET (izin geri alındı)",
    "Web site": "Web sitesi",
    "Message (SMS)": "Mesaj (SMS)",
    "In person": "Fiziksel ortam",
    "Wet signature": "Islak imza",
    "Call centre": "Çağrı merkezi",
    "Social media": "Sosyal medya",
    "E-mail": "E-posta",
    "Mobile app": "Mobil uygulama",
    "Other electronic channel": "Diğer elektronik ortam",
    "At an event": "Etkinlik",
    "ATM": "ATM",
    "Court or authority decision": "Mahkeme ya da kurum kararı",
    "Consent from before İYS (2015)": "İYS öncesi izin (2015)",
    "The record for +{number} was kept; it waits to be sent to İYS.": (
        "+{number} için kayıt saklandı; İYS'ye gönderilmeyi bekliyor."
    ),
    "{file}: {rows} rows": "{file}: {rows} satır",
    "Kept: {accepted}": "Saklanan: {accepted}",
    "Refused: {refused}": "Reddedilen: {refused}",
    "Refused rows": "Reddedilen satırlar",
    "Refused rows: fix them in the file and import it again (the kept rows are refused then as repeats, and change nothing).": (
        "Reddedilen satırlar: dosyada düzeltip yeniden içe aktarın (saklanmış satırlar o zaman"
        " tekrar olarak reddedilir ve hiçbir şeyi değiştirmez)."
    ),
    "The first {shown} are shown.": "İlk {shown} tanesi gösteriliyor.",
    "Your İYS connection": "İYS bağlantınız",
    "Brand code": "Marka kodu",
    "İYS code": "İYS kodu",
    "Commercial sends": "Ticari gönderimler",
    "checked": "denetleniyor",
    "They go only to numbers whose record in force is ONAY.": (
        "Yalnızca geçerli kaydı ONAY olan numaralara gider."
    ),
    "not checked": "denetlenmiyor",
    "Records are kept and sent to İYS; sends are not checked against them.": (
        "Kayıtlar saklanır ve İYS'ye gönderilir; gönderimler bunlara göre denetlenmez."
    ),
    "Last try:": "Son deneme:",
    "Last sent to İYS": "İYS'ye son gönderim",
    "Last read from İYS": "İYS'den son okuma",
    "Last İYS error:": "Son İYS hatası:",
    "Records by sync state": "Eşitleme durumuna göre kayıtlar",
    "Add a record": "Kayıt ekle",
    "Recipient type": "Alıcı tipi",
    "Status": "Durum",
    "Where the recipient gave or withdrew consent.": (
        "Alıcının iznini nerede verdiği ya da geri aldığı."
    ),
    "None (TACIR only)": "Yok (yalnızca TACIR)",
    "Consent date (Istanbul time)": "İzin tarihi (İstanbul saati)",
    "Date": "Tarih",
    "Time of day": "Saat",
    "Add the record": "Kaydı ekle",
    "Import a file": "Dosyadan içe aktar",
    "An Excel (.xlsx, .xls), LibreOffice (.ods) or CSV file with a header row: a phone column (telefon, gsm, phone…) and, as you need them, Durum (ONAY or RET; ONAY when there is none), Alıcı Tipi (BIREYSEL when there is none), Kaynak (HS_WEB…) and İzin Tarihi (2024-03-15 14:30:00 or 15.03.2024 14:30). Rows are added in the file's order.": (
        "Başlık satırı olan bir Excel (.xlsx, .xls), LibreOffice (.ods) ya da CSV dosyası:"
        " bir telefon sütunu (telefon, gsm, phone…) ve gerekirse Durum (ONAY ya da RET; yoksa"
        " ONAY), Alıcı Tipi (yoksa BIREYSEL), Kaynak (HS_WEB…) ve İzin Tarihi (2024-03-15"
        " 14:30:00 ya da 15.03.2024 14:30). Satırlar dosyadaki sırayla eklenir."
    ),
    "optional: the first sheet with data otherwise": (
        "isteğe bağlı: verilmezse veri olan ilk sayfa"
    ),
    "Records": "Kayıtlar",
    "Search the records": "Kayıtlarda ara",
    "Any status": "Her durum",
    "Any recipient type": "Her alıcı tipi",
    "Sync state": "Eşitleme durumu",
    "Any sync state": "Her eşitleme durumu",
    "In force only": "Yalnızca geçerli olanlar",
    "Search": "Ara",
    "In force for +{number}": "+{number} için geçerli kayıt",
    "no record: commercial messages may not go to it": (
        "kayıt yok: bu numaraya ticari ileti gönderilemez"
    ),
    "Older records, newest first.": "Daha eski kayıtlar, en yeniler önce.",
    "Type": "Tür",
    "Consent date": "İzin tarihi",
    "Origin": "Geldiği yer",
    "Sync": "Eşitleme",
    "in force": "geçerli",
    "No record matches this search.": "Bu aramaya uyan kayıt yok.",
    "No records yet: add one above, or import a file.": (
        "Henüz kayıt yok: yukarıdan bir kayıt ekleyin ya da bir dosya içe aktarın."
    ),
    "The file has no rows.": "Dosyada satır yok.",
    "The file cannot be read.": "Dosya okunamadı.",
    # İYS's problem codes, as the page explains them.
    "The number is not a Turkish mobile number.": "Numara bir Türkiye cep telefonu numarası değil.",
    "The recipient type is BIREYSEL or TACIR.": "Alıcı tipi BIREYSEL ya da TACIR olmalı.",
    "The consent type is not one İYS knows.": "İzin türü İYS'nin tanıdığı bir tür değil.",
    "The status is ONAY or RET.": "Durum ONAY ya da RET olmalı.",
    "The source is not one of İYS's sources for a brand.": (
        "Kaynak, İYS'nin markalar için tanımladığı kaynaklardan biri değil."
    ),
    "The consent date is not a date and time.": "İzin tarihi geçerli bir tarih ve saat değil.",
    "The consent date is before 1 May 2015, when İYS began.": (
        "İzin tarihi, İYS'nin başladığı 1 Mayıs 2015'ten önce."
    ),
    "The consent date is in the future.": "İzin tarihi ileri bir zamanda.",
    "A number's first record cannot be RET: there is no consent to withdraw yet.": (
        "Bir numaranın ilk kaydı RET olamaz: henüz geri alınacak bir izin yok."
    ),
    "The number's record in force has this status already.": (
        "Numaranın geçerli kaydı zaten bu durumda."
    ),
    "The consent date must be after the date of the number's record in force.": (
        "İzin tarihi, numaranın geçerli kaydının tarihinden sonra olmalı."
    ),
    "The consent date is required for BIREYSEL.": "BIREYSEL için izin tarihi gerekli.",
    "The source is required for BIREYSEL.": "BIREYSEL için kaynak gerekli.",
}
