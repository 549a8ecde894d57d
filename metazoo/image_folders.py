"""Reading few-shot tasks from folders of image files, as `metazoo adapt` and `export` do."""

import os

import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class ImageFolderError(ValueError):
    """A support or query folder that cannot be read as a few-shot task."""


def is_image(path):
    """Whether `path` names an image file by its extension."""
    return os.path.isfile(path) and path.lower().endswith(IMAGE_EXTENSIONS)


def read_image(path):
    """Reads an image file as grayscale uint8 `[H, W]`, transparent parts turned white.

    Raises:
        ImageFolderError: when the file cannot be decoded.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                image = image.convert("RGBA")
                white = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(white, image)
            return np.asarray(image.convert("L"), dtype="uint8")
    except (OSError, UnidentifiedImageError) as error:
        raise ImageFolderError(f"cannot read image {path}: {error}") from error


def stack_images(images, size=None):
    """Stacks `[H, W]` images into uint8 `[n, H, W, 1]`, resizing any that differ.

    Args:
        images: the images.
        size: `(H, W)` to bring every image to (default: the first image's).

    Returns:
        `(array, resized)`: the batch and how many images had to be resized (box filter).
    """
    from PIL import Image

    height, width = size or images[0].shape
    out, resized = [], 0
    for image in images:
        if image.shape != (height, width):
            image = np.asarray(Image.fromarray(image).resize((width, height), Image.BOX))
            resized += 1
        out.append(image)
    return np.stack(out)[..., None], resized


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


def read_support_folder(folder):
    """Reads a support set: one subfolder per class, holding that class's images.

    Labels follow the sorted subfolder names: the first name is class 0.

    Args:
        folder: the support folder.

    Returns:
        `(class_names, images, labels, resized)`: the names, uint8 images `[n, H, W, 1]`,
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
        images.extend(read_image(path) for path in files)
        labels.extend([label] * len(files))
    array, resized = stack_images(images)
    return names, array, np.asarray(labels, "int32"), resized


def read_queries(paths, class_names, size):
    """Reads query images from files and folders.

    A folder contributes its images and those of its subfolders; an image inside a subfolder
    named like a support class is taken to be of that class (its true label is known).

    Args:
        paths: image files and folders.
        class_names: the support classes, to recognise labelled subfolders.
        size: `(H, W)` the queries are brought to (the support images' size).

    Returns:
        `(files, images, labels, resized)`: the file paths, uint8 images `[n, H, W, 1]`, true
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
    images, resized = stack_images([read_image(file) for file in files], size)
    return files, images, np.asarray(labels, "int32"), resized
