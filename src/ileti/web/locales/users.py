"""The account's users."""

TR = {
    "The password of {email}. Give it to them now: it is shown only this once.": (
        "{email} kullanıcısının parolası. Şimdi iletin: yalnızca bu kez gösterilir."
    ),
    "The user is removed.": "Kullanıcı silindi.",
    "Role": "Rol",
    "Added": "Eklenme",
    "you": "siz",
    "Owner": "Sahip",
    "Member": "Üye",
    "On": "Açık",
    "Off": "Kapalı",
    "New password": "Yeni parola",
    "Remove": "Sil",
    "Add a user": "Kullanıcı ekle",
    "Member: sends and reads reports": "Üye: gönderir ve raporları görür",
    "Owner: also keys, webhooks and users": "Sahip: ayrıca anahtarlar, webhook ve kullanıcılar",
    "A password is generated and shown once; the user can turn on two-step login after"
    " logging in.": (
        "Parola otomatik oluşturulur ve bir kez gösterilir; kullanıcı giriş yaptıktan sonra"
        " iki adımlı girişi açabilir."
    ),
    "Add user": "Ekle",
    "Remove user": "Kullanıcıyı sil",
    "Remove {email} from the account? Their sessions end at once.": (
        "{email} hesaptan silinsin mi? Açık oturumları hemen kapanır."
    ),
    "This is you: you will be logged out.": "Bu sizsiniz: oturumunuz kapanacak.",
    "A user with this email exists already.": "Bu e-posta adresiyle bir kullanıcı zaten var.",
    "“{email}” is not an email address.": "“{email}” bir e-posta adresi değil.",
    "An owner's password is reset only by the gateway's operator.": (
        "Bir sahibin parolasını yalnızca sistem yöneticisi sıfırlayabilir."
    ),
    "{email} is the account's last owner: add another owner first.": (
        "{email} hesabın son sahibi: önce başka bir sahip ekleyin."
    ),
}
