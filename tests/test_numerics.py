"""clapemo.numerics and clapemo.portability: pins, modes, the OpenBLAS products, workers, and the emulated CPU."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from clapemo import numerics, portability, train
from clapemo.config import config_hash, load_config, replace
from clapemo.encoders.base import identity_id
from clapemo.errors import ConfigError
from clapemo.executor import map_tasks


def test_apply_sets_the_pins_keeps_a_preset_core_type_and_does_nothing_in_fast_mode():
    env = {"OPENBLAS_CORETYPE": "Zen", "OMP_NUM_THREADS": "16"}
    numerics.apply(env)
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and env["NPY_DISABLE_CPU_FEATURES"] == "X86_V4 AVX512_ICL AVX512_SPR"
    assert env["MKL_CBWR"] == "COMPATIBLE" and env["OMP_NUM_THREADS"] == str(numerics.TORCH_THREADS)
    assert env["OPENBLAS_CORETYPE"] == "Zen"  # set by the platform: kept (and recorded)
    fast = {numerics.MODE_ENV: "fast", "OMP_NUM_THREADS": "16"}
    numerics.apply(fast)
    assert fast == {numerics.MODE_ENV: "fast", "OMP_NUM_THREADS": "16"}
    with pytest.raises(ConfigError, match="CLAPEMO_NUMERICS.*portable, fast"):
        numerics.mode({numerics.MODE_ENV: "quick"})


def test_this_test_process_computes_with_the_portable_kernels():
    assert numerics.mode() == "portable" and numerics.problems() == []
    assert torch.backends.cpu.get_cpu_capability() == "AVX2"
    state = numerics.state()
    assert not set(state["numpy"]["dispatch_enabled"]) & set(numerics.NUMPY_WIDE_GROUPS)


def test_a_numpy_imported_before_clapemo_is_named_as_a_problem():
    from numpy._core import _multiarray_umath as umath

    if not any(umath.__cpu_features__.get(g) is not None and g in umath.__cpu_dispatch__
               for g in numerics.NUMPY_WIDE_GROUPS) or "avx512f" not in open("/proc/cpuinfo").read():
        pytest.skip("this CPU has no AVX-512: NumPy's dispatch is portable whatever the import order")
    env = {k: v for k, v in os.environ.items() if k not in numerics.KERNEL_PINS}
    code = "import numpy, clapemo.numerics as n; print(n.problems())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert "NumPy dispatches to" in out


def test_bfloat16_is_refused_in_portable_mode_and_fast_mode_gets_other_ids(monkeypatch):
    with pytest.raises(ConfigError, match="'train.precision' = 'bfloat16' is not portable"):
        numerics.check_precision("train.precision", "bfloat16")
    numerics.check_precision("train.precision", "float32")
    config = load_config()
    portable_ids = config_hash(config), identity_id({"name": "x", "v": 1})
    monkeypatch.setenv(numerics.MODE_ENV, "fast")
    numerics.check_precision("train.precision", "bfloat16")
    assert (config_hash(config), identity_id({"name": "x", "v": 1})) != portable_ids
    assert numerics.problems() and "fast" in numerics.problems()[0]


@pytest.mark.parametrize("shapes", [((5, 7), (7, 3)), ((2, 4, 8, 16), (2, 4, 16, 8)), ((3, 9, 12), (12, 6)),
                                    ((1, 384), (384, 1024))])
def test_openblas_products_equal_torch_and_their_gradients_too(shapes):
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(*shapes[0], generator=gen, dtype=torch.float64).float().requires_grad_()
    b = torch.randn(*shapes[1], generator=gen, dtype=torch.float64).float().requires_grad_()
    weight = torch.randn(5, shapes[0][-1], generator=gen).requires_grad_()
    with numerics.blas_products():
        out = a @ b
        lin = torch.nn.functional.linear(a, weight, torch.ones(5))
        (out.sum() + lin.square().sum()).backward()
    assert out.grad_fn is not None and "BlasMatmul" in type(out.grad_fn).__name__
    grads = a.grad.clone(), b.grad.clone(), weight.grad.clone()
    for t in (a, b, weight):
        t.grad = None
    ((a @ b).sum() + torch.nn.functional.linear(a, weight, torch.ones(5)).square().sum()).backward()
    torch.testing.assert_close(out, a.detach() @ b.detach(), rtol=1e-4, atol=1e-4)  # another summation order
    for ours, theirs in zip(grads, (a.grad, b.grad, weight.grad)):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)


def test_products_pass_through_other_dtypes_and_vectors():
    with numerics.blas_products():
        x = torch.arange(6, dtype=torch.float64).reshape(2, 3)
        assert (x @ x.T).dtype == torch.float64 and (x @ x.T).grad_fn is None
        v = torch.ones(3)
        assert torch.equal(torch.ones(2, 3) @ v, torch.full((2,), 3.0))


def _tiny_training(seed):
    """One small training (a module-level function: the executor pickles it by name); the weights' bytes."""
    import tempfile

    rng = np.random.default_rng(0)
    audio, text = rng.normal(size=(12, 16)).astype(np.float32), rng.normal(size=(3, 8)).astype(np.float32)
    clip_index, text_index = np.arange(12), np.arange(12) % 3
    config = replace(load_config(), **{"train.epochs": 2, "train.batch_size": 4, "train.projection_dim": 8,
                                       "train.seed": seed, "train.device": "cpu", "train.num_threads": 1})
    with tempfile.TemporaryDirectory() as folder:
        run = train.fit_embeddings(audio, text, clip_index, text_index, config=config, run_dir=folder,
                                   progress=False)
        head = train.load_run(run).head
        return b"".join(p.detach().numpy().tobytes() for p in head.parameters())


def test_trainings_are_the_same_bits_serially_in_two_workers_and_on_a_dask_cluster():
    serial = map_tasks(_tiny_training, [0, 1, 2], n_workers=1, progress=False)
    assert len(set(serial)) == 3  # seeds matter
    assert map_tasks(_tiny_training, [0, 1, 2], n_workers=2, progress=False) == serial
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
            as cluster:
        assert map_tasks(_tiny_training, [0, 1, 2], scheduler=cluster.scheduler_address, progress=False) == serial


def _worker_mode(_):
    return numerics.mode(), numerics.problems()


def test_a_worker_with_other_numerics_refuses_the_task(monkeypatch):
    from clapemo import executor

    assert map_tasks(_worker_mode, [0, 1], n_workers=2, progress=False) == [("portable", [])] * 2
    executor.check_worker_numerics.cache_clear()
    monkeypatch.setattr(numerics, "problems", lambda: ["torch uses the AVX512 kernels, not AVX2"])
    with pytest.raises(ConfigError, match=r"cannot compute portable numbers: torch uses the AVX512.*doctor --env"):
        executor.check_worker_numerics("portable")
    executor.check_worker_numerics.cache_clear()


def test_test_signal_is_a_voiced_clip_of_known_pitch():
    from clapemo import features

    props = features.extract(portability.test_signal(f0_hz=215.0), sample_rate_hz=16000)
    assert props.duration_s == pytest.approx(1.2) and props.f0_mean_hz == pytest.approx(215.0, rel=0.01)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("qemu-x86_64") is None, reason="qemu-user is not installed (make portability)")
def test_the_slice_gives_the_same_bits_on_an_emulated_haswell():
    result = portability.compare(cpu="Haswell", timeout_s=900)
    assert result["differs"] == [], result


def test_blas_products_use_one_thread_whatever_the_process_allows():
    """OpenBLAS sums a 128x768 @ 768x1024 product in other orders with 1, 2 or 3 threads, so blas_products runs
    every product on one thread: the bits do not depend on the process's thread settings."""
    import threadpoolctl

    gen = torch.Generator().manual_seed(0)
    a, w = torch.randn(128, 768, generator=gen), torch.randn(1024, 768, generator=gen)
    outs = []
    for threads in (1, 2, 3):
        with threadpoolctl.threadpool_limits(threads, user_api="blas"), numerics.blas_products():
            outs.append(torch.nn.functional.linear(a, w))
    assert all(torch.equal(outs[0], o) for o in outs[1:])


def test_a_fast_process_started_by_a_portable_one_drops_the_inherited_pins():
    env = {"OMP_NUM_THREADS": "8"}
    numerics.apply(env)  # portable: sets the pins (OMP_NUM_THREADS was the user's: overwritten, not added)
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and "ATEN_CPU_CAPABILITY" in env["CLAPEMO_PINNED"].split()
    child = {**env, numerics.MODE_ENV: "fast"}
    numerics.apply(child)
    assert "ATEN_CPU_CAPABILITY" not in child and "MKL_CBWR" not in child and "CLAPEMO_PINNED" not in child
    assert child["OMP_NUM_THREADS"] == str(numerics.TORCH_THREADS)  # not added by clapemo: left alone
