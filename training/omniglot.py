"""Omniglot: read from the upstream archives or an extracted folder, resized once and cached."""

import hashlib
import io
import os
import zipfile

import numpy as np

from zoo.files import atomic_destination

ARCHIVES = ("images_background", "images_evaluation")
DRAWERS = 20
RAW_SIZE = 105


class OmniglotNotFoundError(FileNotFoundError):
    """A data path that holds no Omniglot."""


class Omniglot:
    """Omniglot characters as a float32 array `[characters, 20, S, S]` of raw pixel values.

    Values stay on the raw 0..255 scale (white background 255), area-resized to `S` by the same
    function the models' preprocessing uses, so a model fed these images sees exactly what it
    would see fed the original 105x105 files.

    Attributes:
        images: `[characters, 20, S, S]` float32.
        characters: names `Alphabet/characterNN`, aligned with `images`.
        index: character name to row of `images`.
    """

    def __init__(self, images, characters):
        self.images = images
        self.characters = list(characters)
        self.index = {name: row for row, name in enumerate(self.characters)}

    @property
    def image_size(self):
        return int(self.images.shape[-1])

    def classes(self, split_file):
        """Rows and rotations (multiples of 90 degrees) of the classes listed in a split file.

        Args:
            split_file: lines `Alphabet/characterNN/rotDDD`.

        Returns:
            Two int32 arrays: character rows into `images` and the number of quarter turns.
        """
        rows, turns = [], []
        with open(split_file) as file:
            for line in file:
                line = line.strip()
                if not line:
                    continue
                alphabet, character, rotation = line.split("/")
                name = f"{alphabet}/{character}"
                if name not in self.index:
                    raise OmniglotNotFoundError(f"{split_file} names {name}, not in the data")
                rows.append(self.index[name])
                turns.append(int(rotation[3:]) // 90)
        return np.asarray(rows, "int32"), np.asarray(turns, "int32")


def find_omniglot(path):
    """Checks that `path` holds Omniglot; returns the source of each half (zip or folder)."""
    if not os.path.isdir(path):
        raise OmniglotNotFoundError(f"Omniglot path {path!r} is not a folder")
    sources = {}
    for archive in ARCHIVES:
        folder = os.path.join(path, archive)
        zipped = folder + ".zip"
        if os.path.isdir(folder):
            sources[archive] = folder
        elif os.path.isfile(zipped):
            sources[archive] = zipped
        else:
            raise OmniglotNotFoundError(
                f"no Omniglot in {path!r}: expected images_background.zip and "
                "images_evaluation.zip (the upstream python/ archives) or the folders they "
                "extract to, images_background/ and images_evaluation/"
            )
    return sources


def _read_pngs(source):
    """Yields `(Alphabet/characterNN, file name, PNG bytes)` from a zip or a folder."""
    if source.endswith(".zip"):
        with zipfile.ZipFile(source) as archive:
            for name in sorted(archive.namelist()):
                parts = name.split("/")
                if name.endswith(".png") and len(parts) == 4:
                    yield f"{parts[1]}/{parts[2]}", parts[3], archive.read(name)
        return
    for alphabet in sorted(os.listdir(source)):
        alphabet_dir = os.path.join(source, alphabet)
        if not os.path.isdir(alphabet_dir):
            continue
        for character in sorted(os.listdir(alphabet_dir)):
            character_dir = os.path.join(alphabet_dir, character)
            for filename in sorted(os.listdir(character_dir)):
                if filename.endswith(".png"):
                    with open(os.path.join(character_dir, filename), "rb") as file:
                        yield f"{alphabet}/{character}", filename, file.read()


def decode_png(data):
    """PNG bytes to a uint8 `[H, W]` array of 0..255 (1-bit files become 0 or 255)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("L")
    return np.asarray(image, dtype="uint8")


def _cache_key(sources, image_size):
    digest = hashlib.sha256(str(image_size).encode())
    for archive in ARCHIVES:
        stat = os.stat(sources[archive])
        digest.update(
            f"{os.path.abspath(sources[archive])}:{stat.st_size}:{stat.st_mtime}".encode()
        )
    return digest.hexdigest()[:16]


def cache_directory():
    """Where resized copies are cached: `$METAZOO_CACHE` or `~/.cache/metazoo`."""
    return os.environ.get(
        "METAZOO_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "metazoo")
    )


def load_omniglot(path, image_size=28, cache=True):
    """Loads Omniglot from `path` (archives or extracted folders), area-resized to `image_size`.

    Args:
        path: folder holding `images_background(.zip)` and `images_evaluation(.zip)`.
        image_size: side of the resized images; 105 keeps the originals.
        cache: keep a resized copy under `cache_directory()` for the next call.

    Returns:
        An `Omniglot`.

    Raises:
        OmniglotNotFoundError: when `path` holds no Omniglot.
    """
    sources = find_omniglot(path)
    cache_file = os.path.join(cache_directory(), f"omniglot-{_cache_key(sources, image_size)}.npz")
    if cache and os.path.isfile(cache_file):
        with np.load(cache_file) as stored:
            return Omniglot(stored["images"], stored["characters"].tolist())
    characters, images = [], {}
    for archive in ARCHIVES:
        for character, _, data in _read_pngs(sources[archive]):
            if character not in images:
                characters.append(character)
                images[character] = []
            images[character].append(decode_png(data))
    if not characters:
        raise OmniglotNotFoundError(f"no PNG images found in {path!r}")
    raw = np.stack([np.stack(images[name][:DRAWERS]) for name in characters])
    resized = resize_images(raw, image_size)
    if cache:
        os.makedirs(cache_directory(), exist_ok=True)
        with atomic_destination(cache_file, ".tmp.npz") as partial:
            np.savez(partial, images=resized, characters=np.asarray(characters))
    return Omniglot(resized, characters)


def resize_images(raw, image_size):
    """Area-resizes `[C, 20, H, W]` uint8 to float32 `[C, 20, S, S]` with the models' resize."""
    from zoo.preprocessing import area_resize

    flat = raw.reshape((-1,) + raw.shape[2:] + (1,)).astype("float32")
    if image_size == raw.shape[-1]:
        return flat.reshape(raw.shape)
    out = [
        np.asarray(area_resize(flat[i : i + 2048], image_size)) for i in range(0, len(flat), 2048)
    ]
    return np.concatenate(out)[..., 0].reshape(raw.shape[:2] + (image_size, image_size))
