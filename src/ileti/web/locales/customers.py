"""Customers: a reseller's accounts, transfers, prices and usage; the low-balance warning."""

TR = {
    "Customers": "Müşteriler",
    "New customer": "Yeni müşteri",
    "The accounts you run for your own customers. Each sends with its own keys, sender IDs and panel users. Give one a balance of its own and transfer credits to it, or let it spend yours.": (
        "Kendi müşterileriniz için yönettiğiniz hesaplar. Her biri kendi anahtarları,"
        " başlıkları ve panel kullanıcılarıyla gönderir. Birine kendi bakiyesini verip ona"
        " kredi aktarın ya da sizin bakiyenizi kullanmasına izin verin."
    ),
    "Your credits": "Krediniz",
    "Your international balance": "Yurt dışı bakiyeniz",
    "Customer": "Müşteri",
    "Last activity": "Son etkinlik",
    "no messages yet": "henüz mesaj yok",
    "You have no customers yet. Create an account for each business you sell to: it gets its own keys, sender IDs and panel users.": (
        "Henüz müşteriniz yok. Hizmet verdiğiniz her işletme için bir hesap oluşturun: kendi"
        " anahtarları, başlıkları ve panel kullanıcıları olur."
    ),
    "Active": "Etkin",
    "Suspended": "Askıda",
    "Shares your balance": "Bakiyenizi kullanır",
    "at most {cap} credits a day": "günde en çok {cap} kredi",
    "no daily cap": "günlük sınır yok",
    "{credits} credits": "{credits} kredi",
    "International: {amount}": "Yurt dışı: {amount}",
    # A new customer.
    "Name": "Ad",
    "The account's name, as the business is known; it must be free across the gateway.": (
        "Hesabın adı, işletmenin bilinen adıyla; sistemde başka bir hesapta kullanılmamalı."
    ),
    "Its own balance": "Kendi bakiyesi",
    "It spends what you transfer to it, and you can take back what it has not spent.": (
        "Ona aktardığınızı harcar; harcamadığını geri alabilirsiniz."
    ),
    "Its sends are taken from your credits, up to a daily cap if you set one.": (
        "Gönderimleri sizin kredinizden düşülür; isterseniz günlük bir sınır koyarsınız."
    ),
    "Daily cap (credits)": "Günlük sınır (kredi)",
    "Only for an account that shares your balance: the most it may spend an Istanbul day. Empty: no cap.": (
        "Yalnızca bakiyenizi kullanan bir hesap için: İstanbul saatiyle bir günde"
        " harcayabileceği en çok kredi. Boş: sınır yok."
    ),
    "Create the customer": "Müşteriyi oluştur",
    "The daily cap is a whole number of credits.": "Günlük sınır tam sayı bir kredi olmalı.",
    "The name “{name}” is taken: choose another.": (
        "“{name}” adı kullanılıyor: başka bir ad seçin."
    ),
    "Give the customer a name.": "Müşteriye bir ad verin.",
    "Invalid field name: has at most 100 characters, no control characters.": (
        "Ad en çok 100 karakter olabilir ve denetim karakteri içeremez."
    ),
    "Invalid field daily_cap: is for a customer account that shares its reseller's balance.": (
        "Günlük sınır yalnızca bakiyenizi kullanan bir müşteri hesabı için verilir."
    ),
    "Invalid field daily_cap: must be a whole number of credits, 1 or more.": (
        "Günlük sınır 1 ya da daha büyük bir tam sayı olmalı."
    ),
    # A customer's page.
    "Suspend": "Askıya al",
    "Reactivate": "Yeniden etkinleştir",
    "The customer account is created. Add a panel user for it below, so that it can log in.": (
        "Müşteri hesabı oluşturuldu. Giriş yapabilmesi için aşağıdan ona bir panel kullanıcısı"
        " ekleyin."
    ),
    "The transfer is done.": "Aktarım yapıldı.",
    "The customer is suspended: its keys and users are refused until you reactivate it.": (
        "Müşteri askıya alındı: siz yeniden etkinleştirene kadar anahtarları ve kullanıcıları"
        " reddedilir."
    ),
    "The customer is active again.": "Müşteri yeniden etkin.",
    "The price is set.": "Fiyat kaydedildi.",
    "The customer pays your price there again.": "Müşteri orada yeniden sizin fiyatınızı öder.",
    "Account id": "Hesap numarası",
    "This customer spends your balance: it has none of its own to transfer to or from.": (
        "Bu müşteri sizin bakiyenizi kullanır: aktarım yapılacak kendi bakiyesi yok."
    ),
    "You have {credits} credits and {amount} international balance.": (
        "{credits} krediniz ve {amount} yurt dışı bakiyeniz var."
    ),
    "Direction": "Yön",
    "To the customer": "Müşteriye",
    "Back from the customer": "Müşteriden geri",
    "International balance (TL)": "Yurt dışı bakiye (TL)",
    "Write the amount as a whole number of credits.": "Tutarı tam sayı kredi olarak yazın.",
    "Write the amount in TL, e.g. 12,50.": "Tutarı TL olarak yazın, örneğin 12,50.",
    "Your credits cannot cover this transfer.": "Krediniz bu aktarımı karşılamıyor.",
    "Your international balance cannot cover this transfer.": (
        "Yurt dışı bakiyeniz bu aktarımı karşılamıyor."
    ),
    "The customer's credits cannot cover this transfer.": (
        "Müşterinin kredisi bu aktarımı karşılamıyor."
    ),
    "The customer's international balance cannot cover this transfer.": (
        "Müşterinin yurt dışı bakiyesi bu aktarımı karşılamıyor."
    ),
    "This form was sent already with another amount: open the page again.": (
        "Bu form başka bir tutarla zaten gönderildi: sayfayı yeniden açın."
    ),
    "Invalid field direction: must be to_child or from_child.": (
        "Aktarımın yönü müşteriye ya da müşteriden olmalı."
    ),
    "Invalid field credits: must be a positive amount.": "Kredi sıfırdan büyük olmalı.",
    "Invalid field international: must be a positive amount.": "Tutar sıfırdan büyük olmalı.",
    "Invalid field account: shares your balance: it has none of its own to transfer to or from.": (
        "Bu müşteri sizin bakiyenizi kullanır: aktarım yapılacak kendi bakiyesi yok."
    ),
    "Panel users": "Panel kullanıcıları",
    "No one can log in to this account yet.": "Bu hesaba henüz kimse giriş yapamıyor.",
    "Invalid field role: must be owner or member.": "Rol sahip ya da üye olmalı.",
    "Prices abroad": "Yurt dışı fiyatları",
    "What the customer pays a segment from its international balance; messages to Turkey cost one credit a segment. A price is never below yours.": (
        "Müşterinin yurt dışı bakiyesinden parça başına ödediği tutar; Türkiye'ye mesajlar"
        " parça başına bir kredidir. Bir fiyat hiçbir zaman sizinkinden düşük olamaz."
    ),
    "Your price": "Sizin fiyatınız",
    "The customer's price": "Müşterinin fiyatı",
    "set by you": "sizin belirlediğiniz",
    "Reset to yours": "Sizinkine döndür",
    "Country code": "Ülke kodu",
    "Two letters, e.g. DE; * for every other country.": (
        "İki harf, örneğin DE; diğer tüm ülkeler için *."
    ),
    "Price a segment (TL)": "Parça başına fiyat (TL)",
    "e.g. 0,45": "örneğin 0,45",
    "Set the price": "Fiyatı kaydet",
    "Write the price in TL, e.g. 0,45.": "Fiyatı TL olarak yazın, örneğin 0,45.",
    "every other country": "diğer tüm ülkeler",
    "{price} a segment to {where} is below your own price, {floor}: a customer's price cannot be lower.": (
        "{where} için parça başına {price}, sizin fiyatınızın ({floor}) altında: bir"
        " müşterinin fiyatı daha düşük olamaz."
    ),
    "Invalid field region: must be a country's ISO code in capitals (DE), or * for the rest.": (
        "Ülke kodu büyük harfle bir ISO kodu (DE) ya da diğer tüm ülkeler için * olmalı."
    ),
    "Invalid field region: messages to Turkey cost one credit a segment, not a price.": (
        "Türkiye'ye mesajlar parça başına bir kredidir; fiyatı belirlenmez."
    ),
    "Usage": "Kullanım",
    "Credits refunded": "İade edilen kredi",
    "International refunded": "İade edilen yurt dışı",
    "Total": "Toplam",
    "No messages in these days.": "Bu günlerde mesaj yok.",
    "Choose the days as dates.": "Günleri tarih olarak seçin.",
    "Invalid field date_from: is at most 366 days before date_to.": (
        "Başlangıç, bitişten en çok 366 gün önce olabilir."
    ),
    "Recent transfers": "Son aktarımlar",
    "No transfers yet.": "Henüz aktarım yok.",
    # Suspending and reactivating.
    "Suspend the customer": "Müşteriyi askıya al",
    "Reactivate the customer": "Müşteriyi yeniden etkinleştir",
    "{name} is active already.": "{name} zaten etkin.",
    "{name} is suspended already.": "{name} zaten askıda.",
    "Reactivate {name}? Its keys and panel users work again at once.": (
        "{name} yeniden etkinleştirilsin mi? Anahtarları ve panel kullanıcıları hemen yeniden"
        " çalışır."
    ),
    "Suspend {name}? Its keys are refused within seconds and its users cannot log in, until you reactivate it. Its balance stays as it is.": (
        "{name} askıya alınsın mı? Siz yeniden etkinleştirene kadar anahtarları birkaç saniye"
        " içinde reddedilir ve kullanıcıları giriş yapamaz. Bakiyesi olduğu gibi kalır."
    ),
    "Back to the customer": "Müşteriye dön",
    # The low-balance warning (every page) and its threshold (billing).
    "Low balance:": "Bakiye azaldı:",
    "{credits} credits left, below the {threshold} you set.": (
        "{credits} kredi kaldı; belirlediğiniz {threshold} sınırının altında."
    ),
    "Low-balance warning": "Düşük bakiye uyarısı",
    "Below this many credits every page of the panel shows a warning, and the webhooks that ask for account.low_balance get the event, once each time the credits go below it.": (
        "Krediniz bu sayının altına indiğinde panelin her sayfasında bir uyarı görünür ve"
        " account.low_balance olayını isteyen webhook'lara, kredi her altına indiğinde bir kez"
        " gönderilir."
    ),
    "The low-balance threshold is saved.": "Düşük bakiye sınırı kaydedildi.",
    "Warn below (credits)": "Şu kredinin altında uyar",
    "Empty: no warning.": "Boş: uyarı yok.",
    "The threshold is a whole number of credits (empty: none).": (
        "Sınır tam sayı bir kredi olmalı (boş: yok)."
    ),
    # The key form's permission.
    "Manage customer accounts": "Müşteri hesaplarını yönetme",
}
