"""The account fields laid into a stamped photo's own XMP and EXIF (``watermark.metadata``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

from tests.kit import media
from watermark.image import ImageOptions, stamp_image
from watermark.metadata import ascii_text
from watermark.style import Style

NS = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "dc": "http://purl.org/dc/elements/1.1/"}
RDF = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">{}</rdf:RDF></x:xmpmeta>'
OPTIONS = ImageOptions(
    copyright="© 陈莉莉 (@lily.shoots)",
    artist="陈莉莉",
    exif_copyright="Copyright @lily.shoots",
    exif_artist="@lily.shoots",
)


def stamp_with_xmp(tmp_path: Path, xmp: str) -> ET.Element:
    src = tmp_path / "p.jpg"
    Image.new("RGB", (400, 300), (40, 90, 160)).save(src, quality=90, xmp=xmp.encode("utf-8"))
    stamp_image(src, tmp_path / "out.jpg", Style(text="x"), {}, OPTIONS)
    with Image.open(tmp_path / "out.jpg") as im:
        return ET.fromstring(im.info["xmp"])


def test_the_sources_xmp_is_kept_and_the_account_added(tmp_path: Path) -> None:
    rating = '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/>'
    root = stamp_with_xmp(tmp_path, RDF.format(rating))
    assert root.find(".//rdf:Description[@{http://ns.adobe.com/xap/1.0/}Rating='5']", NS) is not None
    assert [li.text for li in root.iterfind(".//dc:creator//rdf:li", NS)] == ["陈莉莉"]
    assert [li.text for li in root.iterfind(".//dc:rights//rdf:li", NS)] == ["© 陈莉莉 (@lily.shoots)"]


def test_a_creators_own_rights_statement_is_kept(tmp_path: Path) -> None:
    own = (
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:rights><rdf:Alt>'
        '<rdf:li xml:lang="x-default">All rights reserved, Lily Chen Studio</rdf:li></rdf:Alt></dc:rights>'
        "</rdf:Description>"
    )
    root = stamp_with_xmp(tmp_path, RDF.format(own))
    assert [li.text for li in root.iterfind(".//dc:rights//rdf:li", NS)] == [
        "All rights reserved, Lily Chen Studio"
    ]
    assert [li.text for li in root.iterfind(".//dc:creator//rdf:li", NS)] == ["陈莉莉"]


def test_exif_text_is_ascii_or_nothing(tmp_path: Path) -> None:
    assert ascii_text("Lily Chen") == "Lily Chen"
    assert ascii_text("陈莉莉") is None and ascii_text("© Lily") is None and ascii_text("a\nb") is None
    src = media.jpeg(tmp_path / "p.jpg")
    stamp_image(
        src, tmp_path / "out.jpg", Style(text="x"), {}, ImageOptions(copyright="© 陈莉莉", artist="陈莉莉")
    )
    with Image.open(tmp_path / "out.jpg") as im:
        exif = im.getexif()
        assert 0x013B not in exif and 0x8298 not in exif, "no ASCII form given: left out, never garbled"
        assert exif[0x0110] == "iPhone 15 Pro"
