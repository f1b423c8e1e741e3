"""Markdown descriptions: what a facilitator types renders as formatting, never as code."""

from __future__ import annotations

import pytest

from conseils.richtext import excerpt, render


def test_formatting_and_bare_links() -> None:
    html = render("**Ordre du jour** : *le parc*\n\n- un\n- deux\n\nhttps://ales.fr/parc")
    assert "<strong>Ordre du jour</strong>" in html and "<em>le parc</em>" in html
    assert "<ul>\n<li>un</li>" in html
    assert '<a href="https://ales.fr/parc" rel="nofollow ugc">https://ales.fr/parc</a>' in html


def test_mail_addresses_and_line_breaks() -> None:
    html = render("Écrire à contact@ales.fr\nou passer")
    assert '<a href="mailto:contact@ales.fr" rel="nofollow ugc">contact@ales.fr</a>' in html
    assert "<br />" in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<iframe src=//evil.example></iframe>",
        '<a href="javascript:alert(1)">x</a>',
        "<style>body{display:none}</style>",
    ],
)
def test_raw_html_is_shown_as_text(hostile: str) -> None:
    html = render(hostile)
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert "<style" not in html and 'href="javascript:' not in html
    assert "&lt;" in html


@pytest.mark.parametrize(
    "link",
    [
        "[clic](javascript:alert(1))",
        "[clic](JaVaScRiPt:alert(1))",
        "[clic](  javascript:alert(1))",
        "[clic](data:text/html;base64,PHNjcmlwdD4=)",
        "[clic](vbscript:msgbox)",
        "[clic](file:///etc/passwd)",
        "[clic](/relatif)",
        "<javascript:alert(1)>",
    ],
)
def test_only_http_https_and_mailto_links(link: str) -> None:
    assert "<a " not in render(link)


def test_links_are_nofollow_ugc() -> None:
    html = render('[la mairie](https://ales.fr "titre")')
    assert html == (
        '<p><a href="https://ales.fr" title="titre" rel="nofollow ugc">la mairie</a></p>\n'
    )


def test_no_image_from_elsewhere() -> None:
    html = render("![pisteur](https://pisteur.example/p.gif)")
    assert "<img" not in html


def test_headings_sit_under_the_page_headings() -> None:
    assert render("# Un\n\n## Deux\n\n###### Six") == "<h3>Un</h3>\n<h4>Deux</h4>\n<h6>Six</h6>\n"


def test_excerpt_is_the_words_without_the_markdown() -> None:
    assert excerpt("# Titre\n\n**Gras** et [lien](https://x.fr).") == "Titre Gras et lien."
    long = excerpt("mot " * 100, 30)
    assert len(long) <= 30 and long.endswith("…")
