"""Peak memory of one second-order MAML meta-step, each implementation in a fresh process.

Two measures, both taken in a spawned process that does nothing but build the model, run the
meta-step once (tracing) and then time-free steady-state meta-steps:

- TensorFlow's CPU allocator: `tf.config.experimental.reset_memory_stats("CPU:0")` after the
  first (tracing) step, then the `peak` of `tf.config.experimental.get_memory_info("CPU:0")`
  over the next step: the largest amount of tensor memory live at once during a steady-state
  meta-step (activations kept for the meta-gradient, inner gradients, weights, optimizer state).
- Resident set: `resource.getrusage(RUSAGE_SELF).ru_maxrss` (the process's lifetime peak,
  so it includes tracing and graph optimization) and its growth over the resident set measured
  after TensorFlow, the model and the data were loaded but before the first step.
"""

import multiprocessing
import resource

from benchmarks import tables

MIB = 1024.0 * 1024.0


def _resident_mib():
    """Current resident set size of this process in MiB (Linux /proc)."""
    with open("/proc/self/statm") as file:
        pages = int(file.read().split()[1])
    return pages * resource.getpagesize() / MIB


def _peak_resident_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _cross_entropy(y_true, y_pred):
    import keras

    return keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)


def _measure(connection, implementation, setting, threads):
    try:
        from benchmarks import maml_throughput
        from benchmarks.workers import configure_threads

        configure_threads(threads)
        import tensorflow as tf

        batch = maml_throughput.meta_batch(setting)
        learner, ours = maml_throughput.build_ours(batch, False, setting)
        if implementation == "handwritten":
            weights = [v.numpy() for v in learner.network.trainable_variables]
            step = maml_throughput.build_handwritten(batch, False, weights, setting)
        elif implementation == "stacked":
            # A loss given as a plain function sends zoo.MAML through Keras' own train step,
            # which takes one loss over the stacked logits of all tasks.
            import keras

            learner.compile(optimizer=keras.optimizers.Adam(1e-3), loss=_cross_entropy)
            step = ours
        else:
            step = ours
        before = _resident_mib()
        step()
        tf.config.experimental.reset_memory_stats("CPU:0")
        step()
        info = tf.config.experimental.get_memory_info("CPU:0")
        connection.send(
            {
                "allocator_peak": info["peak"] / MIB,
                "resident_before": before,
                "resident_peak": _peak_resident_mib(),
            }
        )
    except BaseException as error:  # noqa: BLE001 - report any failure to the parent
        connection.send({"error": f"{type(error).__name__}: {error}"})
    finally:
        connection.close()


def measure(implementation, setting, threads=None):
    """Memory of second-order meta-steps, in a fresh process.

    Args:
        implementation: `"ours"` (`zoo.MAML`'s train step), `"stacked"` (`zoo.MAML` through
            Keras' default train step: one loss over all tasks' stacked logits) or
            `"handwritten"`.
        setting: the meta-batch, as `maml_throughput.SETTING`.
        threads: thread count, None for TensorFlow's default.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_measure, args=(sender, implementation, setting, threads))
    process.start()
    sender.close()
    result = receiver.recv()
    process.join()
    return result


def table(results, setting):
    rows = []
    for name, result in results.items():
        if "error" in result:
            rows.append([name, "-", "-", "-", "-"])
            continue
        rows.append(
            [
                name,
                tables.number(result["allocator_peak"]),
                tables.number(result["resident_before"]),
                tables.number(result["resident_peak"]),
                tables.number(result["resident_peak"] - result["resident_before"]),
            ]
        )
    notes = [
        f"second-order, {setting['ways']}-way {setting['shots']}-shot, {setting['queries']} "
        f"queries/class, {setting['side']}x{setting['side']}, meta-batch {setting['tasks']}, "
        f"{setting['inner_steps']} inner step; each in a fresh process",
        "TF peak: tf.config.experimental.get_memory_info('CPU:0')['peak'] over one steady-state "
        "meta-step (reset after the tracing step): tensor memory only",
        "RSS: /proc/self/statm before the first step; peak = ru_maxrss over the process's life "
        "(includes tracing and graph optimization)",
    ]
    notes += [f"{name}: {r['error']}" for name, r in results.items() if "error" in r]
    return tables.format_table(
        "Peak memory of a second-order MAML meta-step (MiB)",
        ["implementation", "TF peak", "RSS before", "RSS peak", "RSS growth"],
        rows,
        notes,
    )
