"""Wall-clock timing: warm-up, then interleaved repeats, summarized by the median."""

import statistics
import time


def seconds_per_call(function, calls=1):
    """Mean wall-clock seconds of `calls` calls of `function` (which must block until done)."""
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def interleaved(timers, repeats):
    """Runs every timer `repeats` times, in rotating order so that load drift hits all alike.

    Args:
        timers: a dict name -> function of no arguments returning seconds (e.g. a
            `Worker.step_function`, or `lambda: seconds_per_call(step, calls)`); warm the
            steps up before.
        repeats: measurements per timer.

    Returns:
        A dict name -> list of seconds, one entry a repeat.
    """
    names = list(timers)
    times = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            times[name].append(timers[name]())
    return times


def median(values):
    return statistics.median(values)


def spread(values):
    """Half the interquartile range relative to the median, in percent (0 for < 2 values)."""
    if len(values) < 2:
        return 0.0
    quartiles = statistics.quantiles(values, n=4, method="inclusive")
    return 50.0 * (quartiles[2] - quartiles[0]) / statistics.median(values)
