"""clapemo.executor: input order, serial == parallel, one torch thread per worker, errors, dask, a fresh process per
task, results as they finish, Ctrl-C and a killed parent end the workers."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from clapemo.errors import ClapEmoError, DataError, ParameterError
from clapemo import executor
from clapemo.executor import map_tasks, resolve_workers


def square_after_noise(seed):
    """Deterministic per item; the sleep-free amount of work differs per item so completion order varies."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200 * (5 - seed % 5), 50))
    return seed * seed, float((x @ x.T).trace())


def worker_threads(_):
    import torch

    return torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS"), os.getpid()


def bars_disabled(_):
    return executor.progress_disabled()


def pid_of(_):
    return os.getpid()


def sleep_after_pid_file(item):
    """Write this worker's pid to ``<folder>/<i>.pid``; every item but 0 then sleeps for a minute."""
    folder, i = item
    Path(folder, f"{i}.tmp").write_text(str(os.getpid()))
    os.replace(Path(folder, f"{i}.tmp"), Path(folder, f"{i}.pid"))  # whole, even if the worker is ended now
    if i > 0:
        time.sleep(60)
    return i


def fail_on_three(i):
    if i == 3:
        raise DataError(f"clip {i}.wav: cannot read the audio file")
    return i


class Unpicklable(Exception):
    def __init__(self, a, b):  # pickling re-calls __init__ with one argument (args) and fails
        super().__init__(f"{a}/{b}")


def fail_unpicklable(i):
    raise Unpicklable(i, "x")


def test_parallel_results_equal_the_serial_loop_in_input_order():
    items = list(range(7))
    serial = map_tasks(square_after_noise, items, n_workers=1, progress=False)
    assert serial == [square_after_noise(i) for i in items]
    assert map_tasks(square_after_noise, items, n_workers=2, progress=False) == serial
    assert map_tasks(square_after_noise, [], n_workers=2, progress=False) == []


def test_workers_use_one_torch_thread():
    out = map_tasks(worker_threads, range(4), n_workers=2, progress=False)
    assert {threads for threads, _, _ in out} == {1} and {env for _, env, _ in out} == {"1"}
    assert os.getpid() not in {pid for _, _, pid in out}


def test_task_error_surfaces_as_the_task_clapemo_error():
    with pytest.raises(DataError, match=r"clip 3\.wav: cannot read") as info:
        map_tasks(fail_on_three, range(6), n_workers=2, progress=False)
    assert any("task 3" in note for note in getattr(info.value, "__notes__", []))
    with pytest.raises(DataError, match=r"clip 3\.wav"):
        map_tasks(fail_on_three, range(6), n_workers=1, progress=False)


def test_unpicklable_error_arrives_as_clapemo_error_with_its_message():
    with pytest.raises(Unpicklable, match=r"0/x"):
        map_tasks(fail_unpicklable, [0], n_workers=2, progress=False)  # one task: serial, raised as is
    with pytest.raises(ClapEmoError, match=r"Unpicklable: \d/x"):
        map_tasks(fail_unpicklable, [0, 1], n_workers=2, progress=False)


def test_resolve_workers():
    assert resolve_workers(-1, 100) == (os.cpu_count() or 1)
    assert resolve_workers(8, 3) == 3 and resolve_workers(1, 0) == 1
    with pytest.raises(ParameterError, match="n_workers"):
        resolve_workers(0, 3)


def test_dask_local_cluster_gives_the_serial_results_and_errors(monkeypatch):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
            as cluster:
        items = list(range(5))
        got = map_tasks(square_after_noise, items, scheduler=cluster.scheduler_address, progress=False)
        assert got == [square_after_noise(i) for i in items]
        threads = map_tasks(worker_threads, range(2), scheduler=cluster.scheduler_address, progress=False)
        assert {t for t, _, _ in threads} == {1}
        with pytest.raises(DataError, match=r"clip 3\.wav"):
            map_tasks(fail_on_three, range(5), scheduler=cluster.scheduler_address, progress=False)
        monkeypatch.setenv("CLAPEMO_SCHEDULER", cluster.scheduler_address)  # the environment names a cluster
        assert map_tasks(square_after_noise, items, n_workers=1, progress=False) == got


def test_progress_bar_honours_tqdm_disable_even_when_enabled(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert executor.progress_bar(total=3, desc="x", unit="clip").disable
    monkeypatch.setenv("TQDM_DISABLE", "0")
    assert not executor.progress_bar(total=3, desc="x", unit="clip", enabled=True).disable
    assert executor.progress_bar(total=3, desc="x", unit="clip", enabled=False).disable


def test_quiet_flag_silences_every_bar_of_the_command(monkeypatch):
    # `clapemo train --quiet` on a stale corpus used to show the regeneration bars: --quiet now sets the process's
    # switch before the subcommand runs, so nested stages (and worker processes) read it too
    from clapemo import cli

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    with pytest.raises(SystemExit):
        cli.main(["config", "--quiet"])  # config takes no --quiet: argparse exits, after the switch was set
    assert executor.progress_disabled()
    assert executor.progress_bar(total=3, desc="x", unit="clip").disable


def test_worker_processes_show_no_progress_bars(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert map_tasks(bars_disabled, range(4), n_workers=2, progress=False) == [True] * 4
    assert not executor.progress_disabled()  # the parent's own bars stay on


def test_fresh_process_per_task_runs_each_task_in_a_worker_of_its_own():
    for n in (1, 2):  # with one worker too: never this process, never a reused worker
        pids = map_tasks(pid_of, range(3), n_workers=n, progress=False, fresh_process_per_task=True)
        assert len(set(pids)) == 3 and os.getpid() not in pids


def test_on_result_sees_every_result_once_by_its_index():
    for n in (1, 2):
        seen = {}
        out = map_tasks(square_after_noise, range(5), n_workers=n, progress=False, on_result=seen.__setitem__)
        assert seen == dict(enumerate(out))


def test_local_scheduler_ignores_the_environment(monkeypatch):
    monkeypatch.setenv("CLAPEMO_SCHEDULER", "tcp://127.0.0.1:9")  # nothing listens there
    got = map_tasks(square_after_noise, range(3), n_workers=2, scheduler=executor.LOCAL, progress=False)
    assert got == [square_after_noise(i) for i in range(3)]
    with pytest.raises(ParameterError, match="fresh_process_per_task"):  # the environment names a cluster
        map_tasks(pid_of, range(2), progress=False, fresh_process_per_task=True)


def test_interrupt_ends_the_running_workers_at_once(tmp_path):
    def interrupted(index, result):
        raise KeyboardInterrupt  # as Ctrl-C in the parent, while the other tasks sleep for a minute

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        map_tasks(sleep_after_pid_file, [(str(tmp_path), i) for i in range(4)], n_workers=2, progress=False,
                  on_result=interrupted)
    assert time.monotonic() - start < 30  # no sleeping task was waited for
    pids = [int(p.read_text()) for p in tmp_path.glob("*.pid")]
    assert pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):  # ended and reaped
            os.kill(pid, 0)


@pytest.mark.slow
def test_workers_die_with_a_killed_parent(tmp_path):
    psutil = pytest.importorskip("psutil")
    script = tmp_path / "parent.py"
    script.write_text("import clapemo\nfrom clapemo.executor import map_tasks\nimport test_executor\n\n"
                      "if __name__ == '__main__':\n"
                      f"    map_tasks(test_executor.sleep_after_pid_file, [({str(tmp_path)!r}, i + 1) for i in "
                      "range(4)], n_workers=2, progress=False)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stderr=subprocess.DEVNULL)
    for _ in range(600):  # both workers are in a task (at most 60 s)
        time.sleep(0.1)
        if len(list(tmp_path.glob("*.pid"))) >= 2 or proc.poll() is not None:
            break
    workers = [psutil.Process(int(p.read_text())) for p in tmp_path.glob("*.pid")]
    assert proc.poll() is None and len(workers) == 2, "the workers never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.time() + 20
    alive = workers
    while alive and time.time() < deadline:
        time.sleep(0.2)
        alive = [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    for w in alive:
        w.kill()
    assert not alive, f"{len(alive)} workers outlived their killed parent"
