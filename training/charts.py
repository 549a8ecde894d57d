"""Line charts as PNG files: learning curves and the papers' figures, one drawing routine."""

from zoo.files import atomic_destination


def line_chart(path, curves, x_label, y_label, title=None, y_limits=None, markers=False):
    """Draws curves on one set of axes and writes them as a PNG, atomically.

    Args:
        path: the PNG file (replaced whole, or left untouched if drawing fails).
        curves: `{label: (xs, ys)}` or `{label: (xs, ys, errors)}` (half-heights of error
            bars, e.g. 95% intervals), drawn in order, with a legend when there is more than
            one.
        x_label: the horizontal axis' label.
        y_label: the vertical axis' label.
        title: the chart's title.
        y_limits: `(low, high)` of the vertical axis, or None to fit the data.
        markers: mark each point (for short curves such as per-instance accuracy).
    """
    panel = {"curves": curves, "x_label": x_label, "y_label": y_label, "title": title}
    line_charts(path, [dict(panel, y_limits=y_limits, markers=markers)])


def line_charts(path, panels):
    """Draws panels side by side (each as `line_chart` draws one) into one PNG, atomically.

    Args:
        path: the PNG file.
        panels: dicts with `line_chart`'s arguments `curves`, `x_label`, `y_label` and
            optionally `title`, `y_limits`, `markers`.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.0), dpi=100)
    try:
        for ax, panel in zip(figure.axes, panels, strict=True):
            for label, (xs, ys, *errors) in panel["curves"].items():
                marker = "o" if panel.get("markers") else None
                ax.errorbar(list(xs), list(ys), *errors, marker=marker, label=label, capsize=3)
            ax.set_xlabel(panel["x_label"])
            ax.set_ylabel(panel["y_label"])
            if panel.get("title"):
                ax.set_title(panel["title"])
            if panel.get("y_limits") is not None:
                ax.set_ylim(*panel["y_limits"])
            ax.grid(alpha=0.3)
            if len(panel["curves"]) > 1:
                ax.legend()
        figure.tight_layout()
        with atomic_destination(path, ".tmp.png") as temporary:
            figure.savefig(temporary, format="png")
    finally:
        pyplot.close(figure)
