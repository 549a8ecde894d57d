"""An embedded demo few-shot set: procedurally drawn glyphs, made at run time, no download.

Each class is a random "character" of one to four smooth pen strokes (Catmull-Rom curves
through a few random control points); each example of a class redraws the same strokes the way
another hand would: a small random affine jitter (rotation, scale, shear, shift), per-point
noise and a different pen width. Images are 105x105 uint8 with a white background (255) and
black strokes (0), like Omniglot's files, so every preset's preprocessing applies unchanged.

Everything is deterministic: class `c` of seed `s` and its example `e` depend only on
`(s, c, e)`, not on how many classes or examples are asked for.

Typical use::

    from training.demo_data import demo_task

    task = demo_task(ways=5, shots=1, queries=5, seed=0)
    classifier = learner.adapt(task["support_images"], task["support_labels"])
    predictions = classifier.predict(task["query_images"]).argmax(-1)
"""

import os

import numpy as np

IMAGE_SIZE = 105
EXAMPLES = 20
_CLASS_STREAM = 0
_EXAMPLE_STREAM = 1
_TASK_STREAM = 2


def glyph_strokes(index, seed=0):
    """The strokes of glyph class `index`: a list of `[P, 2]` control-point arrays in [0, 1].

    Args:
        index: the class number (any non-negative int).
        seed: the seed of the glyph set.

    Returns:
        One to four strokes, each 3 to 5 control points `(x, y)`, x to the right, y down,
        centred, the longer side of the glyph 0.45 to 0.65 of the image.
    """
    rng = np.random.default_rng([int(seed), _CLASS_STREAM, int(index)])
    strokes = []
    for count in range(int(rng.integers(1, 5))):
        points = int(rng.integers(3, 6))
        if count and rng.random() < 0.5:
            # Start where an earlier stroke passes, as pen strokes of a character often do.
            previous = strokes[int(rng.integers(len(strokes)))]
            start = previous[int(rng.integers(len(previous)))]
        else:
            start = rng.uniform(0.2, 0.8, size=2)
        steps = rng.normal(0.0, 0.22, size=(points - 1, 2))
        path = np.clip(start + np.cumsum(steps, axis=0), 0.12, 0.88)
        strokes.append(np.vstack([start, path]))
    # Centre the glyph and give its longer side a size like Omniglot characters'.
    every = np.vstack([catmull_rom(stroke) for stroke in strokes])
    low, high = every.min(axis=0), every.max(axis=0)
    scale = rng.uniform(0.45, 0.65) / max(float((high - low).max()), 1e-3)
    return [(stroke - (low + high) / 2) * scale + 0.5 for stroke in strokes]


def catmull_rom(points, samples_per_segment=24):
    """A smooth curve through `points` `[P, 2]`, sampled densely: `[M, 2]`."""
    padded = np.vstack([points[:1], points, points[-1:]])
    t = np.linspace(0.0, 1.0, samples_per_segment, endpoint=False)[:, None]
    pieces = []
    for i in range(len(points) - 1):
        p0, p1, p2, p3 = padded[i], padded[i + 1], padded[i + 2], padded[i + 3]
        pieces.append(
            0.5
            * (
                2 * p1
                + (p2 - p0) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (3 * p1 - p0 - 3 * p2 + p3) * t**3
            )
        )
    pieces.append(points[-1:])
    return np.vstack(pieces)


def draw_example(strokes, rng, size=IMAGE_SIZE):
    """Draws one example of a glyph with a fresh jitter from `rng`.

    Args:
        strokes: the class's strokes, from `glyph_strokes`.
        rng: a `numpy.random.Generator` choosing this example's jitter.
        size: side of the square image.

    Returns:
        A uint8 image `[size, size]`, 255 background and 0 strokes.
    """
    from PIL import Image, ImageDraw

    angle = np.deg2rad(rng.normal(0.0, 5.0))
    scale = rng.uniform(0.9, 1.1, size=2)
    shear = rng.normal(0.0, 0.05)
    shift = rng.normal(0.0, 0.03, size=2)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    affine = rotation @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag(scale)
    width = size * rng.uniform(0.022, 0.04)
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        points = stroke + rng.normal(0.0, 0.012, size=stroke.shape)
        points = (points - 0.5) @ affine.T + 0.5 + shift
        curve = catmull_rom(points) * size
        radius = max(0.5, 0.5 * width * rng.uniform(0.85, 1.15))
        draw.line([tuple(p) for p in curve], fill=0, width=max(1, round(2 * radius)), joint="curve")
        for x, y in curve[[0, -1]]:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=0)
    return np.asarray(image, dtype="uint8")


def demo_classes(classes=20, examples=EXAMPLES, seed=0, size=IMAGE_SIZE, first=0):
    """Examples of consecutive glyph classes as one array.

    Args:
        classes: number of classes.
        examples: examples drawn of each class.
        seed: the seed of the glyph set.
        size: side of the square images.
        first: number of the first class (class `first + c` is row `c`).

    Returns:
        uint8 `[classes, examples, size, size]`, white background (255), black strokes (0).
    """
    out = np.empty((classes, examples, size, size), "uint8")
    for row in range(classes):
        index = first + row
        strokes = glyph_strokes(index, seed)
        for example in range(examples):
            rng = np.random.default_rng([int(seed), _EXAMPLE_STREAM, index, example])
            out[row, example] = draw_example(strokes, rng, size)
    return out


def demo_task(ways=5, shots=1, queries=5, seed=0, size=IMAGE_SIZE):
    """A few-shot task on glyph classes drawn for it.

    The classes are `ways` glyphs picked by `seed` from a pool of 1000; each has `shots`
    support and `queries` query examples, grouped by class in label order.

    Args:
        ways: number of classes N.
        shots: support examples per class K.
        queries: query examples per class.
        seed: picks the classes and their examples.
        size: side of the square images.

    Returns:
        A dict with `support_images` uint8 `[N*K, size, size, 1]`, `support_labels` int32
        `[N*K]` (0..N-1), `query_images` uint8 `[N*queries, size, size, 1]`, `query_labels`
        int32, and `classes`, the glyph numbers of labels 0..N-1.
    """
    if min(ways, shots) < 1 or queries < 0:
        raise ValueError("ways and shots must be at least 1, queries at least 0")
    rng = np.random.default_rng([int(seed), _TASK_STREAM])
    picked = np.sort(rng.choice(1000, size=ways, replace=False))
    support, query = [], []
    for index in picked:
        images = demo_classes(1, shots + queries, seed, size, first=int(index))[0]
        support.append(images[:shots])
        query.append(images[shots:])
    labels = np.arange(ways, dtype="int32")
    return {
        "support_images": np.concatenate(support)[..., None],
        "support_labels": np.repeat(labels, shots),
        "query_images": np.concatenate(query)[..., None].reshape(-1, size, size, 1),
        "query_labels": np.repeat(labels, queries),
        "classes": [int(index) for index in picked],
    }


def demo_sampler(ways=5, shots=1, queries=5, classes=50, seed=0, image_size=28):
    """An `EpisodeSampler` over `classes` glyph classes, for evaluating on the demo set.

    Args:
        ways: classes per episode.
        shots: support examples per class.
        queries: query examples per class (`shots + queries <= 20`).
        classes: size of the class pool.
        seed: seed of the glyphs and of the episodes.
        image_size: side the images are area-resized to, as for Omniglot.

    Returns:
        A `training.episodes.EpisodeSampler`.
    """
    from training.episodes import EpisodeSampler
    from training.omniglot import resize_images

    images = resize_images(demo_classes(classes, EXAMPLES, seed), image_size)
    rows = np.arange(classes, dtype="int32")
    return EpisodeSampler(images, rows, np.zeros_like(rows), ways, shots, queries, seed)


def write_task_folders(task, directory, class_names=None):
    """Writes a task as PNG folders, the layout `metazoo adapt` reads.

    `directory/support/<class>/<n>.png` holds the support set and
    `directory/query/<class>/<n>.png` the queries, the subfolder naming their true class.

    Args:
        task: a dict from `demo_task`.
        directory: the folder to write into (created if needed).
        class_names: names of the classes in label order (default `glyph<number>`).

    Returns:
        `(support_folder, query_folder)`.
    """
    from PIL import Image

    names = class_names or [f"glyph{index:03d}" for index in task["classes"]]
    folders = []
    for part in ("support", "query"):
        root = os.path.join(directory, part)
        images, labels = task[f"{part}_images"], task[f"{part}_labels"]
        for number, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = os.path.join(root, names[int(label)])
            os.makedirs(folder, exist_ok=True)
            Image.fromarray(image[..., 0]).save(os.path.join(folder, f"{number:03d}.png"))
        folders.append(root)
    return tuple(folders)
