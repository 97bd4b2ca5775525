"""A file's type by its first bytes (fixflow_shared.media): dispatch's attachments and the portal's
photos both read it."""

from __future__ import annotations

from fixflow_shared.media import sniff


def test_the_first_bytes_say_what_a_file_is():
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"\0" * 8) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff(b"%PDF-1.7\n") == "application/pdf"


def test_anything_else_is_unknown_whatever_it_resembles():
    for data in (b"", b"GIF89a", b"\x89PNG", b"\xff\xd8", b"RIFF\0\0\0\0WAVE", b"RIFF\0\0\0\0WEB", b"%PDF", b"<svg"):
        assert sniff(data) is None, data
