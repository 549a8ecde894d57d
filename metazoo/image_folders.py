"""Reading images from folders of image files: few-shot tasks, as `metazoo adapt` and `export`
do, and the class folders of image-folder data sets (`training.image_folder`)."""

import os

import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class ImageFolderError(ValueError):
    """A support or query folder that cannot be read as a few-shot task."""


def is_image(path):
    """Whether `path` names an image file by its extension."""
    return os.path.isfile(path) and path.lower().endswith(IMAGE_EXTENSIONS)


GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")
"""PIL modes of one-channel (grayscale) images, alpha aside; any other mode is colour."""


def read_image(path, channels=1):
    """Reads an image file as uint8 `[H, W]` (grayscale) or `[H, W, 3]` (RGB), transparent
    parts turned white.

    Args:
        path: the file.
        channels: 1 (grayscale, the default) or 3 (RGB); the file is converted to it.

    Raises:
        ImageFolderError: when the file cannot be decoded.
    """
    from PIL import Image, UnidentifiedImageError

    if channels not in (1, 3):
        raise ImageFolderError(f"images are read with 1 or 3 channels, not {channels}")
    try:
        with Image.open(path) as image:
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                image = image.convert("RGBA")
                white = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(white, image)
            return np.asarray(image.convert("L" if channels == 1 else "RGB"), dtype="uint8")
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise ImageFolderError(f"cannot read image {path}: {error}") from error


def image_channels(path):
    """The channels of an image file as stored, alpha aside: 1 (grayscale) or 3 (colour).

    Only the header is read. Raises `ImageFolderError` when the file is not an image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return 1 if image.mode in GRAY_MODES else 3
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise ImageFolderError(f"cannot read image {path}: {error}") from error


def stack_images(images, size=None):
    """Stacks `[H, W]` (or `[H, W, C]`) images into uint8 `[n, H, W, C]`, resizing any that
    differ.

    Args:
        images: the images, all of one channel count.
        size: `(H, W)` to bring every image to (default: the first image's).

    Returns:
        `(array, resized)`: the batch and how many images had to be resized (box filter).
    """
    from PIL import Image

    height, width = size or images[0].shape[:2]
    out, resized = [], 0
    for image in images:
        if image.shape[:2] != (height, width):
            image = np.asarray(Image.fromarray(image).resize((width, height), Image.BOX))
            resized += 1
        out.append(image)
    array = np.stack(out)
    return (array[..., None] if array.ndim == 3 else array), resized


def image_files(folder):
    """The image files directly in `folder` (by extension), sorted."""
    return _image_files(folder)


def subfolders(folder):
    """The names of a folder's subfolders, sorted; hidden ones (`.name`) are left out."""
    return _subfolders(folder)


def _image_files(folder):
    return sorted(
        os.path.join(folder, name)
        for name in os.listdir(folder)
        if is_image(os.path.join(folder, name))
    )


def _subfolders(folder):
    """The names of a folder's subfolders, sorted; hidden ones (`.name`) are left out."""
    return sorted(
        name
        for name in os.listdir(folder)
        if os.path.isdir(os.path.join(folder, name)) and not name.startswith(".")
    )


def read_support_folder(folder, channels=1):
    """Reads a support set: one subfolder per class, holding that class's images.

    Labels follow the sorted subfolder names: the first name is class 0.

    Args:
        folder: the support folder.
        channels: the channels to read the images with (the model's: 1 or 3).

    Returns:
        `(class_names, images, labels, resized)`: the names, uint8 images `[n, H, W, C]`,
        int32 labels `[n]`, and how many images were resized to the first image's size.

    Raises:
        ImageFolderError: when the folder is missing, has no class subfolders, or a class
            has no images.
    """
    if not os.path.isdir(folder):
        raise ImageFolderError(f"support folder {folder} does not exist")
    names = _subfolders(folder)
    if not names:
        raise ImageFolderError(
            f"support folder {folder} has no class subfolders: expected "
            f"{folder}/<class name>/<image>.png, one subfolder per class"
        )
    images, labels = [], []
    for label, name in enumerate(names):
        files = _image_files(os.path.join(folder, name))
        if not files:
            raise ImageFolderError(
                f"class folder {os.path.join(folder, name)} holds no images "
                f"({', '.join(IMAGE_EXTENSIONS)})"
            )
        images.extend(read_image(path, channels) for path in files)
        labels.extend([label] * len(files))
    array, resized = stack_images(images)
    return names, array, np.asarray(labels, "int32"), resized


def read_queries(paths, class_names, size, channels=1):
    """Reads query images from files and folders.

    A folder contributes its images and those of its subfolders; an image inside a subfolder
    named like a support class is taken to be of that class (its true label is known).

    Args:
        paths: image files and folders.
        class_names: the support classes, to recognise labelled subfolders.
        size: `(H, W)` the queries are brought to (the support images' size).
        channels: the channels to read the images with (the model's: 1 or 3).

    Returns:
        `(files, images, labels, resized)`: the file paths, uint8 images `[n, H, W, C]`, true
        labels (`-1` where unknown), and how many images were resized.

    Raises:
        ImageFolderError: when a path does not exist, is not an image, or nothing is found.
    """
    index = {name: label for label, name in enumerate(class_names)}
    files, labels = [], []
    for path in paths:
        if os.path.isdir(path):
            for file in _image_files(path):
                files.append(file)
                labels.append(-1)
            for name in _subfolders(path):
                for file in _image_files(os.path.join(path, name)):
                    files.append(file)
                    labels.append(index.get(name, -1))
        elif is_image(path):
            files.append(path)
            labels.append(-1)
        elif os.path.exists(path):
            raise ImageFolderError(f"query {path} is not an image ({', '.join(IMAGE_EXTENSIONS)})")
        else:
            raise ImageFolderError(f"query {path} does not exist")
    if not files:
        raise ImageFolderError(f"no query images found in {', '.join(paths)}")
    images, resized = stack_images([read_image(file, channels) for file in files], size)
    return files, images, np.asarray(labels, "int32"), resized
