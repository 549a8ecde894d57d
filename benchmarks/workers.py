"""Benchmark functions run in their own processes, timed on request from the parent.

TensorFlow's and PyTorch's thread pools spin while waiting for work, so running both in one
process slows whichever runs second by an order of magnitude on a small machine. Each worker is
a fresh (spawned) process that builds a set of step functions, warms them up and then times
them when asked, so steps of different processes can still be interleaved.
"""

import importlib
import multiprocessing
import time
import traceback

TASK_PARALLEL = "task-parallel"


def configure_threads(threads):
    """Sets TensorFlow's and (if imported later) PyTorch's thread counts; None keeps defaults.

    `"task-parallel"` (or `"task-parallel:N"` for N cores) sets TensorFlow to one thread per
    op and one op per core (`zoo.threads.use_task_parallel_threads`).
    """
    if threads is None:
        return
    if str(threads).startswith(TASK_PARALLEL):
        from zoo.threads import use_task_parallel_threads

        cores = str(threads)[len(TASK_PARALLEL) + 1 :]
        use_task_parallel_threads(int(cores) if cores else None)
        return
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)


def _serve(connection, builder, arguments, threads):
    try:
        configure_threads(threads)
        module, name = builder.split(":")
        steps, notes = getattr(importlib.import_module(module), name)(*arguments)
        available = {key: step for key, step in steps.items() if step is not None}
        first_call = {}
        for key, step in available.items():
            start = time.perf_counter()
            step()
            first_call[key] = time.perf_counter() - start
        connection.send(
            {
                "names": list(steps),
                "available": list(available),
                "notes": notes,
                "first_call": first_call,
            }
        )
        while True:
            request = connection.recv()
            if request is None:
                break
            key, calls = request
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(calls):
                available[key]()
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            connection.send((wall / calls, cpu / calls))
    except BaseException:  # noqa: BLE001 - report any failure to the parent
        connection.send({"error": traceback.format_exc()})
    finally:
        connection.close()


class Worker:
    """A spawned process running `builder(*arguments)` -> `({name: step or None}, {name: note})`.

    Args:
        builder: `"module:function"`, importable in a fresh interpreter.
        arguments: picklable arguments of the builder.
        threads: thread count for TensorFlow and PyTorch in the worker, None for defaults.
    """

    def __init__(self, builder, arguments=(), threads=None):
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, builder, tuple(arguments), threads), daemon=True
        )
        self._process.start()
        child.close()
        info = self._connection.recv()
        if "error" in info:
            self.close()
            raise RuntimeError(f"benchmark worker {builder} failed:\n{info['error']}")
        self.names, self.available = info["names"], info["available"]
        self.notes, self.first_call = info["notes"], info["first_call"]

    def step_function(self, name, calls=1, cpu=False):
        """A function of no arguments that runs `calls` calls of `name` in the worker.

        It returns wall-clock seconds per call, or `(wall, cpu)` seconds per call if `cpu`:
        the worker process's CPU time (all its threads), which a busy machine disturbs less.
        """

        def timed():
            self._connection.send((name, calls))
            answer = self._connection.recv()
            if isinstance(answer, dict):
                raise RuntimeError(f"benchmark step {name} failed:\n{answer['error']}")
            return answer if cpu else answer[0]

        return timed

    def close(self):
        try:
            self._connection.send(None)
        except (BrokenPipeError, OSError):
            pass
        self._process.join(timeout=60)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
