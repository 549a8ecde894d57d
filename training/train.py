"""Meta-training a recipe, resumably, and writing preset folders."""

import datetime
import json
import os

import keras

from training import checkpoints, distributed, learning_curve, precision, protocols, recipes
from training.evaluate import meets_paper

VALIDATION_STEPS = 10
"""Meta-batches of the validation split evaluated after each epoch, when the data has one."""


def train(
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
    strategy=None,
    model=None,
    validation=None,
):
    """Meta-trains a recipe, resuming from `checkpoint_dir` if it holds a checkpoint.

    A recipe whose `protocol` is `"sequences"` (Santoro et al.'s, for MANN) is trained by
    `training.sequence_recipes.train_sequence_recipe` on one machine, with the same folder,
    steps, resumption, history and learning curve (and no `strategy`, `model` or
    `validation`).

    Args:
        recipe_name: a key of `training.recipes.RECIPES`, or a recipe dict.
        checkpoint_dir: folder for the resumable checkpoint.
        data_dir: Omniglot folder (default: `protocols.default_data_dir()`).
        steps: total meta-updates (default: the recipe's).
        steps_per_epoch: meta-updates between checkpoints (default: the resumed run's, else
            100). A resumed run must keep its value.
        init_from: a preset name or folder whose weights start a fresh run (default: the
            recipe's `init_from`, if any).
        seed: episode seed; episode `i` of a run is the same on resume.
        verbose: Keras' verbosity.
        callbacks: more Keras callbacks. Every run also appends to `history.csv`, writes
            TensorBoard logs (`tensorboard/`) and redraws `learning_curve.png`, all in
            `checkpoint_dir`, at the end of each epoch.
        sampler: an `EpisodeSampler` to train on instead of the recipe's episodes
            (`training_sampler`; then `data_dir` is not read); it should give the recipe's
            `train` episodes.
        strategy: a `tf.distribute.Strategy` to build, compile and fit under (default: the
            `MultiWorkerMirroredStrategy` of `TF_CONFIG`, `distributed.cluster_strategy()`,
            when it names a cluster, else none). Each meta-batch is split across the replicas
            in whole episodes (`distributed.distributed_episodes`); a recipe without a task
            axis then trains on meta-batches of one episode per replica. Only the chief writes
            to `checkpoint_dir`; every worker resumes from it.
        model: keyword arguments overriding the recipe's model for a fresh run, e.g.
            `{"image_size": 32, "channels": 3, "invert": False}` for RGB images.
        validation: an `EpisodeSampler` of the data's validation split in the `train` shapes:
            the same `VALIDATION_STEPS` meta-batches of it are evaluated after each epoch, as
            `val_loss` and `val_accuracy` in the history and the learning curve (on one
            machine; under a cluster strategy they are left out).

    A recipe with a `dtype_policy` (e.g. `"mixed_bfloat16"`) builds and resumes its learner
    under that Keras policy (`training.precision`); the learner returned is then a float32
    copy of the trained one, as its presets compute.

    Returns:
        `(learner, state)`: the trained learner and `{"epoch", "seconds", "steps"}`.

    Raises:
        ValueError: when the checkpoint holds a run of another recipe or another
            `steps_per_epoch`.
    """
    recipe = recipes.get_recipe(recipe_name)
    if recipe.get("protocol") == "sequences":  # Santoro et al.'s sequences, one machine
        from training.sequence_recipes import train_sequence_recipe

        if model or validation is not None or (strategy and strategy.num_replicas_in_sync > 1):
            raise ValueError("a sequence recipe takes no model, validation or strategy")
        return train_sequence_recipe(
            recipe_name,
            checkpoint_dir,
            data_dir=data_dir,
            steps=steps,
            steps_per_epoch=steps_per_epoch,
            init_from=init_from,
            seed=seed,
            verbose=verbose,
            callbacks=callbacks,
            sampler=sampler,
        )
    recipe_label = recipe_name if isinstance(recipe_name, str) else None
    steps = int(steps or recipe["steps"])
    settings = recipe["train"]
    if strategy is None:
        strategy = distributed.cluster_strategy()
    if strategy is None:
        import tensorflow as tf

        strategy = tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    state, steps_per_epoch = checkpoints.resume_settings(
        checkpoint_dir, recipe_label, steps_per_epoch, steps
    )
    epochs = max(1, steps // steps_per_epoch)
    distributed.check_same_on_all_workers(
        strategy, state["epoch"] if state else 0, "the epoch to resume from"
    )
    policy = precision.recipe_policy(recipe)
    with strategy.scope(), precision.dtype_policy(policy):
        learner, start, initial_epoch, seconds = _learner_to_train(
            recipe, settings, checkpoint_dir, state, init_from, model
        )
    if sampler is None:
        sampler = training_sampler(recipe, data_dir, seed)
    # Each step takes a meta-batch of `tasks_per_batch` episodes (one when unbatched, one per
    # replica under a strategy): resume at the first episode the interrupted run had not used.
    tasks_per_batch = settings["tasks_per_batch"] or (replicas if replicas > 1 else None)
    episodes_per_step = tasks_per_batch or 1
    first = checkpoints.episodes_done(state, steps_per_epoch, episodes_per_step)
    if replicas > 1:
        data = distributed.distributed_episodes(strategy, sampler, tasks_per_batch, first)
    else:
        data = sampler.dataset(tasks_per_batch=tasks_per_batch, start=first)
    with distributed.writing_folder(checkpoint_dir, strategy) as folder:
        checkpoint = checkpoints.ResumableCheckpoint(
            folder,
            steps_per_epoch,
            recipe_label,
            seconds,
            init_from=start,
            episodes_per_step=episodes_per_step,
            episodes=first,
        )
        validation_data = None
        if validation is not None and replicas == 1:
            validation_data = validation.dataset(
                VALIDATION_STEPS * episodes_per_step, tasks_per_batch=tasks_per_batch
            )
        if initial_epoch < epochs:
            learner.fit(
                data,
                validation_data=validation_data,
                epochs=epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=steps_per_epoch,
                callbacks=[
                    checkpoint,
                    *learning_curve.monitoring_callbacks(folder, steps_per_epoch),
                    *callbacks,
                ],
                verbose=verbose,
            )
        final = checkpoints.read_state(folder) or {"epoch": initial_epoch, "seconds": seconds}
    # Also a barrier: no worker goes on (to read the checkpoint, say) before the chief wrote it.
    distributed.check_same_on_all_workers(strategy, final["epoch"], "the epoch trained to")
    final["steps"] = final["epoch"] * steps_per_epoch
    if policy:  # what leaves training computes in float32, as the presets will
        learner = precision.float32_copy(learner, settings["ways"], settings["shots"])
        learner.compile(optimizer=recipes.build_optimizer(recipe))
    return learner, final


def _learner_to_train(recipe, settings, checkpoint_dir, state, init_from, model=None):
    """`(learner, init_from record, initial epoch, seconds)`: the compiled learner resumed
    from the checkpoint, or a fresh one (the recipe's model updated by `model`, from
    `init_from` weights if given)."""
    if state:
        learner = checkpoints.load_checkpoint(checkpoint_dir)
        return learner, state.get("init_from"), state["epoch"], state["seconds"]
    learner = recipes.build_learner(dict(recipe, model={**recipe["model"], **(model or {})}))
    learner.build_for_episode(settings["ways"], settings["shots"])
    init_from = init_from or recipe.get("init_from")
    start = None
    if init_from:
        from zoo.presets import load_preset

        source = load_preset(init_from)
        start = init_from_record(init_from)
        if recipe.get("warm_start"):
            start["fresh_weights"] = copy_matching_weights(learner, source)
        else:
            learner.set_weights(source.get_weights())
    learner.compile(optimizer=recipes.build_optimizer(recipe))
    return learner, start, 0, 0.0


def copy_matching_weights(learner, source):
    """Starts `learner` from `source`, the same model built for another number of ways.

    Every weight whose shape agrees is copied; the others (the layers with one output per
    way) keep their fresh initial values, as Keras's `load_weights(skip_mismatch=True)` does.

    Args:
        learner: the built learner to start.
        source: a learner of the same class and configuration but for `ways`.

    Returns:
        The paths of the learner's weights left at their initial values.

    Raises:
        ValueError: if the two learners' weights do not pair up (another architecture).
    """

    def names(model):
        return [weight.path for weight in model.weights]

    if type(learner) is not type(source) or names(learner) != names(source):
        raise ValueError(
            f"cannot start a {type(learner).__name__} from a {type(source).__name__} whose "
            "weights differ in more than their shapes"
        )
    fresh = []
    for target, weight in zip(learner.weights, source.weights, strict=True):
        if tuple(target.shape) == tuple(weight.shape):
            target.assign(weight)
        else:
            fresh.append(target.path)
    return fresh


def init_from_record(init_from):
    """Where a run's starting weights came from, for its checkpoint state and presets'
    metadata: the preset `init_from` (a name or folder) and its whole lineage."""
    from zoo.presets import preset_metadata

    origin = preset_metadata(init_from)
    start = {
        "preset": origin.get("preset", str(init_from)),
        "train_steps": origin.get("train_steps"),
        "train_seconds": origin.get("train_seconds"),
        "weights_sha256": origin.get("weights_sha256"),
    }
    if origin.get("recipe"):
        start["recipe"] = origin["recipe"]
    if origin.get("init_from"):  # the whole lineage, not only the last run
        start["init_from"] = origin["init_from"]
    return start


def training_sampler(recipe, data_dir=None, seed=0):
    """The episodes a recipe meta-trains on: Omniglot's `trainval` classes in its `train`
    shapes, or generated sinusoid tasks for a recipe whose `data` is `"sinusoid"`, or the
    `trainval` classes in Santoro et al.'s sequences for a recipe whose `protocol` is
    `"sequences"`."""
    settings = recipe["train"]
    if recipe.get("protocol") == "sequences":
        from training.sequence_recipes import sequence_sampler

        return sequence_sampler(recipe, data_dir, "trainval", seed)
    if recipe.get("data") == "sinusoid":
        from training.sinusoid import SinusoidSampler

        return SinusoidSampler(settings["shots"], settings["queries"], seed=seed)
    if recipe.get("protocol") == "koch":
        from training.koch_protocol import koch_sampler

        size = recipe["model"].get("image_size", 105)
        return koch_sampler(
            data_dir,
            "train",
            settings["ways"],
            settings["shots"],
            settings["queries"],
            seed,
            image_size=size,
        )
    return protocols.omniglot_sampler(
        data_dir, "trainval", settings["ways"], settings["shots"], settings["queries"], seed
    )


def write_preset(learner, directory, metadata):
    """Writes `config.json`, `model.weights.h5` and `metadata.json` to `directory`, atomically.

    The files are written to a temporary folder beside `directory` and moved into place at the
    end (`zoo.files.atomic_destination`), so a failure leaves any earlier preset untouched and
    nothing half-written.
    """
    from zoo.files import atomic_destination
    from zoo.presets import CONFIG_FILE, METADATA_FILE, WEIGHTS_FILE, sha256_of

    directory = os.path.abspath(directory)
    os.makedirs(os.path.dirname(directory), exist_ok=True)
    model = _model_only(learner, metadata)
    with atomic_destination(directory) as staging:
        os.makedirs(staging)
        with open(os.path.join(staging, CONFIG_FILE), "w") as file:
            json.dump(keras.saving.serialize_keras_object(model), file, indent=2)
        weights = os.path.join(staging, WEIGHTS_FILE)
        model.save_weights(weights)
        metadata = dict(metadata, weights_sha256=sha256_of(weights))
        with open(os.path.join(staging, METADATA_FILE), "w") as file:
            json.dump(metadata, file, indent=2)
    return directory


def _model_only(learner, metadata):
    """An uncompiled float32 copy of `learner`: its config and weights file hold no training
    state.

    A compiled model's `save_weights` also writes the optimizer's variables (Adam's two
    slots per weight triple the file), and its config the compile arguments; a preset needs
    only the model (`zoo.load_preset` compiles it with the defaults).
    """
    return precision.float32_copy(learner, int(metadata["ways"]), int(metadata["shots"]))


def preset_metadata(recipe_name, preset_name, state, evaluation=None, data=None):
    """The metadata of a preset trained by a recipe (evaluation added when measured).

    `data` describes other data than Omniglot (`dataset`, `protocol` and more, e.g. the
    classes of its test split); the paper's accuracy, an Omniglot number, is then None.
    """
    import numpy
    import tensorflow

    recipe = recipes.get_recipe(recipe_name)
    ways, shots = recipe["presets"][preset_name]
    policy = precision.recipe_policy(recipe)  # the presets themselves compute in float32
    metadata = {
        "preset": preset_name,
        "algorithm": recipe["algorithm"],
        "dataset": "omniglot",
        "protocol": protocols.recipe_protocol(recipe),
        "ways": ways,
        "shots": shots,
        "transductive": recipe["transductive"],
        "paper_accuracy": recipe["paper"][(ways, shots)],
        "recipe": recipe_name if isinstance(recipe_name, str) else _recipe_record(recipe),
        "train_episodes": dict(recipe["train"]),
        "train_steps": int(state["steps"]),
        "train_seconds": float(state["seconds"]),
        "recipe_steps": recipe["steps"],
        **({"train_dtype_policy": policy} if policy else {}),
        **({"init_from": state["init_from"]} if state.get("init_from") else {}),
        "notes": recipe["notes"],
        "created": datetime.date.today().isoformat(),
        "versions": {
            "keras": keras.__version__,
            "tensorflow": tensorflow.__version__,
            "numpy": numpy.__version__,
        },
    }
    if recipe.get("data") == "sinusoid":
        from training.sinusoid_evaluate import preset_fields

        metadata.update(preset_fields())
    if recipe.get("protocol") == "sequences":  # accuracy per instance, not one number
        from training import sequence_recipes

        metadata.update(sequence_recipes.preset_fields(recipe, preset_name))
    if data:
        metadata.update(data, paper_accuracy=None)
    if evaluation:
        metadata.update(evaluation)
        if "accuracy" not in evaluation:  # regression (MSE) or sequences (per instance)
            return metadata
        metadata["meets_paper"] = meets_paper(evaluation["accuracy"], metadata["paper_accuracy"])
    return metadata


def _recipe_record(recipe):
    """A recipe given as a dict, for the metadata: all of it but its paper accuracies, whose
    tuple keys JSON cannot hold (the one that applies is recorded as `paper_accuracy`)."""
    return {key: value for key, value in recipe.items() if key != "paper"}
