"""`metazoo train`: meta-train a recipe, resumably, then evaluate and write presets.

Recipes train on Omniglot, on your own images (`--data FOLDER` or `tfds:NAME`), or on
generated sinusoid tasks when their `data` is `"sinusoid"`.
"""

import os
import sys

from metazoo.common import (
    CommandError,
    evaluation_metadata,
    format_accuracy,
    load_preset,
    omniglot_folder,
    say,
)


def configure_threads(recipe_name):
    """Task-parallel threads for recipes that meta-train on meta-batches of tasks.

    Runs before TensorFlow starts (see `zoo.threads.use_task_parallel_threads`). When it has
    already started (`metazoo` called from Python after other TensorFlow work), the threads
    stay as they are: they change the speed, not the result.
    """
    from training import recipes

    recipe = recipes.RECIPES.get(recipe_name)
    if recipe and recipe["train"].get("tasks_per_batch"):
        from zoo.threads import use_task_parallel_threads

        try:
            use_task_parallel_threads()
        except RuntimeError:
            pass


def command_train(args):
    from training import checkpoints, recipes

    if args.recipe not in recipes.RECIPES:
        raise CommandError(
            f"unknown recipe {args.recipe!r}; recipes are {', '.join(sorted(recipes.RECIPES))}"
        )
    from metazoo.commands import image_data

    recipe = recipes.RECIPES[args.recipe]
    sequences = recipe.get("protocol") == "sequences"  # Santoro et al.'s protocol
    if sequences:
        from metazoo.commands.sequences import check_sequence_data
        from training.distributed import cluster_config

        check_sequence_data(args.data)
        if cluster_config() is not None:
            raise CommandError("sequence recipes train on one machine; unset TF_CONFIG")
    omniglot = image_data.data_kind(args.data) == "omniglot"
    sinusoid = recipe.get("data") == "sinusoid" and args.data is None  # generated: no files
    data_dir = omniglot_folder(args.data) if omniglot and not sinusoid else None
    out = os.path.abspath(args.out)
    checkpoint = args.checkpoint or os.path.join(os.path.dirname(out), ".checkpoints", args.recipe)
    steps = recipe["steps"] if args.steps is None else args.steps
    if steps < 1 or (args.steps_per_epoch is not None and args.steps_per_epoch < 1):
        raise CommandError("--steps and --steps-per-epoch must be at least 1")
    if args.eval_episodes == 1 or args.eval_episodes < 0:
        raise CommandError("--eval-episodes must be 0 (no evaluation) or at least 2")
    args.test_queries = evaluation_queries(args, recipe, data_dir)
    try:
        state, steps_per_epoch = checkpoints.resume_settings(
            checkpoint, args.recipe, args.steps_per_epoch, steps
        )
    except ValueError as error:
        raise CommandError(str(error)) from None
    prepared = None if omniglot else image_data.prepare_training(args, recipe, checkpoint)
    if steps < steps_per_epoch:  # rounded down to whole epochs it would be none
        raise CommandError(
            f"--steps {steps} is less than one epoch of {steps_per_epoch} steps; ask for at "
            f"least {steps_per_epoch} (a finished run is not trained further)"
        )
    if steps % steps_per_epoch:
        steps -= steps % steps_per_epoch
        say(f"note: training {steps} steps, a whole number of epochs of {steps_per_epoch} steps")
    if state:
        say(
            f"resuming {args.recipe} from {checkpoint}: {state['epoch'] * steps_per_epoch} of "
            f"{steps} steps done"
        )
        if args.init_from:
            say("(--init-from is ignored when resuming)")
    else:
        if args.init_from:
            load_preset(args.init_from)  # fail now, with a clear message, if it is unusable
        elif recipe.get("init_from"):
            check_recipe_start(args.recipe, recipe["init_from"])
        say(f"training {args.recipe} for {steps} steps; checkpoints in {checkpoint}")
    if prepared:
        folder = image_data.write_training_splits(prepared, checkpoint)
        data = prepared["data"]
        say(
            f"data: {data.source}, {len(data.classes)} classes of {data.image_size}x"
            f"{data.image_size}x{data.channels} images; class splits in {folder}"
        )
    state = train_and_evaluate(args, recipe, data_dir, checkpoint, steps, steps_per_epoch, prepared)
    say(f"trained {state['steps']} steps in {state['seconds']:.0f} s; presets are in {out}")
    return 0


def evaluation_queries(args, recipe, data_dir):
    """The test queries per class of each preset's evaluation, checked before training starts.

    Episode recipes test `--queries` per class, else the recipe's `test_queries`
    (`protocols.recipe_test_queries`), else the protocol's default; with the preset's shots
    they must fit in a class of the test split. Sequence recipes (Santoro et al.) have no
    queries: each instance of a sequence is predicted in turn, so there are none.

    Returns:
        `{preset: queries}`, or None for a sequence recipe.
    """
    from training import protocols

    if recipe.get("protocol") == "sequences":
        if args.queries is not None:
            raise CommandError("sequence recipes have no --queries: every instance is a query")
        return None
    protocol = protocols.recipe_protocol(recipe) if data_dir else None
    test_queries = {}
    for preset, (_, shots) in recipe["presets"].items():
        queries = protocols.recipe_test_queries(recipe, shots, args.queries)
        queries, examples = protocols.evaluation_queries_and_examples(protocol, queries)
        too_many = bool(data_dir) and shots + queries > examples
        if args.eval_episodes and (queries < 1 or too_many):
            raise CommandError(
                f"--queries {queries} must be positive and, with {preset}'s {shots} shots, "
                f"at most the {examples} examples of a class in this protocol's test split"
            )
        test_queries[preset] = queries
    return test_queries


def check_recipe_start(recipe_name, preset):
    """Fails with what to do when the preset a recipe starts from is not available.

    A further stage (`init_from` in the recipe) starts from the presets an earlier recipe
    writes; until those ship, the earlier recipe's output folder can be given instead.
    """
    from training import recipes

    try:
        load_preset(preset)
    except CommandError:
        makers = sorted(
            name
            for name, recipe in recipes.RECIPES.items()
            if preset in recipe["presets"] and name != recipe_name
        )
        made_by = f" (written by {', '.join(makers)})" if makers else ""
        raise CommandError(
            f"recipe {recipe_name} starts from the preset {preset}{made_by}, which is not "
            f"shipped here: train it first, then pass its folder with --init-from"
        ) from None


def train_and_evaluate(args, recipe, data_dir, checkpoint, steps, steps_per_epoch, prepared=None):
    """Runs `training.train.train`, then evaluates and writes each preset of the recipe.

    `prepared` is the image data (`image_data.prepare_training`) to train on instead of
    Omniglot: training episodes from its train split, evaluation on its test split.

    Returns:
        The training state `{"epoch", "seconds", "steps"}`.
    """
    import warnings

    from metazoo.commands import image_data
    from training import distributed, protocols, train
    from training.evaluate import evaluate

    verbose = 1 if sys.stdout.isatty() else 2
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*shuffle=True.*")
        learner, state = train.train(
            args.recipe,
            checkpoint,
            data_dir=data_dir,
            steps=steps,
            steps_per_epoch=steps_per_epoch,
            init_from=args.init_from,
            verbose=verbose,
            sampler=prepared and prepared["sampler"],
            model=prepared and prepared["model"],
            validation=prepared and prepared["validation"],
        )
    if not distributed.is_chief(distributed.cluster_strategy()):
        say("trained as a worker of the cluster in TF_CONFIG; the chief writes the presets")
        return state
    if recipe.get("protocol") == "sequences":
        from metazoo.commands.sequences import write_sequence_presets

        write_sequence_presets(args, recipe, learner, state, data_dir)
        return state
    for preset, (ways, shots) in recipe["presets"].items():
        evaluation = None
        if args.eval_episodes and recipe.get("data") == "sinusoid":
            from training.sinusoid_evaluate import evaluate_regression

            say(f"evaluating {preset} on {args.eval_episodes} sinusoid tasks per K")
            evaluation = {
                "mse": evaluate_regression(learner, tasks=args.eval_episodes, seed=args.seed)
            }
        elif args.eval_episodes:
            queries = args.test_queries[preset]
            say(
                f"evaluating {preset} on {args.eval_episodes} test episodes of {queries} "
                "queries per class"
            )
            if prepared:
                from training.image_folder import image_sampler

                test = prepared["splits"]["test"]
                sampler = image_sampler(prepared["data"], test, ways, shots, queries, args.seed)
            else:
                sampler = protocols.evaluation_sampler(
                    data_dir,
                    protocols.recipe_protocol(recipe),
                    ways,
                    shots,
                    queries,
                    args.seed,
                    learner.image_size,
                )
            result = evaluate(learner, sampler, args.eval_episodes, verbose=int(verbose == 1))
            evaluation = evaluation_metadata(result, queries, args.seed)
        data = prepared and image_data.data_metadata(prepared, args.data)
        metadata = train.preset_metadata(args.recipe, preset, state, evaluation, data)
        folder = train.write_preset(
            learner, os.path.join(os.path.abspath(args.out), preset), metadata
        )
        if recipe.get("data") == "sinusoid":
            from metazoo.commands.list import format_sinusoid_mse

            measured = format_sinusoid_mse(metadata) or "not measured"
            say(f"wrote {folder}: sinusoid regression, {measured}")
            continue
        measured = format_accuracy(metadata) or "not measured"
        paper = metadata["paper_accuracy"]
        paper = f" (paper {paper}%)" if paper is not None else ""
        say(f"wrote {folder}: {ways}-way {shots}-shot {measured}{paper}")
    return state
