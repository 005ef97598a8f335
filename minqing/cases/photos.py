"""A case photo as it is kept: decoded, turned upright, re-encoded without its metadata.

A phone's photo carries EXIF: where it was taken to a few metres, when, and the phone's make
and serial. Stored as sent, that travels with the photo to everyone the case reaches (a county
department, the API) — more personal data than the case needs (PIPL, minimum necessary). And
a file whose first bytes only look like an image was stored as one. So every photo is opened
with Pillow (the imaging library Python's world uses; a hand-written decoder is no place for
untrusted files): what does not decode is refused, a photo over MAX_SIDE pixels on its long
side is scaled down (a 12-megapixel phone photo is 3–6 MB; at 2560 px it is a few hundred KB
and still shows a pothole's size), and it is written again with no metadata at all.
"""

import io
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 2560
# Pixels a photo may have before it is decoded. A small PNG can claim 40 000 × 40 000 pixels
# and take gigabytes to open (a "decompression bomb"). A JPEG is decoded at a reduced scale
# (draft) first, so the largest phone photos (~200 MP) pass; a PNG or WebP is decoded whole,
# and no phone takes one of over 40 MP (a screenshot is a few).
MAX_PIXELS = 80_000_000
MAX_PIXELS_WHOLE = 40_000_000
# MPO: a phone's JPEG with a second picture inside (a depth map, a preview), first frame kept.
KINDS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class NotAPhoto(ValueError):
    """The file does not decode as a JPEG, PNG or WebP image."""


class PhotoTooLarge(ValueError):
    """The image claims more pixels than MAX_PIXELS."""


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str


def _opened(f) -> Image.Image:
    f.seek(0)
    with warnings.catch_warnings():
        # Pillow warns (and over twice its limit raises) on huge images; MAX_PIXELS decides.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(f)
        except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
            if isinstance(exc, Image.DecompressionBombError):
                raise PhotoTooLarge from None
            raise NotAPhoto from None


@contextmanager
def _reading(f):
    """Whatever Pillow raises on a bad file is NotAPhoto; the file is rewound after."""
    try:
        yield
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, NotAPhoto | PhotoTooLarge):
            raise
        raise NotAPhoto from None
    finally:
        f.seek(0)


def check(f) -> str:
    """The photo's content type, read from its header (a form's quick check: every file of a
    form is named at once); NotAPhoto or PhotoTooLarge else. Decoding is `prepared`'s, once:
    a file whose header is right and body is not is refused there."""
    with _reading(f), _opened(f) as image:
        return _kind(image)


def _kind(image: Image.Image) -> str:
    kind = KINDS.get(image.format or "")
    if kind is None:
        raise NotAPhoto
    limit = MAX_PIXELS_WHOLE
    if kind == "image/jpeg":
        image.draft(image.mode, (MAX_SIDE, MAX_SIDE))  # decoded at 1/2, 1/4 or 1/8 scale
        limit = MAX_PIXELS
    if image.width * image.height > limit:
        raise PhotoTooLarge
    return kind


def prepared(f) -> Photo:
    """The photo to store: upright, at most MAX_SIDE on its long side, in its own format
    (the first frame of an animated one), with no EXIF, XMP, text or comments."""
    with _reading(f):
        with _opened(f) as image:
            kind = _kind(image)
            image.load()
            # Scaled before it is turned: turning copies the whole picture.
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            upright = ImageOps.exif_transpose(image)
            if upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
            # Pillow writes some of what it read back out (a JPEG's comment, a PNG's text):
            # only the colour profile is carried over, so the colours stay right.
            icc = upright.info.get("icc_profile")
            upright.info = {}
            extra = {"icc_profile": icc} if icc else {}
            out = io.BytesIO()
            if kind == "image/jpeg":
                if upright.mode not in ("L", "RGB"):
                    upright = upright.convert("RGB")  # CMYK, YCCK
                upright.save(out, "JPEG", quality=85, optimize=True, **extra)
            elif kind == "image/png":
                upright.save(out, "PNG", optimize=True, **extra)
            else:
                upright.save(out, "WEBP", quality=85, **extra)
            return Photo(out.getvalue(), kind)
