"""A PNG of adapted sinusoid curves against the true function, like Finn et al.'s figure 2.

Drawn with Pillow (installed with Keras' dependencies), so no plotting library is needed.
"""

from PIL import Image, ImageDraw

from training.sinusoid import AMPLITUDE, INPUT_RANGE

PANEL = (420, 260)
"""Width and height of one panel, in pixels."""

MARGIN = 30
COLORS = {"true": (214, 39, 40), "support": (148, 103, 189)}
STEP_COLORS = [(44, 160, 44), (31, 119, 180), (255, 127, 14), (23, 190, 207), (127, 127, 127)]


def draw_curves(curves_by_name, path, title="sinusoid regression"):
    """Writes a PNG: one row per learner, one panel per task.

    Each panel shows the true function (red), the support points (purple dots) and the
    learner's curve after each number of inner steps (pre-update, i.e. 0 steps, in green).

    Args:
        curves_by_name: a dict from a row's name to `adapted_curves(...)` of one learner (all
            rows with the same tasks and steps).
        path: the PNG file to write.
        title: a line of text at the top.

    Returns:
        `path`.
    """
    rows = list(curves_by_name.items())
    columns = max(len(curves) for _, curves in rows)
    width, height = PANEL
    image = Image.new("RGB", (columns * width, 40 + len(rows) * height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 5), title, fill="black")
    steps = list(rows[0][1][0]["steps"])
    legend = [("true", COLORS["true"]), ("support points", COLORS["support"])]
    legend += [
        (_steps_label(count), STEP_COLORS[index % len(STEP_COLORS)])
        for index, count in enumerate(steps)
    ]
    x = 10
    for label, color in legend:
        draw.line([(x, 28), (x + 20, 28)], fill=color, width=3)
        draw.text((x + 24, 22), label, fill="black")
        x += 30 + 7 * len(label)
    limit = AMPLITUDE[1] * 1.2
    for row, (name, curves) in enumerate(rows):
        for column, curve in enumerate(curves):
            left, top = column * width, 40 + row * height

            def to_pixel(u, v, left=left, top=top):
                fraction = (u - INPUT_RANGE[0]) / (INPUT_RANGE[1] - INPUT_RANGE[0])
                px = left + MARGIN + fraction * (width - 2 * MARGIN)
                clipped = max(-limit, min(limit, float(v)))
                py = top + MARGIN + (limit - clipped) / (2 * limit) * (height - 2 * MARGIN)
                return px, py

            box = [(left + MARGIN, top + MARGIN), (left + width - MARGIN, top + height - MARGIN)]
            draw.rectangle(box, outline=(180, 180, 180))
            draw.line([to_pixel(INPUT_RANGE[0], 0), to_pixel(INPUT_RANGE[1], 0)], fill=(220,) * 3)
            draw.text((left + MARGIN, top + 8), f"{name}, task {column + 1}", fill="black")
            series = [("true", curve["true"], COLORS["true"])]
            series += [
                (count, curve["steps"][count], STEP_COLORS[index % len(STEP_COLORS)])
                for index, count in enumerate(steps)
            ]
            for _, values, color in series:
                line = [to_pixel(u, v) for u, v in zip(curve["x"], values, strict=True)]
                draw.line(line, fill=color, width=2)
            for u, v in zip(curve["support_inputs"], curve["support_targets"], strict=True):
                px, py = to_pixel(u, v)
                draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=COLORS["support"])
    image.save(path, format="PNG")
    return path


def _steps_label(count):
    return "pre-update" if count == 0 else f"{count} step" + ("s" if count != 1 else "")
