"""Documents: every format to a title and heading-path sections, every bad file to its reason."""

from __future__ import annotations

import pytest

from rag.documents import Document, Rejection, Section, corpus_collection, parse_document


def make_pdf(lines: list[str], title: str | None = None) -> bytes:
    """A one-page PDF whose lines are Helvetica text (WinAnsi), with xref offsets computed, so pypdf
    reads it as it reads an office suite's export. `title` goes into the document information."""

    def literal(text: str) -> bytes:
        return (
            b"(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("cp1252") + b")"
        )

    stream = b"\n".join(
        [b"BT /F1 12 Tf 72 720 Td 14 TL", *(literal(line) + b" Tj T*" for line in lines), b"ET"]
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    if title is not None:
        objects.append(b"<< /Title " + literal(title) + b" >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = b" /Info %d 0 R" % len(objects) if title is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info, xref)
    return bytes(out)


def parsed(source: str, data: bytes) -> Document:
    document = parse_document(source, data)
    assert isinstance(document, Document), document
    return document


MARKDOWN = """# Lei 14.300

Institui o marco legal da microgeração e minigeração distribuída.

## Fio B

A compensação passa a pagar parte da TUSD fio B.

### Transição

Escalonamento de 15 % em 2023 até 90 % em 2028.

```bash
# not a heading: inside a code fence
```

## Créditos

Créditos valem 60 meses.
"""

HTML = """<!doctype html><html><head><title>Custo de disponibilidade</title>
<style>body { color: red }</style><script>var x = "<h2>not text</h2>";</script></head>
<body><nav><a href="/">Início</a> menu lateral</nav>
<h1>Custo de disponibilidade</h1><p>O consumidor paga um mínimo &amp; sempre.</p>
<h2>Monofásico</h2><p>30 kWh por mês.</p><ul><li>bifásico: 50 kWh</li><li>trifásico: 100 kWh</li></ul>
<h3>Exemplo</h3><p>Conta de 25 kWh paga 30 kWh.</p>
</body></html>"""


def test_markdown_headings_become_paths_and_h1_the_title() -> None:
    document = parsed("regulatory/lei-14300.md", MARKDOWN.encode())
    assert document.title == "Lei 14.300"
    assert [s.heading for s in document.sections] == [
        ("Lei 14.300",),
        ("Lei 14.300", "Fio B"),
        ("Lei 14.300", "Fio B", "Transição"),
        ("Lei 14.300", "Créditos"),
    ]
    assert "# not a heading" in document.sections[2].text  # fenced code stays text
    assert document.sections[3].text == "Créditos valem 60 meses."


def test_html_drops_scripts_styles_and_nav_and_keeps_headings() -> None:
    document = parsed("regulatory/custo.html", HTML.encode())
    assert document.title == "Custo de disponibilidade"
    assert document.sections == (
        Section(("Custo de disponibilidade",), "O consumidor paga um mínimo & sempre."),
        Section(
            ("Custo de disponibilidade", "Monofásico"),
            "30 kWh por mês.\n\nbifásico: 50 kWh\n\ntrifásico: 100 kWh",
        ),
        Section(("Custo de disponibilidade", "Monofásico", "Exemplo"), "Conta de 25 kWh paga 30 kWh."),
    )
    text = " ".join(s.text for s in document.sections)
    assert "menu" not in text and "color" not in text and "not text" not in text


def test_html_without_title_takes_its_first_h1_or_the_file_name() -> None:
    assert parsed("sales/a.html", b"<h1>Pitch</h1><p>Texto.</p>").title == "Pitch"
    assert parsed("sales/como-vender_kits.htm", b"<p>Texto.</p>").title == "Como vender kits"


def test_text_first_line_is_the_title_and_standalone_short_lines_are_headings() -> None:
    text = (
        "Limites de micro e minigeração\n\nIntrodução\n\nMicrogeração vai até 75 kW.\nMinigeração acima.\n\n"
    )
    text += "Observação final sobre o tema, que termina com ponto.\n"
    document = parsed("regulatory/limites.txt", text.encode())
    assert document.title == "Limites de micro e minigeração"
    assert document.sections == (
        Section(
            ("Introdução",),
            "Microgeração vai até 75 kW.\nMinigeração acima.\n\n"
            "Observação final sobre o tema, que termina com ponto.",
        ),
    )


def test_text_with_a_bom_and_crlf_reads() -> None:
    document = parsed("sales/x.txt", "\ufeffTítulo\r\n\r\nCorpo do texto.\r\n".encode())
    assert (document.title, document.sections[0].text) == ("Título", "Corpo do texto.")


MANUAL_LINES = [
    "Instalação",
    "O inversor deve ficar à sombra (IP65), longe da chuva e com",
    "Ventilação livre de 30 cm.",  # a wrapped sentence's tail, though short and capitalised
    "Garantia",
    "Dez anos contra defeitos.",
]
MANUAL_SECTIONS = (
    Section(
        ("Instalação",),
        "O inversor deve ficar à sombra (IP65), longe da chuva e com\nVentilação livre de 30 cm.",
    ),
    Section(("Garantia",), "Dez anos contra defeitos."),
)


@pytest.mark.parametrize(
    ("lines", "metadata_title", "title"),
    [
        (["Manual do inversor", *MANUAL_LINES], None, "Manual do inversor"),
        # the title of the document information, printed wrapped on the first lines, is not body text
        (["Manual do inversor", "MIN 5000TL-X", *MANUAL_LINES], "Manual do inversor MIN 5000TL-X", None),
    ],
)
def test_pdf_text_is_extracted_with_its_title_and_heading_lines(
    lines: list[str], metadata_title: str | None, title: str | None
) -> None:
    document = parsed("technical/manual.pdf", make_pdf(lines, metadata_title))
    assert document.title == (title or metadata_title)
    assert document.sections == MANUAL_SECTIONS


def test_plain_text_with_markdown_headings_reads_as_markdown() -> None:
    text = "# Coeficientes de temperatura\n\n## O que são\n\nO gama vale -0,35 %/°C.\n"
    document = parsed("technical/coeficientes.txt", text.encode())
    assert document.title == "Coeficientes de temperatura"
    assert document.sections == (
        Section(("Coeficientes de temperatura", "O que são"), "O gama vale -0,35 %/°C."),
    )


@pytest.mark.parametrize(
    ("source", "data", "reason"),
    [
        ("technical/foto.jpg", b"\xff\xd8\xff\xe0 jpeg", "unsupported_extension"),
        ("technical/planilha.xlsx", b"PK\x03\x04", "unsupported_extension"),
        ("technical/vazio.md", b"", "empty_file"),
        ("technical/brancos.txt", b" \n\t\n", "empty_file"),
        ("technical/latin1.md", "# Título\n\nInstalação elétrica".encode("latin-1"), "bad_encoding"),
        ("technical/latin1.html", "<p>atenção</p>".encode("cp1252"), "bad_encoding"),
        ("technical/binario.txt", b"abc\x00\x01def", "bad_encoding"),
        ("technical/corrompido.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "unreadable_pdf"),
        ("technical/truncado.pdf", make_pdf(["Texto"])[:150], "unreadable_pdf"),
        ("technical/escaneado.pdf", make_pdf([]), "no_text"),
        ("technical/so-script.html", b"<script>alert(1)</script><style>p{}</style>", "no_text"),
        ("technical/so-titulos.md", b"# Titulo\n## Outro\n", "no_text"),
    ],
)
def test_bad_documents_are_rejected_with_their_reason(source: str, data: bytes, reason: str) -> None:
    result = parse_document(source, data)
    assert isinstance(result, Rejection)
    assert (result.source, result.reason) == (source, reason)
    assert result.detail


@pytest.mark.parametrize(
    ("path", "collection"),
    [
        ("regulatory/lei.md", "helio-regulatory"),
        ("technical/inversores/manual.pdf", "helio-technical"),
        ("sales/pitch.html", "helio-sales"),
        ("README.md", None),
        ("pricing/tabela.md", None),  # pricing passages come from the offers, not from files
        ("outros/x.md", None),
        ("sales/.DS_Store", None),
    ],
)
def test_the_first_folder_names_the_collection(path: str, collection: str | None) -> None:
    assert corpus_collection(path) == collection
