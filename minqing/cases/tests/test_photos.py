"""Case photos are kept decoded, upright, scaled down and without the phone's metadata
(cases.photos); a file that only starts like an image, or claims too many pixels, is refused
with its name, and nothing of the form is stored."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from conftest import login
from minqing.cases import photos, services
from minqing.cases.models import Case, CasePhoto
from minqing.cases.tests.test_views import new_case_data


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


GPS = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def jpeg(size=(40, 20), *, orientation=None, gps=True, mode="RGB") -> bytes:
    """A phone-like JPEG: EXIF with the make, a GPS position and (optionally) an orientation."""
    image = Image.new(mode, size, "red" if mode == "RGB" else None)
    if mode == "RGB":
        image.paste((0, 0, 255), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[MAKE] = "QAPhone"
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS] = {1: "N", 2: (30.0, 0.0, 12.5), 3: "E", 4: (120.0, 0.0, 30.25)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"taken at home")
    return out.getvalue()


def upload(name, content, kind="image/jpeg"):
    return SimpleUploadedFile(name, content, kind)


def stored_image(case) -> tuple[Image.Image, bytes]:
    stored = CasePhoto.objects.get(case=case)
    with stored.file.open("rb") as fh:
        content = fh.read()
    return Image.open(io.BytesIO(content)), content


def test_a_phone_photo_is_kept_upright_without_its_location_or_make(client, grid_a_worker, tree):
    """Orientation 6: the camera held sideways; the stored photo is turned, and the EXIF with
    the phone's make and the GPS position where it was taken is gone (so is the comment)."""
    sent = jpeg((40, 20), orientation=6)
    assert Image.open(io.BytesIO(sent)).getexif()[MAKE] == "QAPhone"  # the fixture has it
    login(client, grid_a_worker)
    response = client.post(
        "/cases/new/", new_case_data(tree, photos=[upload("IMG_0001.jpg", sent)])
    )
    assert response.status_code == 302
    kept, content = stored_image(Case.objects.get())
    assert kept.format == "JPEG" and kept.size == (20, 40)  # turned upright
    assert not kept.getexif() and b"QAPhone" not in content and b"taken at home" not in content
    assert CasePhoto.objects.get().size == len(content)


def test_a_large_photo_is_scaled_down_to_the_long_side(client, grid_a_worker, tree):
    login(client, grid_a_worker)
    sent = jpeg((4000, 3000), gps=False)
    response = client.post("/cases/new/", new_case_data(tree, photos=[upload("big.jpg", sent)]))
    assert response.status_code == 302
    kept, _content = stored_image(Case.objects.get())
    assert kept.size == (photos.MAX_SIDE, photos.MAX_SIDE * 3 // 4)
    # Still the same picture: blue on the left, red on the right.
    rgb = kept.convert("RGB")
    assert rgb.getpixel((10, 10))[2] > 200 and rgb.getpixel((kept.width - 10, 10))[0] > 200


def test_a_cmyk_jpeg_and_a_webp_are_kept_in_their_formats(client, grid_a_worker, tree):
    cmyk = io.BytesIO()
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(cmyk, "JPEG")
    webp = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 128, 0, 128)).save(webp, "WEBP")
    login(client, grid_a_worker)
    response = client.post(
        "/cases/new/",
        new_case_data(
            tree,
            photos=[upload("print.jpg", cmyk.getvalue()), upload("w.webp", webp.getvalue())],
        ),
    )
    assert response.status_code == 302
    kinds = sorted(CasePhoto.objects.values_list("content_type", flat=True))
    assert kinds == ["image/jpeg", "image/webp"]
    for stored in CasePhoto.objects.all():
        with stored.file.open("rb") as fh:
            Image.open(fh).load()  # each decodes


def test_a_phone_jpeg_with_a_second_picture_inside_is_a_jpeg(client, grid_a_worker, tree):
    """Many Android phones write MPO (a JPEG with a depth map or preview after it): Pillow
    reads it as MPO, which the first version refused as broken."""
    out = io.BytesIO()
    first, depth = Image.new("RGB", (40, 30), "red"), Image.new("RGB", (40, 30), "gray")
    first.save(out, "MPO", save_all=True, append_images=[depth])
    assert out.getvalue().startswith(b"\xff\xd8\xff")
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    login(client, grid_a_worker)
    response = client.post(
        "/cases/new/", new_case_data(tree, photos=[upload("IMG_2026.jpg", out.getvalue())])
    )
    assert response.status_code == 302
    kept, _content = stored_image(Case.objects.get())
    assert (kept.format, kept.size) == ("JPEG", (40, 30))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG a few hundred bytes long whose 1-bit pixels would fill gigabytes once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    body = zlib.compressobj(9)
    data = b"".join(body.compress(row) for _ in range(64)) + body.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("signature.png", b"\x89PNG\r\n\x1a\n" + b"not really" * 20, services.ERR_PHOTO_BROKEN),
        ("half.jpg", jpeg((64, 64))[:300], services.ERR_PHOTO_BROKEN),
        ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", services.ERR_PHOTO_BROKEN),
        ("bomb.png", png_claiming(60_000, 60_000), services.ERR_PHOTO_PIXELS),
        ("tall.png", png_claiming(10, 9_000_000), services.ERR_PHOTO_PIXELS),
        # 300 KB that decode to 79 MP: a PNG is decoded whole, and no phone takes one so big.
        ("blank.png", png_claiming(8_900, 8_900), services.ERR_PHOTO_PIXELS),
    ],
    ids=["png-signature-only", "truncated-jpeg", "gif", "bomb", "tall", "blank"],
)
def test_a_photo_that_does_not_decode_is_refused_by_name_and_nothing_is_filed(
    client, grid_a_worker, tree, name, content, message, settings
):
    login(client, grid_a_worker)
    good = upload("good.jpg", jpeg())
    response = client.post(
        "/cases/new/", new_case_data(tree, photos=[good, upload(name, content, "image/png")])
    )
    assert response.status_code == 400
    assert message.format(name=name) in response.content.decode()
    assert not Case.objects.exists() and not CasePhoto.objects.exists()
    # Nor a file of the good photo sent with it (the rows go back with the transaction).
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
