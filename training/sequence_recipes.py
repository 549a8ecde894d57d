"""Recipes on Santoro et al.'s sequence protocol: training, presets' metadata, evaluation.

A recipe whose `protocol` is `"sequences"` meta-trains a MANN on `training.sequences`'
episodes (C classes x I instances in one labelled sequence) instead of the contract's N-way
K-shot episodes. Its `train` holds `classes`, `instances` and `tasks_per_batch` (episodes a
step); its presets map to `(classes, instances)`, and its `paper` to the paper's accuracy per
instance, `{instance: percent}`. `training.train.train` and `metazoo train | eval | list`
hand such recipes and their presets to the functions here.
"""

import datetime

from training import checkpoints, learning_curve, recipes

PROTOCOL = "omniglot-santoro-2016-sequences"
"""The metadata `protocol` of a sequence preset (the details are fields of their own)."""

DEFAULT_BATCH = 16
"""Episodes run together by `instance_accuracy` in evaluation."""


def is_sequence_recipe(recipe):
    """Whether a recipe (a dict) trains on the paper's sequences."""
    return recipe.get("protocol") == "sequences"


def is_sequence_preset(metadata):
    """Whether a preset's metadata is that of a sequence preset."""
    return bool(metadata) and metadata.get("protocol") == PROTOCOL


def sequence_sampler(recipe, data_dir, split, seed=0):
    """A `SequenceSampler` of an Omniglot split in the recipe's episodes, image size and
    labels (its MANN's `labels`); the recipe's `perturb` augmentation (`train["perturb"]`) on
    every split but the test split."""
    from training.sequences import omniglot_sequences

    settings = recipe["train"]
    image_size = recipe["model"].get("image_size", 20)
    perturb = settings.get("perturb") if split != "test" else None
    labels = recipe["model"].get("labels", "one_hot")
    return omniglot_sequences(
        data_dir,
        split,
        settings["classes"],
        settings["instances"],
        seed,
        image_size,
        perturb,
        labels,
    )


def label_text(recipe):
    """The metadata's `labels` of a sequence recipe's presets."""
    if recipe["model"].get("labels", "one_hot") == "strings":
        return (
            "strings of 5 characters from 5 symbols (five-hot inputs, a softmax per "
            "character), the classes' strings drawn per episode from the 3125"
        )
    return "one-hot, the class-to-label assignment drawn per episode"


def augmentation_text(recipe):
    """The metadata's `augmentation` of a sequence recipe's presets."""
    perturb = recipe["train"].get("perturb")
    if not perturb:
        return "none"
    return (
        f"training images rotated by up to {perturb['degrees']} degrees and shifted by up to "
        f"{perturb['shift']} of their side (uniform, per image); none at test"
    )


def train_sequence_recipe(
    recipe_name,
    checkpoint_dir,
    data_dir=None,
    steps=None,
    steps_per_epoch=None,
    init_from=None,
    seed=0,
    verbose=1,
    callbacks=(),
    sampler=None,
):
    """Meta-trains a sequence recipe, resuming from `checkpoint_dir` (`training.train.train`
    for a recipe whose `protocol` is `"sequences"`, with its arguments).

    The optimizer is the recipe's (`recipes.build_optimizer`); each epoch writes the
    checkpoint, `history.csv`, TensorBoard logs and `learning_curve.png` to `checkpoint_dir`.
    A fresh run starts from `init_from`'s weights if given (default: the recipe's
    `init_from`), a MANN of the same configuration.

    Returns:
        `(learner, state)`: the trained MANN and `{"epoch", "seconds", "steps", ...}`.
    """
    from training.sequences import train_sequences
    from training.train import init_from_record

    recipe = recipes.get_recipe(recipe_name)
    label = recipe_name if isinstance(recipe_name, str) else None
    steps = int(steps or recipe["steps"])
    state, steps_per_epoch = checkpoints.resume_settings(
        checkpoint_dir, label, steps_per_epoch, steps
    )
    learner, optimizer, start = None, None, None
    if not state:
        learner = recipes.build_learner(recipe)
        init_from = init_from or recipe.get("init_from")
        if init_from:
            from zoo.presets import load_preset

            learner.set_weights(load_preset(init_from).get_weights())
            start = init_from_record(init_from)
        optimizer = recipes.build_optimizer(recipe)
    if sampler is None:
        sampler = sequence_sampler(recipe, data_dir, "trainval", seed)
    return train_sequences(
        learner,
        sampler,
        checkpoint_dir,
        steps,
        steps_per_epoch=steps_per_epoch,
        batch=recipe["train"]["tasks_per_batch"],
        label=label,
        verbose=verbose,
        optimizer=optimizer,
        callbacks=[
            *learning_curve.monitoring_callbacks(checkpoint_dir, steps_per_epoch),
            *callbacks,
        ],
        init_from=start,
    )


def paper_row(recipe, preset):
    """The paper's accuracy per instance for a preset of a recipe, `{instance: percent}`."""
    return dict(recipe["paper"][tuple(recipe["presets"][preset])] or {})


def metadata_paper_row(metadata):
    """The paper's row recorded in a sequence preset's metadata, `{instance: percent}`."""
    row = metadata.get("paper_instance_accuracy") or {}
    return {int(k): v for k, v in row.items()}


def preset_fields(recipe, preset):
    """The metadata fields of a sequence preset, beside `training.train.preset_metadata`'s.

    `ways` and `shots` are the shape the preset is built with when loaded (`zoo.load_preset`:
    a MANN's weights depend on the classes only); the protocol is `classes` x `instances`.
    """
    classes, instances = recipe["presets"][preset]
    image_size = recipe["model"].get("image_size", 20)
    paper = sorted(paper_row(recipe, preset).items())
    return {
        "protocol": PROTOCOL,
        "ways": int(classes),
        "shots": 1,
        "classes": int(classes),
        "instances": int(instances),
        "image_size": image_size,
        "class_split": "Vinyals split: training on the 1200 trainval characters, the table on "
        "the 423 test characters; each 90-degree rotation a class of its own",
        "augmentation": augmentation_text(recipe),
        "labels": label_text(recipe),
        "test_protocol": f"episodes of {classes} classes x {instances} instances of the test "
        "split, each label an input one step after its image; accuracy at the k-th "
        "presentation of a class: the fraction of the episode's classes classified right at "
        "their k-th presentation, mean over episodes with 1.96 * std / sqrt(n)",
        "paper_accuracy": None,
        "paper_instance_accuracy": {str(k): v for k, v in paper},
        "paper_note": recipe.get("paper_note"),
    }


def evaluation_fields(result, paper, seed):
    """The metadata fields recording `instance_accuracy`'s result, and `meets_paper`.

    DESIGN.md's rule, per instance: the preset meets the paper when its mean accuracy at
    every instance the paper reports is at least the paper's (None without a paper row).
    """
    accuracy = {
        str(k): {"accuracy": round(a, 3), "ci95": round(c, 3)}
        for k, (a, c) in enumerate(zip(result["accuracy"], result["ci95"], strict=True), 1)
    }
    paper = {k: v for k, v in paper.items() if k <= result["instances"]}
    meets = None
    if paper:
        meets = all(result["accuracy"][k - 1] >= value for k, value in paper.items())
    return {
        "instance_accuracy": accuracy,
        "test_episodes": int(result["episodes"]),
        "eval_seed": int(seed),
        "evaluated": datetime.date.today().isoformat(),
        "meets_paper": meets,
    }


def metadata_result(metadata):
    """The `instance_accuracy` result recorded in a sequence preset's metadata, or None."""
    recorded = metadata.get("instance_accuracy")
    if not recorded:
        return None
    keys = sorted(recorded, key=int)
    return {
        "accuracy": [recorded[k]["accuracy"] for k in keys],
        "ci95": [recorded[k]["ci95"] for k in keys],
        "episodes": metadata.get("test_episodes"),
        "classes": metadata.get("classes"),
        "instances": len(keys),
    }
