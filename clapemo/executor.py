"""One executor for every embarrassingly parallel step: ``map_tasks(fn, items)``, results in input order.

Where the tasks run
-------------------
* ``n_workers = 1``: a plain loop in this process (no pool, no pickling); the reference behaviour.
* otherwise, without a scheduler: local worker processes (``concurrent.futures.ProcessPoolExecutor`` with the
  ``spawn`` start method, so a worker never inherits a half-initialised CUDA or OpenMP state from the parent);
  ``-1`` = one worker per core. Each worker runs with **one torch thread** (``torch.set_num_threads(1)``, and
  ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` = 1), so N workers use N cores and do not
  oversubscribe them.
* ``scheduler`` (or the environment variable ``CLAPEMO_SCHEDULER``) = the address of a ``dask.distributed``
  scheduler (e.g. ``tcp://host:8786``), or a ``distributed.Client``: the tasks go there with ``client.map`` and
  come back with ``client.gather``. Dask is imported only then (``pip install 'dask[distributed]'``). Start the
  dask workers with ``--nthreads 1`` for the same one-thread-per-task rule. ``scheduler = "local"``
  (:data:`LOCAL`) keeps the tasks in local worker processes whatever the environment says: steps whose tasks read
  and write this machine's files (feature extraction, the synthetic benchmark) use it.
* ``fresh_process_per_task=True``: every task runs in a worker process of its own, started for it and ended
  after it (``max_tasks_per_child=1``), with ``n_workers = 1`` too (one worker at a time, never this process),
  so a task's result cannot depend on what an earlier task left in a library's global state (espeak-ng keeps
  such state: :mod:`clapemo.synth` renders each chunk of clips this way). Local workers only.

Worker lifetime
---------------
A local worker asks the kernel, as it starts, to end it when the process that started the pool dies (Linux
``prctl(PR_SET_PDEATHSIG, SIGKILL)``; a worker whose parent died while it was still starting exits at once), so
a parent killed with SIGKILL or SIGTERM, or crashing, leaves no worker computing or idling. Workers ignore SIGINT:
on Ctrl-C (``KeyboardInterrupt``, or ``SystemExit``, in the parent) the map cancels the tasks not yet started,
ends the running workers at once and re-raises, so ``clapemo <command>`` prints "interrupted" and exits with 130,
no worker left behind (clapemo's steps write their outputs through a temporary file and a rename, so a stopped
task leaves no half-written output).

Results are those of the serial loop, in input order, whichever way they ran (each task must be a deterministic
function of its item, which every clapemo step is: explicit seeds, no shared state, and in portable numerics
(:mod:`clapemo.numerics`) the same kernels and thread counts in every worker: a worker whose kernels are not the
portable ones, e.g. a dask worker started without the pins, refuses the task with a ConfigError).

Errors
------
The first task that fails stops the map (the tasks not yet started are cancelled) and its error is raised here as
itself: a :class:`~clapemo.errors.ClapEmoError` keeps its class and message, with a note naming the task. An error
that cannot travel between processes (an exception class whose arguments do not pickle) arrives as a
``ClapEmoError`` carrying the original class name and message, never as a pickling error.

GPU rule
--------
With ``uses_cuda=True`` (the tasks train on a GPU), local workers are capped at :data:`CUDA_TASKS_PER_DEVICE`
per visible GPU (environment variable ``CLAPEMO_CUDA_TASKS_PER_DEVICE`` overrides; default 2: a CLAP head is small,
two processes keep a GPU busy while one copies or logs, more only add CUDA contexts of ~0.5 GB each), and worker
``i`` sees only GPU ``i mod n_gpus`` (``CUDA_VISIBLE_DEVICES``), so the runs share the devices evenly. Dask
clusters place GPU work with their own worker resources.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import multiprocessing
import os
import pickle
import signal
import socket
import sys
from typing import Any, Callable, Iterable, Sequence

from clapemo import numerics
from clapemo.errors import ClapEmoError, ConfigError, ParameterError

__all__ = ["map_tasks", "resolve_workers", "check_worker_numerics", "in_worker", "progress_bar", "progress_disabled",
           "CUDA_TASKS_PER_DEVICE", "SCHEDULER_ENV", "LOCAL", "WORKER_ENV"]

#: environment variable naming a dask.distributed scheduler (overrides the ``scheduler`` argument when set)
SCHEDULER_ENV = "CLAPEMO_SCHEDULER"
#: ``scheduler`` value for local worker processes even when :data:`SCHEDULER_ENV` names a cluster
LOCAL = "local"
#: default number of concurrent CUDA tasks per visible GPU (env ``CLAPEMO_CUDA_TASKS_PER_DEVICE``)
CUDA_TASKS_PER_DEVICE = 2
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def resolve_workers(n_workers: int, n_tasks: int) -> int:
    """``-1`` -> the number of cores (``os.cpu_count()``); the result is capped at ``n_tasks`` (at least 1)."""
    if not isinstance(n_workers, int) or isinstance(n_workers, bool) or (n_workers < 1 and n_workers != -1):
        raise ParameterError(f"n_workers = {n_workers!r} must be a positive int or -1 (one per core)")
    n = (os.cpu_count() or 1) if n_workers == -1 else n_workers
    return max(1, min(n, n_tasks))


def _cuda_devices() -> list[str]:
    """Visible GPU ids (``CUDA_VISIBLE_DEVICES`` order, else 0..n-1); [] without CUDA."""
    try:
        import torch

        count = torch.cuda.device_count()
    except Exception:  # noqa: BLE001 - no torch or no driver: no GPU
        return []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible:
        return [d.strip() for d in visible.split(",") if d.strip()][:count]
    return [str(i) for i in range(count)]


#: set in every worker process: nested steps (feature extraction) then run serially inside it, no pool in a pool
WORKER_ENV = "CLAPEMO_WORKER"


def in_worker() -> bool:
    """True inside a worker process of :func:`map_tasks` (its steps must not start pools of their own)."""
    return os.environ.get(WORKER_ENV) == "1"


def _one_thread() -> None:
    """One thread per worker: the thread variables before any numeric library starts its pool here, and torch's
    own count when torch is loaded already (a task that imports torch later reads ``OMP_NUM_THREADS``)."""
    os.environ[WORKER_ENV] = "1"
    for name in _THREAD_ENV:
        os.environ[name] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this worker when its parent dies (Linux; elsewhere nothing is done).

    A parent killed with SIGKILL cannot stop its workers, and they do not notice: they go on computing, or wait
    for tasks forever. ``prctl(PR_SET_PDEATHSIG)`` is the kernel's own remedy (its "parent" is the thread that
    started the worker: the thread that called :func:`map_tasks`, or the pool's manager thread for a worker that
    replaces one that ended after its task; both outlive their workers). ``parent_pid`` is the pid of the process
    that started the pool: a worker still starting when its parent died has been re-parented already and exits at
    once.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before the request was in place
        os._exit(1)


def _init_worker(counter: Any, devices: Sequence[str], parent_pid: int) -> None:
    """Pool initializer: dies with its parent, leaves Ctrl-C to the parent (which ends the workers), one thread,
    no progress bars, and (GPU tasks) one device per worker, round robin."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _one_thread()
    # a worker's bars (a training that extracts features first) would interleave on the parent's terminal and, in
    # a notebook kernel, reach the page past its filter (they write to the inherited fd); the parent's task bar
    # counts the tasks instead
    os.environ["TQDM_DISABLE"] = "1"
    if devices:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        os.environ["CUDA_VISIBLE_DEVICES"] = devices[index % len(devices)]


def _portable(err: BaseException) -> BaseException:
    """``err`` if it survives a pickle round trip, else a ClapEmoError with its class name and message."""
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:  # noqa: BLE001 - whatever pickling raises, replace the exception by a portable one
        portable = ClapEmoError(f"{type(err).__name__}: {err}")
        for note in getattr(err, "__notes__", ()):
            portable.add_note(note)
        return portable


@functools.lru_cache(maxsize=None)
def check_worker_numerics(parent_mode: str) -> None:
    """A ConfigError when this worker computes with other numerics than the process that sent the task.

    A local worker inherits the parent's environment, so its kernels are pinned as the parent's are; a dask
    worker started elsewhere without the pins would silently give other bits (checked once per process).
    """
    here = numerics.mode()
    found = numerics.problems() if parent_mode == "portable" else []
    if here != parent_mode:
        found.insert(0, f"numerics mode {here!r} here, {parent_mode!r} where the tasks were sent from")
    if found:
        pins = " ".join(f"{k}={v}" for k, v in numerics.environment().items())
        raise ConfigError(f"worker {socket.gethostname()} (pid {os.getpid()}) cannot compute portable numbers: "
                          f"{'; '.join(found)}. Start dask workers with {numerics.MODE_ENV}={parent_mode} and, "
                          f"for portable numbers, {pins} in their environment (`clapemo doctor --env` prints "
                          f"them)")


def _run_task(fn: Callable[[Any], Any], item: Any, index: int, one_thread: bool,
              parent_mode: str = "portable") -> Any:
    """Run one task (in a worker); a failure is re-raised in a form that pickles, naming the task."""
    if one_thread:
        _one_thread()
    try:
        check_worker_numerics(parent_mode)
        return fn(item)
    except Exception as err:  # noqa: BLE001 - every failure must reach the caller intact
        err.add_note(f"(in task {index} of clapemo.executor.map_tasks: {getattr(fn, '__name__', fn)})")
        raise _portable(err) from None


def progress_disabled() -> bool:
    """tqdm's own switch, ``TQDM_DISABLE`` (any value but empty/0/false/no). ``clapemo <command> --quiet`` sets it
    for the whole process (and the worker processes it starts), so the bars of nested stages go quiet too."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no")


def progress_bar(iterable: Any = None, *, total: int | None = None, desc: str, unit: str, enabled: bool = True,
                 **kwargs: Any) -> Any:
    """The one progress-bar factory of the package: a tqdm bar, off when ``enabled`` is False or
    :func:`progress_disabled` (tqdm reads ``TQDM_DISABLE`` only at import time and lets an explicit ``disable=``
    win, so every clapemo bar goes through here instead)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not enabled or progress_disabled(), **kwargs)


def _progress(total: int, desc: str, enabled: bool) -> Any:
    return progress_bar(total=total, desc=desc, unit="task", enabled=enabled)


def map_tasks(fn: Callable[[Any], Any], items: Iterable[Any], *, n_workers: int = -1, scheduler: Any = "",
              progress: bool = True, desc: str = "tasks", uses_cuda: bool = False,
              fresh_process_per_task: bool = False, on_result: Callable[[int, Any], None] | None = None) -> list:
    """``[fn(item) for item in items]``, possibly in parallel; see the module docstring.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled by name for worker processes and dask).
    items : iterable
        Task inputs (picklable).
    n_workers : int
        Local worker processes: ``-1`` one per core, ``1`` serial in this process. Ignored with a scheduler.
    scheduler : str or distributed.Client
        A dask.distributed scheduler address or client; ``""``: local (env ``CLAPEMO_SCHEDULER`` overrides);
        ``"local"`` (:data:`LOCAL`): local, whatever the environment says.
    progress : bool
        A tqdm bar over finished tasks.
    desc : str
        The bar's label.
    uses_cuda : bool
        The tasks use a GPU: apply the GPU rule (module docstring) to local workers.
    fresh_process_per_task : bool
        Run every task in a worker process of its own, also with ``n_workers = 1`` (module docstring); needs
        local workers (a scheduler is a ParameterError).
    on_result : callable, optional
        ``on_result(index, result)``, called here as each task finishes (in the order they finish), e.g. to
        record results or move a progress bar of the caller's own; what it raises stops the map.

    Returns
    -------
    list, length ``len(items)``: ``fn(item)`` in input order.

    Raises
    ------
    The first failing task's exception (module docstring, "Errors").
    """
    items = list(items)
    local = isinstance(scheduler, str) and scheduler == LOCAL
    scheduler = "" if local else os.environ.get(SCHEDULER_ENV) or scheduler
    if scheduler and fresh_process_per_task:
        raise ParameterError(f"scheduler = {scheduler!r}: fresh_process_per_task needs local worker processes (a "
                             f"dask worker runs many tasks); pass scheduler={LOCAL!r}")
    if not items:
        return []
    if scheduler:
        return _map_dask(fn, items, scheduler, progress=progress, desc=desc, on_result=on_result)
    n = resolve_workers(n_workers, len(items))
    devices = _cuda_devices() if uses_cuda else []
    if uses_cuda and devices:
        per_device = int(os.environ.get("CLAPEMO_CUDA_TASKS_PER_DEVICE", CUDA_TASKS_PER_DEVICE))
        n = max(1, min(n, per_device * len(devices)))
    if n == 1 and not fresh_process_per_task:
        return _map_serial(fn, items, progress=progress, desc=desc, on_result=on_result)
    return _map_local(fn, items, n, devices, progress=progress, desc=desc, fresh=fresh_process_per_task,
                      on_result=on_result)


def _map_serial(fn: Callable, items: list, *, progress: bool, desc: str, on_result: Callable | None) -> list:
    results = []
    with _progress(len(items), desc, progress) as bar:
        for i, item in enumerate(items):
            results.append(fn(item))
            if on_result is not None:
                on_result(i, results[-1])
            bar.update(1)
    return results


def _stop_now(pool: cf.ProcessPoolExecutor) -> None:
    """End the workers at once, running tasks included, and cancel the tasks not yet started (Ctrl-C)."""
    # the pool's own table of its processes (CPython's; Python 3.14 has pool.terminate_workers() for this): once
    # one is gone the pool counts itself broken and ends the others, a replacement started meanwhile included
    for worker in list((getattr(pool, "_processes", None) or {}).values()):
        worker.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _map_local(fn: Callable, items: list, n: int, devices: list[str], *, progress: bool, desc: str, fresh: bool,
               on_result: Callable | None) -> list:
    context = multiprocessing.get_context("spawn")
    counter = context.Value("i", 0)
    results: list = [None] * len(items)
    # max_tasks_per_child is 1 or None, never more: with 2 or more, CPython 3.11-3.13 can stop replacing the
    # workers that retire and hang (python/cpython#115634)
    pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_init_worker,
                                  initargs=(counter, devices, os.getpid()), max_tasks_per_child=1 if fresh else None)
    try:
        mode = numerics.mode()
        futures = {pool.submit(_run_task, fn, item, i, False, mode): i for i, item in enumerate(items)}
        with _progress(len(items), desc, progress) as bar:
            for future in cf.as_completed(futures):
                index = futures[future]
                results[index] = future.result()  # the first failure raises here
                if on_result is not None:
                    on_result(index, results[index])
                bar.update(1)
    except Exception:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    except BaseException:  # KeyboardInterrupt, SystemExit: stop now, wait for no task
        _stop_now(pool)
        raise
    pool.shutdown(wait=True)
    return results


def _map_dask(fn: Callable, items: list, scheduler: Any, *, progress: bool, desc: str,
              on_result: Callable | None) -> list:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ClapEmoError(f"scheduler = {scheduler!r} names a dask.distributed cluster, but dask is not installed "
                           "here; install it with pip install 'dask[distributed]', or leave 'train.scheduler' and "
                           f"${SCHEDULER_ENV} empty for local worker processes") from None
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler) if own else scheduler
    except OSError as err:
        raise ClapEmoError(f"cannot reach the dask scheduler {scheduler!r} ({err}); check the address "
                           f"('train.scheduler' or ${SCHEDULER_ENV})") from None
    try:
        futures = client.map(_run_task, [fn] * len(items), items, list(range(len(items))),
                             [True] * len(items), [numerics.mode()] * len(items), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        with _progress(len(items), desc, progress) as bar:
            try:
                for future in as_completed(futures):
                    if future.status == "error":
                        future.result()  # raises the task's exception
                    if on_result is not None:
                        on_result(index[future.key], future.result())
                    bar.update(1)
            except BaseException:
                client.cancel(futures)
                raise
        return client.gather(futures)
    finally:
        if own:
            client.close()
