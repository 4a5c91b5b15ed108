"""Excel to SMS: the campaigns list, the upload, the compose form and its preview, a campaign's
progress and its cancel, and the reasons the campaign service gives for a row left out."""

TR = {
    # The list.
    "Excel to SMS": "Excel'den SMS",
    "New campaign": "Yeni kampanya",
    "Upload the customer list you keep in Excel, write one message with its columns, see what it costs, then send.": (
        "Excel'de tuttuğunuz müşteri listesini yükleyin, sütunlarıyla tek bir mesaj yazın,"
        " maliyetini görün, sonra gönderin."
    ),
    "Campaigns": "Kampanyalar",
    "Campaign": "Kampanya",
    "Campaign {id}": "Kampanya {id}",
    "File": "Dosya",
    "Progress": "İlerleme",
    "Scheduled for {moment}": "{moment} için zamanlandı",
    "No campaigns yet.": "Henüz kampanya yok.",
    "Messages that reached a final state": "Son durumuna ulaşan mesajlar",
    "{done} of {total} done": "{total} mesajın {done} tanesi tamamlandı",
    "{count} delivered": "{count} iletildi",
    "{count} cancelled": "{count} iptal edildi",
    # The upload.
    "Customer list": "Müşteri listesi",
    "An Excel (.xlsx, .xls), LibreOffice (.ods) or CSV file, up to {size}; one row per customer, with a column of phone numbers.": (
        "En fazla {size} boyutunda bir Excel (.xlsx, .xls), LibreOffice (.ods) ya da CSV"
        " dosyası; her müşteri bir satırda ve telefon numaralarının olduğu bir sütunla."
    ),
    "Upload": "Yükle",
    "Choose a file to upload.": "Yüklenecek bir dosya seçin.",
    # The compose form.
    "Compose the campaign": "Kampanyayı hazırlayın",
    "The file": "Dosya",
    "Sheet": "Sayfa",
    "Phone column": "Telefon sütunu",
    "The first row names the columns": "İlk satır sütun başlıklarıdır",
    "The message": "Mesaj",
    "Columns (a button writes its placeholder where the cursor is; {Column|text} gives a default for empty cells):": (
        "Sütunlar (düğmeye basınca sütunun yer tutucusu imlecin olduğu yere yazılır;"
        " {Sütun|metin} boş hücreler için varsayılan bir metin verir):"
    ),
    "Message template": "Mesaj şablonu",
    "Campaign name": "Kampanya adı",
    "Preview": "Önizleme",
    "Row {row} ({number}), as its recipient will read it:": (
        "{row}. satır ({number}), alıcısının okuyacağı hâliyle:"
    ),
    "Write the message to see it as the first recipient will read it.": (
        "İlk alıcının nasıl okuyacağını görmek için mesajı yazın."
    ),
    "No row can be sent as written. Row {row}: {reason}": (
        "Bu hâliyle hiçbir satır gönderilemiyor. {row}. satır: {reason}"
    ),
    "The sheet has no rows.": "Sayfada hiç satır yok.",
    # The preview.
    "Rows": "Satır",
    "Will be sent": "Gönderilecek",
    "Invalid": "Geçersiz",
    "Duplicates": "Tekrarlanan",
    "Blacklisted": "Kara listede",
    "No İYS consent": "İYS izni yok",
    "Credits available": "Kullanılabilir kredi",
    "The first messages": "İlk mesajlar",
    "Rows left out": "Gönderilmeyecek satırlar",
    "Download the rows left out (CSV)": "Gönderilmeyecek satırları indir (CSV)",
    "The first {shown} are shown; the CSV file has them all.": (
        "İlk {shown} tanesi gösteriliyor; CSV dosyasında hepsi var."
    ),
    "{valid} messages will go out at {moment} (Istanbul time), for {credits} credits.": (
        "{valid} mesaj {moment} (İstanbul saati) zamanında, {credits} krediye gönderilecek."
    ),
    "{valid} messages will go out now, for {credits} credits.": (
        "{valid} mesaj şimdi, {credits} krediye gönderilecek."
    ),
    "Start the campaign": "Kampanyayı başlat",
    "No row of this file can be sent: nothing would be started.": (
        "Bu dosyanın hiçbir satırı gönderilemiyor: kampanya başlatılamaz."
    ),
    "Code": "Kod",
    # A campaign's page.
    "Accepted": "Kabul edilen",
    "Waiting to be sent": "Gönderilmeyi bekliyor",
    "Cancelled": "İptal edildi",
    "Every message has reached its final state.": "Tüm mesajlar son durumuna ulaştı.",
    "This page follows the campaign as the operators report.": (
        "Bu sayfa, operatörler rapor verdikçe kampanyayı izler."
    ),
    "Every message of the campaign": "Kampanyanın tüm mesajları",
    "Cancel the campaign": "Kampanyayı iptal et",
    "{queued} messages not yet handed to an operator will not be sent, and their credits come back to the account. Messages already sent are not touched.": (
        "Henüz operatöre iletilmemiş {queued} mesaj gönderilmeyecek ve kredileri hesaba geri"
        " yüklenecek. Gönderilmiş mesajlara dokunulmaz."
    ),
    "Yes, cancel it": "Evet, iptal et",
    "No, keep sending": "Hayır, gönderime devam et",
    "{count} messages cancelled; their credits are back on the account.": (
        "{count} mesaj iptal edildi; kredileri hesaba geri yüklendi."
    ),
    # Why the campaign service leaves a row out (its fixed reasons).
    "Not a phone number that can receive SMS.": "SMS alabilen bir telefon numarası değil.",
    "The number is on the account's blacklist.": "Numara hesabın kara listesinde.",
    "The number is abroad and the account has no international sending.": (
        "Numara yurt dışında ve hesabın yurt dışı gönderimi kapalı."
    ),
    "No number in the phone column.": "Telefon sütununda numara yok.",
    "The personalised message is empty.": "Kişiselleştirilmiş mesaj boş.",
    "The personalised message holds a control character.": (
        "Kişiselleştirilmiş mesajda bir kontrol karakteri var."
    ),
    "The number was stored as a number and lost digits (format the column as text in Excel).": (
        "Numara sayı olarak kaydedilmiş ve basamak kaybetmiş (Excel'de sütunu metin olarak"
        " biçimlendirin)."
    ),
}
