"""The documents library: uploads through the API and the back-office (real multipart,
real PDFs checked by pypdf), bad files refused with nothing left behind, the PDF served
with its headers and ranges, the public pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest

from conseils import search
from minutes import files
from minutes.demo import DOCUMENTS, load_demo_documents
from minutes.tables import Document, StoredFile
from tests.minutes.documents_support import (
    BAD,
    FIELDS,
    good_pdf,
    stored_files,
    temporary_files,
)
from tests.support.backoffice_support import csrf_token, signed_in
from tests.support.facilitator_support import make_facilitator


async def upload(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    content: bytes,
    *,
    filename: str = "fiche projet.pdf",
    **fields: str,
) -> httpx.Response:
    return await client.post(
        "/api/v1/documents",
        headers=auth,
        data={**FIELDS, **fields},
        files={"file": (filename, content, "application/pdf")},
    )


async def test_a_pdf_is_stored_once_with_its_text_and_listed(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    content = good_pdf("Budget des fêtes de quartier")  # fpdf2 dates each PDF: made once
    answer = await upload(client, tamaris_auth, content)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["pages"] == 1 and body["council"] == "ales-tamaris"
    assert body["filename"] == "fiche projet.pdf"
    row = await StoredFile.select().first()
    assert "Budget des fêtes de quartier" in row["text"]
    assert files.path_of(row["sha256"]).stat().st_size == body["size"] == row["size"]
    again = await upload(client, tamaris_auth, content)
    assert again.status_code == 201
    assert await StoredFile.count() == 1  # the same bytes: one file
    assert temporary_files() == []

    listed = (await client.get("/api/v1/documents", params={"council": "ales-tamaris"})).json()
    assert sorted(d["id"] for d in listed) == [body["id"], again.json()["id"]]
    page = await client.get("/documents")
    assert "Fonds de Participation des Habitants" in page.text and "Fiche projet FPH" in page.text
    council = await client.get("/conseils/ales-tamaris")
    assert 'id="documents"' in council.text and "Fiche projet FPH" in council.text
    other = await client.get("/conseils/ales-rive-droite")
    assert "Fiche projet FPH" not in other.text  # a council's document stays on its page


async def test_serving_type_size_name_etag_and_ranges(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    content = good_pdf()
    body = (await upload(client, tamaris_auth, content, filename="Règlement été.pdf")).json()
    url = body["url"].split("testserver.local", 1)[-1].split("8000", 1)[-1]
    whole = await client.get(url)
    assert whole.status_code == 200
    assert whole.content == content
    assert whole.headers["content-type"] == "application/pdf"
    assert whole.headers["content-length"] == str(len(content))
    assert whole.headers["accept-ranges"] == "bytes"
    disposition = whole.headers["content-disposition"]
    assert disposition.startswith('inline; filename="Reglement ete.pdf"')
    assert f"filename*=UTF-8''{quote('Règlement été.pdf', safe='')}" in disposition
    etag = whole.headers["etag"]
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
    part = await client.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == content[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(content)}"
    assert part.headers["content-length"] == "10"
    tail = await client.get(url, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == content[-5:]
    outside = await client.get(url, headers={"Range": f"bytes={len(content)}-"})
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{len(content)}"
    stale = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"autre"'})
    assert stale.status_code == 200 and stale.content == content
    assert (await client.get(f"/documents/{body['id'] + 1}/x.pdf")).status_code == 404


@pytest.mark.parametrize("kind", sorted(BAD))
async def test_a_file_that_is_not_a_good_pdf_is_refused_and_not_kept(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str], kind: str
) -> None:
    content, reason = BAD[kind]
    before = stored_files()
    answer = await upload(client, tamaris_auth, content, filename=f"{kind}.pdf")
    assert answer.status_code == 400, answer.text
    assert answer.json()["extra"][0]["key"] == "file"
    assert reason in answer.json()["extra"][0]["message"]
    assert await Document.count() == 0 and await StoredFile.count() == 0
    assert temporary_files() == [] and stored_files() == before


async def test_a_file_over_the_limit_is_refused_while_it_arrives(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    """Sent in 1 MB chunks without a length: the server stops reading soon after 20 MB,
    long before the 40 MB end, and leaves no partial file."""
    sent = 0
    boundary = "limite"
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in FIELDS.items()
    ).encode()
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="gros.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield head
        for _ in range(40):
            sent += 1
            yield b"0" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    answer = await client.post(
        "/api/v1/documents",
        headers={**tamaris_auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    assert answer.status_code == 400
    assert answer.json()["extra"] == [{"key": "file", "message": "le fichier dépasse 20 Mo"}]
    assert sent <= 22
    assert temporary_files() == [] and await StoredFile.count() == 0


async def test_a_path_in_the_filename_names_the_download_only(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    before = stored_files()
    answer = await upload(client, tamaris_auth, good_pdf(), filename="../../etc/passwd")
    assert answer.status_code == 201
    assert answer.json()["filename"] == "passwd.pdf"
    added = stored_files() - before
    assert len(added) == 1 and all(files.store() in p.parents for p in added)
    assert added.pop().name == f"{(await StoredFile.select().first())['sha256']}.pdf"


async def test_a_title_with_html_is_shown_as_text(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    title = '<script>alert("x")</script><b>Gras</b>'
    assert (await upload(client, tamaris_auth, good_pdf(), title=title)).status_code == 201
    for url in ("/documents", "/conseils/ales-tamaris"):
        page = (await client.get(url)).text
        assert "<script>alert" not in page and "&lt;script&gt;alert" in page


async def test_fields_are_checked_in_french(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    answer = await upload(
        client, tamaris_auth, good_pdf(), title=" ", category="tract",
        issued_on="2026-02-30", expires_on="2025-01-01",
    )  # fmt: skip
    assert answer.status_code == 400
    keys = {e["key"] for e in answer.json()["extra"]}
    assert keys == {"title", "category", "issued_on"}
    assert temporary_files() == [] and await StoredFile.count() == 0
    not_multipart = await client.post("/api/v1/documents", headers=tamaris_auth, json=FIELDS)
    assert not_multipart.status_code == 400
    assert "multipart/form-data" in not_multipart.json()["extra"][0]["message"]


async def test_who_may_add_and_delete(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    other = await make_facilitator("anim.rivedroite@ales.fr", "ales-rive-droite")
    refused = await upload(client, other, good_pdf())
    assert refused.status_code == 403 and refused.json()["code"] == "not_your_council"
    shared = await upload(client, tamaris_auth, good_pdf(), council="")
    assert shared.status_code == 403 and shared.json()["code"] == "admin_only"
    assert temporary_files() == [] and await StoredFile.count() == 0
    by_admin = await upload(client, admin_auth, good_pdf(), council="")
    assert by_admin.status_code == 201 and by_admin.json()["council"] is None
    # a shared document shows on every council's page
    assert "Fiche projet FPH" in (await client.get("/conseils/ales-rive-droite")).text
    mine = (await upload(client, tamaris_auth, good_pdf())).json()
    assert (
        await client.delete(f"/api/v1/documents/{mine['id']}", headers=other)
    ).status_code == 403
    gone = await client.delete(f"/api/v1/documents/{mine['id']}", headers=tamaris_auth)
    assert gone.status_code == 204
    assert (await client.get(f"/documents/{mine['id']}/x.pdf")).status_code == 404
    again = await client.delete(f"/api/v1/documents/{mine['id']}", headers=tamaris_auth)
    assert again.status_code == 404 and again.json()["code"] == "document_not_found"


async def test_an_expired_document_leaves_the_public_lists(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    old = await upload(
        client, tamaris_auth, good_pdf(), title="Ancien règlement",
        issued_on="2020-01-01", expires_on="2021-01-01",
    )  # fmt: skip
    assert old.status_code == 201
    assert "Ancien règlement" not in (await client.get("/documents")).text
    assert (await client.get("/api/v1/documents")).json() == []
    assert (await client.get(f"/documents/{old.json()['id']}/a.pdf")).status_code == 200


# ---------------------------------------------------------------- the back-office


async def test_back_office_upload_edit_delete(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    await signed_in(client, "anim.tamaris@ales.fr")
    form = await client.get("/animation/documents/nouveau")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    token = await csrf_token(client)
    created = await client.post(
        "/animation/documents/nouveau",
        data={"_csrf_token": token, **FIELDS},
        files={"file": ("fiche.pdf", good_pdf(), "application/pdf")},
    )
    assert created.status_code == 303, created.text
    listed = await client.get("/animation/documents")
    assert "Fiche projet FPH" in listed.text
    document_id = (await Document.select(Document.id).first())["id"]
    bad = await client.post(
        f"/animation/documents/{document_id}",
        data={"_csrf_token": token, **FIELDS, "title": "Nouveau titre"},
        files={"file": ("page.pdf", BAD["html"][0], "application/pdf")},
    )
    assert bad.status_code == 400
    assert "Ce fichier n&#39;est pas un PDF" in bad.text and 'name="_csrf_token"' in bad.text
    kept = await client.post(
        f"/animation/documents/{document_id}",
        data={"_csrf_token": token, **FIELDS, "title": "Nouveau titre"},
        files={"file": ("", b"", "application/octet-stream")},  # no new file chosen
    )
    assert kept.status_code == 303
    assert (await Document.select(Document.title).first())["title"] == "Nouveau titre"
    deleted = await client.post(
        f"/animation/documents/{document_id}/supprimer", data={"_csrf_token": token}
    )
    assert deleted.status_code == 303 and await Document.count() == 0
    assert temporary_files() == []


async def test_back_office_upload_without_the_token_reads_no_file(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    await signed_in(client, "anim.tamaris@ales.fr")
    forged = await client.post(
        "/animation/documents/nouveau",
        data={"_csrf_token": "0" * 128, **FIELDS},
        files={"file": ("fiche.pdf", good_pdf(), "application/pdf")},
    )
    assert forged.status_code == 403
    assert temporary_files() == [] and await StoredFile.count() == 0


async def test_a_document_is_found_by_the_words_of_its_pdf(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    body = (await upload(client, tamaris_auth, good_pdf("Subvention des jardins partagés"))).json()
    hits = await search.search("jardin partagé", kinds=["document"])
    assert [hit.object_id for hit in hits] == [body["id"]]
    await client.delete(f"/api/v1/documents/{body['id']}", headers=tamaris_auth)
    assert await search.search("jardin", kinds=["document"]) == []


async def test_the_demo_library(client: httpx.AsyncClient, demo: None) -> None:
    await load_demo_documents()
    await load_demo_documents()  # once only
    page = (await client.get("/documents")).text
    assert page.count('<a href="/documents/') == len(DOCUMENTS)
    assert page.index("Fonds de Participation des Habitants (FPH)") < page.index("Règlements")
    assert await search.search("fiche bilan", kinds=["document"])
