"""The entries of a preset list: one per Omniglot setting a trained network serves."""


def omniglot_presets(prefix, class_name, describe, ways=(5, 20), shots=(1, 5)):
    """`{prefix}_omniglot_{N}way_{K}shot` entries for every N in `ways` and K in `shots`.

    Args:
        prefix: the algorithm's (or variant's) short name, e.g. `"protonet"`.
        class_name: the `zoo` class the presets load as.
        describe: `(ways, shots) -> description` for `metazoo list`.
        ways: the settings' numbers of classes.
        shots: the settings' numbers of support images per class.

    Returns:
        `{name: {"class": class_name, "description": describe(N, K)}}`.
    """
    return {
        f"{prefix}_omniglot_{n}way_{k}shot": {"class": class_name, "description": describe(n, k)}
        for n in ways
        for k in shots
    }
