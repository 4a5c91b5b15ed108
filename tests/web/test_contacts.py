"""Contact groups in the panel (typed numbers, CSV imports, renaming, removing) and the
blacklist, with what is refused changing nothing and another account's group a 404."""

from __future__ import annotations

import re

import pytest

from ileti.store.opt_out import record_opt_out
from support.panel import Panel

SZ = "Şükrü"
CG = "Çağlar"


pytestmark = pytest.mark.usefixtures("english")


async def _group(panel: Panel, name: str = "Customers", *, client=None) -> int:
    made = await panel.post("/panel/contacts", {"name": name}, client=client)
    assert made.status_code == 303, made.text
    return int(made.headers["location"].rsplit("/", 1)[1])


async def _numbers(panel: Panel, group_id: int, account_id: int | None = None) -> list[str]:
    return await panel.services.contacts.numbers(account_id or panel.account_id, group_id)


def _counts(text: str) -> tuple[int, int, int]:
    found = re.search(
        r"Added: (\d+) · Already in the group: (\d+) · Invalid: (\d+)", re.sub(r"\s+", " ", text)
    )
    assert found, text
    added, duplicates, invalid = found.groups()
    return int(added), int(duplicates), int(invalid)


async def test_a_group_is_created_listed_renamed_and_deleted(panel: Panel) -> None:
    group_id = await _group(panel)
    listing = await panel.get("/panel/contacts")
    assert f'href="/panel/contacts/{group_id}">Customers<' in listing.text
    assert f'href="/panel/send?contact_group={group_id}"' in listing.text

    renamed = await panel.post(f"/panel/contacts/{group_id}/rename", {"name": "VIP"})
    assert renamed.status_code == 303
    assert "<h1>VIP</h1>" in (await panel.get(renamed.headers["location"])).text

    deleted = await panel.post(f"/panel/contacts/{group_id}/delete")
    assert deleted.status_code == 303
    assert "The group was deleted." in (await panel.get(deleted.headers["location"])).text
    assert (await panel.get(f"/panel/contacts/{group_id}")).status_code == 404
    assert await panel.services.contacts.groups(panel.account_id) == []


async def test_a_taken_or_empty_name_is_refused_and_changes_nothing(panel: Panel) -> None:
    first = await _group(panel, "Customers")
    other = await _group(panel, "Suppliers")
    taken = await panel.post("/panel/contacts", {"name": "Customers"})
    assert taken.status_code == 400
    assert "the account has a group of that name already" in taken.text
    empty = await panel.post("/panel/contacts", {"name": "   "})
    assert empty.status_code == 400 and "is required" in empty.text
    clash = await panel.post(f"/panel/contacts/{other}/rename", {"name": "Customers"})
    assert clash.status_code == 400
    groups = await panel.services.contacts.groups(panel.account_id)
    assert [(g.id, g.name) for g in groups] == [(first, "Customers"), (other, "Suppliers")]


async def test_typed_numbers_are_normalised_and_invalid_lines_reported(panel: Panel) -> None:
    group_id = await _group(panel)
    typed = "0532 555 12 34, 0532 555 12 35;abc\n+90 532 555 12 34\n\n0212 555 12 34"
    answer = await panel.post(f"/panel/contacts/{group_id}/numbers", {"numbers": typed})
    assert answer.status_code == 200
    assert _counts(answer.text) == (2, 1, 2)
    table = answer.text.split('data-testid="invalid-lines"')[1].split("</table>")[0]
    assert "abc" in table and "is not a valid phone number" in table
    assert "0212 555 12 34" in table and "landline" in table
    assert await _numbers(panel, group_id) == ["905325551234", "905325551235"]
    assert "+905325551235" in answer.text and 'data-testid="group-size">2 numbers' in answer.text

    again = await panel.post(f"/panel/contacts/{group_id}/numbers", {"numbers": "05325551234"})
    assert _counts(again.text) == (0, 1, 0)


async def test_a_contact_with_its_names_and_in_turkish(panel: Panel) -> None:
    group_id = await _group(panel)
    await panel.post(
        f"/panel/contacts/{group_id}/numbers",
        {"numbers": "05325551234", "first_name": SZ, "last_name": CG},
    )
    page = await panel.get(f"/panel/contacts/{group_id}")
    assert f"<td>{SZ}</td>" in page.text and f"<td>{CG}</td>" in page.text
    member = panel.member.client
    turkish = await member.get(f"/panel/contacts/{group_id}")
    assert "Numara ekle" in turkish.text and "Bu gruba gönder" in turkish.text
    refused = await panel.post(
        f"/panel/contacts/{group_id}/numbers", {"numbers": "abc"}, client=member
    )
    assert "Geçersiz: 1" in refused.text and "geçerli bir telefon numarası değil" in refused.text


async def test_nothing_typed_is_refused(panel: Panel) -> None:
    group_id = await _group(panel)
    answer = await panel.post(f"/panel/contacts/{group_id}/numbers", {"numbers": " , ;\n"})
    assert answer.status_code == 400 and "gives no number" in answer.text
    assert await _numbers(panel, group_id) == []


def _upload(content: bytes) -> dict[str, object]:
    return {"file": ("rehber.csv", content, "text/csv")}


async def test_a_utf8_csv_with_a_bom_and_commas(panel: Panel) -> None:
    group_id = await _group(panel)
    csv = (
        f"\ufeffAd,Soyad,Telefon\n{SZ},{CG},0532 555 12 34\n"
        "Ayşe,Yılmaz,05325551235\nBiri,,12345\n"
        f"{SZ},{CG},+905325551234\n"
    ).encode()
    answer = await panel.post(f"/panel/contacts/{group_id}/import", files=_upload(csv))
    assert answer.status_code == 200, answer.text
    assert _counts(answer.text) == (2, 1, 1)
    table = answer.text.split('data-testid="invalid-lines"')[1].split("</table>")[0]
    assert '<th class="num">Row</th>' in table and '<td class="num">4</td>' in table
    members, _ = await panel.services.contacts.members(panel.account_id, group_id)
    assert [(m.number, m.first_name, m.last_name) for m in members] == [
        ("905325551234", SZ, CG),
        ("905325551235", "Ayşe", "Yılmaz"),
    ]


async def test_a_windows_1254_csv_with_semicolons(panel: Panel) -> None:
    group_id = await _group(panel)
    csv = f"AD;SOYAD;GSM\r\n{SZ};{CG};0532 555 12 34\r\nİpek;Işık;0533 555 12 36\r\n"
    answer = await panel.post(
        f"/panel/contacts/{group_id}/import", files=_upload(csv.encode("cp1254"))
    )
    assert _counts(answer.text) == (2, 0, 0)
    members, _ = await panel.services.contacts.members(panel.account_id, group_id)
    assert [(m.first_name, m.last_name) for m in members] == [(SZ, CG), ("İpek", "Işık")]


async def test_a_csv_of_bare_numbers_and_one_without_a_phone_column(panel: Panel) -> None:
    group_id = await _group(panel)
    bare = await panel.post(
        f"/panel/contacts/{group_id}/import", files=_upload(b"05325551234\n05325551235\n")
    )
    assert _counts(bare.text) == (2, 0, 0)
    headless = await panel.post(
        f"/panel/contacts/{group_id}/import", files=_upload(b"Ad;Soyad\nAli;Veli\n")
    )
    assert headless.status_code == 400 and "without a phone column" in headless.text
    assert len(await _numbers(panel, group_id)) == 2


async def test_removing_chosen_numbers(panel: Panel) -> None:
    group_id = await _group(panel)
    await panel.post(f"/panel/contacts/{group_id}/numbers", {"numbers": "05325551234,05325551235"})
    members, _ = await panel.services.contacts.members(panel.account_id, group_id)
    answer = await panel.owner.client.post(
        f"/panel/contacts/{group_id}/remove",
        data={"csrf": panel.csrf(panel.owner.client), "contact": [str(members[0].id)]},
    )
    assert answer.status_code == 303
    assert "1 numbers removed" in (await panel.get(answer.headers["location"])).text
    assert await _numbers(panel, group_id) == ["905325551235"]


async def test_a_big_group_pages_by_cursor(panel: Panel) -> None:
    group_id = await _group(panel)
    typed = "\n".join(f"0532 555 {n:04d}" for n in range(150))
    await panel.post(f"/panel/contacts/{group_id}/numbers", {"numbers": typed})
    first = await panel.get(f"/panel/contacts/{group_id}")
    assert first.text.count('name="contact"') == 100
    found = re.search(r'href="(/panel/contacts/\d+\?after=\d+)" rel="next"', first.text)
    assert found
    second = await panel.get(found.group(1))
    assert second.text.count('name="contact"') == 50 and 'rel="next"' not in second.text
    assert "+905325550149" in second.text and "+905325550149" not in first.text


async def test_another_accounts_group_is_a_404_and_stays_as_it_was(panel: Panel) -> None:
    mine = await _group(panel)
    await panel.post(f"/panel/contacts/{mine}/numbers", {"numbers": "05325551234"})
    theirs = await _group(panel, "Rival list", client=panel.rival.client)
    await panel.post(
        f"/panel/contacts/{theirs}/numbers", {"numbers": "05335551234"}, client=panel.rival.client
    )
    [their_contact], _ = await panel.services.contacts.members(panel.rival_account_id, theirs)

    assert (await panel.get(f"/panel/contacts/{theirs}")).status_code == 404
    assert (await panel.get("/panel/contacts/99999999999999999999")).status_code == 404
    for action, data in (
        ("numbers", {"numbers": "05325559999"}),
        ("rename", {"name": "Mine now"}),
        ("delete", {}),
        ("remove", {"contact": str(their_contact.id)}),
    ):
        answer = await panel.post(f"/panel/contacts/{theirs}/{action}", data)
        assert answer.status_code == 404, action
        assert "belongs to another account" in answer.text
    imported = await panel.post(f"/panel/contacts/{theirs}/import", files=_upload(b"05325559999\n"))
    assert imported.status_code == 404
    # Their contact's id in the form of my own group's page.
    by_field = await panel.post(
        f"/panel/contacts/{mine}/remove", {"contact": str(their_contact.id)}
    )
    assert by_field.status_code == 404

    rival_groups = await panel.services.contacts.groups(panel.rival_account_id)
    assert [(g.id, g.name, g.size) for g in rival_groups] == [(theirs, "Rival list", 1)]
    assert await _numbers(panel, mine) == ["905325551234"]
    assert "Rival list" not in (await panel.get("/panel/contacts")).text


# The blacklist.


async def test_a_number_is_blacklisted_and_taken_off(panel: Panel) -> None:
    added = await panel.post("/panel/blacklist/add", {"number": "0532 555 12 34"})
    assert added.status_code == 303
    page = await panel.get(added.headers["location"])
    assert "+905325551234 is on the blacklist" in page.text
    row = page.text.split('data-testid="blacklist"')[1]
    assert "+905325551234" in row and "Added by your account" in row and "every message" in row
    removed = await panel.post("/panel/blacklist/remove", {"number": "905325551234"})
    assert (
        "+905325551234 is off the blacklist" in (await panel.get(removed.headers["location"])).text
    )
    entries, _ = await panel.services.blacklist.page(panel.account_id, 10)
    assert entries == []


async def test_an_invalid_number_is_refused_and_listed_nowhere(panel: Panel) -> None:
    answer = await panel.post("/panel/blacklist/add", {"number": "0212 555 12 34"})
    assert answer.status_code == 400
    assert "Not added: 0212 555 12 34 is a landline" in answer.text and "TS-1034" in answer.text
    entries, _ = await panel.services.blacklist.page(panel.account_id, 10)
    assert entries == []


async def test_a_recipients_ret_opt_out_is_shown_and_only_narrowed(panel: Panel) -> None:
    async with panel.db.write() as conn:
        await record_opt_out(conn, "05325550000", "ACME", panel.clock.now())
    page = await panel.get("/panel/blacklist")
    row = page.text.split("+905325550000")[1].split("</tr>")[0]
    assert "The recipient&#39;s RET reply" in row and "advertising" in row
    assert "cannot be removed" in row and "<button" not in row

    refused = await panel.post("/panel/blacklist/remove", {"number": "05325550000"})
    assert refused.status_code == 400 and "TS-1039" in refused.text
    assert "only by the recipient&#39;s own RET opt-out" in refused.text
    # The account widens it to every message, then takes its widening back.
    await panel.post("/panel/blacklist/add", {"number": "05325550000"})
    widened = (await panel.get("/panel/blacklist")).text.split("+905325550000")[1]
    assert "widened by your account" in widened.split("</tr>")[0]
    narrowed = await panel.post("/panel/blacklist/remove", {"number": "05325550000"})
    assert "opted out with RET itself" in (await panel.get(narrowed.headers["location"])).text
    [entry], _ = await panel.services.blacklist.page(panel.account_id, 10)
    assert (entry.number, entry.scope) == ("905325550000", "advertising")


async def test_another_accounts_blacklist_is_neither_seen_nor_changed(panel: Panel) -> None:
    await panel.post("/panel/blacklist/add", {"number": "05325551234"})
    rivals = await panel.get("/panel/blacklist", client=panel.rival.client)
    assert "905325551234" not in rivals.text and "The blacklist is empty." in rivals.text
    answer = await panel.post(
        "/panel/blacklist/remove", {"number": "05325551234"}, client=panel.rival.client
    )
    assert answer.status_code == 400
    entries, _ = await panel.services.blacklist.page(panel.account_id, 10)
    assert [e.number for e in entries] == ["905325551234"]


async def test_the_blacklist_pages_by_cursor(panel: Panel) -> None:
    for n in range(105):
        await panel.services.blacklist.add(panel.account_id, f"0532555{n:04d}")
    first = await panel.get("/panel/blacklist")
    assert first.text.count("Added by your account") == 100
    found = re.search(r'href="(/panel/blacklist\?before=\d+)" rel="next"', first.text)
    assert found
    second = await panel.get(found.group(1))
    assert second.text.count("Added by your account") == 5
    assert "+905325550000" in second.text


async def test_deleting_from_htmx_asks_the_browser_to_go_to_the_list(panel: Panel) -> None:
    group_id = await _group(panel)
    answer = await panel.post(f"/panel/contacts/{group_id}/delete", headers={"HX-Request": "true"})
    assert (
        answer.status_code == 204
        and answer.headers["HX-Redirect"] == "/panel/contacts?done=deleted"
    )
    assert await panel.services.contacts.groups(panel.account_id) == []
