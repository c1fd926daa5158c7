"""Portable numerics: the same bits on any x86-64 CPU with AVX2, whatever its newer instructions and core count.

The numeric libraries pick their kernels from the CPU they run on: PyTorch's ATen (``ATEN_CPU_CAPABILITY``), oneDNN
(``ONEDNN_MAX_CPU_ISA``), MKL (torch's BLAS here: ``MKL_ENABLE_INSTRUCTIONS``, ``MKL_CBWR``), NumPy's dispatch
(``NPY_DISABLE_CPU_FEATURES``) and OpenBLAS (NumPy's, SciPy's and scikit-learn's BLAS: ``OPENBLAS_CORETYPE``). An
AVX-512 or AMX kernel sums in another order than an AVX2 kernel, and bfloat16 kernels differ most; a training
amplifies such last-bit differences into another trajectory, so two machines gave two books.

Two modes, chosen per process by the environment variable ``CLAPEMO_NUMERICS``:

``portable`` (default)
    Every number that reaches the book is bitwise the same on any x86-64 machine with AVX2. The means:

    * float32 everywhere: ``encoders.whisper_precision`` and ``train.precision`` default to ``float32``, and a
      ``bfloat16`` value is refused (a :class:`~clapemo.errors.ConfigError` naming the key);
    * float32 matrix products of torch on OpenBLAS with the Haswell kernels (:func:`blas_products`), because MKL
      chooses its kernels by CPU vendor; MKL's remaining work (vector math, small products of library code) in
      its vendor-neutral ``COMPATIBLE`` branch;
    * the kernel paths pinned to AVX2 (:data:`KERNEL_PINS`), set in ``os.environ`` when ``clapemo`` is imported,
      which is before NumPy and torch load in every process clapemo starts (CLI, notebook kernels, the executor's
      workers, a Dask ``LocalCluster``: they inherit the environment). ``OPENBLAS_CORETYPE`` is kept where it is
      already set (some platforms set it themselves) and recorded;
    * thread counts fixed independently of the core count (:data:`THREAD_PINS`): torch's intra-op pool of a process
      has :data:`TORCH_THREADS` threads (executor workers one), every BLAS product one thread (OpenBLAS sums in
      another order with another thread count); parallelism comes from worker
      processes, whose tasks do not depend on how many there are;
    * deterministic algorithms in training (strict on CPU); on a GPU ``CUBLAS_WORKSPACE_CONFIG`` is set so that
      cuBLAS is deterministic too. A GPU gives the same numbers run after run on one GPU model and driver, not
      the CPU's bits: other kernels, other summation orders (the README says what to expect where).

``fast``
    No pins: the libraries use the fastest kernels of this CPU, and ``bfloat16`` may be asked for
    (``make reproduce NUMERICS=fast`` asks for it in both places). Deterministic on one machine only. Run ids,
    result folders and embedding caches of fast runs carry the mode (:func:`identity_extra`), so they never mix
    with portable ones.

A library imported before ``clapemo`` (``import numpy; import clapemo``) has already chosen its kernels; the pins
cannot reach it. :func:`problems` compares what each library actually uses with the portable choice (torch's CPU
capability, NumPy's dispatch groups, OpenBLAS's core type and threads); ``clapemo doctor`` prints them, every
provenance record stores :func:`state`, and executor tasks refuse to run on a worker whose kernels are not the
portable ones.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, Mapping, MutableMapping

from clapemo.errors import ConfigError

__all__ = ["MODE_ENV", "MODES", "KERNEL_PINS", "THREAD_PINS", "TORCH_THREADS", "NUMPY_WIDE_GROUPS", "mode",
           "portable", "apply", "state", "problems", "identity_extra", "check_precision", "configure_torch",
           "environment", "blas_products"]

#: environment variable choosing the mode of a process (and of the processes it starts)
MODE_ENV = "CLAPEMO_NUMERICS"
MODES = ("portable", "fast")
#: NumPy dispatch groups wider than AVX2 (disabled in portable mode)
NUMPY_WIDE_GROUPS = ("X86_V4", "AVX512_ICL", "AVX512_SPR")
#: kernel paths pinned to AVX2, read by each library when it loads
KERNEL_PINS: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "MKL_CBWR": "COMPATIBLE",  # MKL ignores its AVX2 branch on AMD CPUs: only this one is vendor-neutral
    "NPY_DISABLE_CPU_FEATURES": " ".join(NUMPY_WIDE_GROUPS),
    "OPENBLAS_CORETYPE": "Haswell",
    "CT2_FORCE_CPU_ISA": "AVX2",
    "CT2_USE_MKL": "0",  # CTranslate2 (the whisper-tiny encoder) on oneDNN: MKL's int8 products differ by vendor
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
}
#: torch intra-op threads of a clapemo process in portable mode (executor workers use 1)
TORCH_THREADS = 2
#: thread counts, fixed whatever the core count
THREAD_PINS: dict[str, str] = {
    "OMP_NUM_THREADS": str(TORCH_THREADS),
    "MKL_NUM_THREADS": str(TORCH_THREADS),
    "OPENBLAS_NUM_THREADS": "1",
    # torch's OpenMP threads must not spin while OpenBLAS's threads compute (2x slower encoders otherwise)
    "OMP_WAIT_POLICY": "PASSIVE",
}
#: the variables portable mode added to the environment (a fast child process removes them)
_PINNED_ENV = "CLAPEMO_PINNED"
#: pins that another party may set before us: kept, and recorded
_KEPT_IF_SET = ("OPENBLAS_CORETYPE",)

# what apply() found: variables it changed (name -> previous value) and libraries already loaded before it ran
_APPLIED: dict[str, Any] = {"changed": {}, "kept": {}, "late": []}


def mode(environ: Mapping[str, str] | None = None) -> str:
    """The numerics mode of this process: ``portable`` (default) or ``fast`` (env ``CLAPEMO_NUMERICS``)."""
    value = (os.environ if environ is None else environ).get(MODE_ENV, "").strip().lower() or "portable"
    if value not in MODES:
        raise ConfigError(f"environment variable {MODE_ENV} = {value!r} must be one of {', '.join(MODES)}")
    return value


def portable() -> bool:
    """True in portable mode."""
    return mode() == "portable"


def environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables portable mode sets (kernel pins and thread counts), with a pin kept where already set."""
    environ = os.environ if environ is None else environ
    wanted = {**KERNEL_PINS, **THREAD_PINS}
    for name in _KEPT_IF_SET:
        if environ.get(name):
            wanted[name] = environ[name]
    return wanted


def apply(environ: MutableMapping[str, str] | None = None) -> None:
    """Set the portable-mode variables in ``environ`` (default ``os.environ``); nothing in fast mode.

    Called when ``clapemo`` is imported. Remembers what it changed and which numeric libraries had already loaded
    (their kernels are chosen; :func:`problems` then tells whether they are the portable ones).
    """
    target = os.environ if environ is None else environ
    if mode(target) != "portable":
        # a fast process started by a portable one inherits its pins: take back the ones clapemo set
        for name in target.pop(_PINNED_ENV, "").split():
            target.pop(name, None)
        return
    set_here = []
    for name, value in environment(target).items():
        previous = target.get(name)
        if name in _KEPT_IF_SET and previous:
            _APPLIED["kept"][name] = previous
            continue
        if previous != value:
            _APPLIED["changed"][name] = previous
            if previous is None:
                set_here.append(name)
        target[name] = value
    target[_PINNED_ENV] = " ".join(sorted(set(target.get(_PINNED_ENV, "").split()) | set(set_here)))
    if environ is None:
        _APPLIED["late"] = [m for m in ("numpy", "torch") if m in sys.modules]
        found = problems() if _APPLIED["late"] else []
        if found:
            import warnings

            warnings.warn(f"{' and '.join(_APPLIED['late'])} loaded before clapemo, so the portable kernel pins "
                          f"came too late: {'; '.join(found)}. Numbers may differ from other machines; import "
                          f"clapemo first (or export the variables `clapemo doctor --env` prints)", RuntimeWarning,
                          stacklevel=3)


def configure_torch() -> None:
    """Torch's thread count (:data:`TORCH_THREADS`, one in executor workers) and cuDNN's deterministic
    convolutions for this process's mode; called by the encoders and the training before they compute."""
    if not portable():
        return
    import torch

    if os.environ.get("CLAPEMO_WORKER") != "1" and torch.get_num_threads() != TORCH_THREADS:
        torch.set_num_threads(TORCH_THREADS)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def check_precision(key: str, value: str) -> None:
    """A ConfigError when config ``key`` asks for ``bfloat16`` in portable mode."""
    if value == "bfloat16" and portable():
        raise ConfigError(f"config key {key!r} = 'bfloat16' is not portable: bfloat16 kernels differ between "
                          f"CPUs (AVX2, AVX-512, AMX), so the numbers would hold on this machine only. Use "
                          f"'float32', or "
                          f"run in fast mode ({MODE_ENV}=fast; make reproduce NUMERICS=fast)")


def identity_extra() -> dict[str, str]:
    """What run ids, result folders and embedding keys add for this mode: nothing when portable."""
    return {} if portable() else {"numerics": mode()}


def _numpy_state() -> dict:
    import numpy as np

    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # NumPy 1.x
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    features = getattr(umath, "__cpu_features__", {})
    dispatch = list(getattr(umath, "__cpu_dispatch__", []))
    return {"version": np.__version__, "baseline": list(getattr(umath, "__cpu_baseline__", [])),
            "dispatch_enabled": [g for g in dispatch if features.get(g)]}


def _blas_state() -> list[dict]:
    try:
        import threadpoolctl
    except ImportError:
        return []
    keep = ("internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: info.get(k) for k in keep} for info in threadpoolctl.threadpool_info()
            if info.get("user_api") == "blas"]


def _torch_state() -> dict | None:
    if "torch" not in sys.modules:  # never import torch just to describe it
        return None
    import torch

    return {"version": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(), "mkl": bool(torch.backends.mkl.is_available()),
            "deterministic": bool(torch.are_deterministic_algorithms_enabled())}


def state() -> dict:
    """The numerics of this process: mode, pins, what each loaded library uses, and :func:`problems`.

    Stored in every provenance record (``numerics``). Libraries not yet imported are not imported, except NumPy.
    """
    pinned = {name: os.environ.get(name) for name in (*KERNEL_PINS, *THREAD_PINS)}
    return {"mode": mode(), "env": pinned, "kept": dict(_APPLIED["kept"]), "late_imports": list(_APPLIED["late"]),
            "torch": _torch_state(), "numpy": _numpy_state(), "blas": _blas_state(), "problems": problems()}


def problems() -> list[str]:
    """Why this process's kernels are not the portable ones (empty in portable mode when all is well).

    Checks what the loaded libraries actually use: torch's CPU capability (AVX2 expected), NumPy's dispatch groups
    (none wider than AVX2) and OpenBLAS's core type (``Haswell``, or the value kept from the environment). In fast
    mode the answer is the mode itself.
    """
    if not portable():
        return [f"numerics mode is {mode()!r} ({MODE_ENV}): numbers are reproducible on this machine only"]
    found = []
    torch_state = _torch_state()
    if torch_state is not None and torch_state["cpu_capability"].upper() != "AVX2":
        found.append(f"torch uses the {torch_state['cpu_capability']} kernels, not AVX2 (torch was imported "
                     f"before clapemo, or ATEN_CPU_CAPABILITY was changed)")
    wide = [g for g in _numpy_state()["dispatch_enabled"] if g in NUMPY_WIDE_GROUPS]
    if wide:
        found.append(f"NumPy dispatches to {', '.join(wide)} (NumPy was imported before clapemo, or "
                     f"NPY_DISABLE_CPU_FEATURES was changed)")
    coretype = environment().get("OPENBLAS_CORETYPE", KERNEL_PINS["OPENBLAS_CORETYPE"])
    for blas in _blas_state():
        if blas.get("internal_api") != "openblas":
            continue
        arch = str(blas.get("architecture") or "")
        if arch and arch.lower() != coretype.lower():
            found.append(f"OpenBLAS uses the {arch} kernels, not {coretype}")
    return found


# --------------------------------------------------------------------------------------------------------------
# Matrix products through OpenBLAS
# --------------------------------------------------------------------------------------------------------------
# Torch's CPU BLAS is MKL, and MKL picks its kernels by CPU vendor: on AMD processors it ignores MKL_CBWR's AVX2
# branch, so small products and the vector math differ from an Intel CPU's (measured: native AMD EPYC vs an
# emulated Haswell). MKL_CBWR=COMPATIBLE is vendor-neutral but runs SSE2 kernels, 2.5x slower for the products
# that dominate the encoders and the training (128x768 @ 768x1024: 5.0 ms vs 2.0 ms). OpenBLAS chooses its
# kernels by OPENBLAS_CORETYPE alone and never splits the inner dimension between threads, so its products are the
# same bits on every x86-64 CPU with AVX2, at MKL's AVX2 speed (1.9 ms). No library routes torch's products to
# another BLAS, hence this bridge: a torch function mode that sends float32 CPU products (linear, matmul, mm, bmm,
# the @ operator) to NumPy's OpenBLAS, with their gradients (two more products) for training.


def _blas_product(a: Any, b: Any) -> Any:
    import numpy as np
    import torch

    return torch.from_numpy(np.matmul(a.detach().numpy(), b.detach().numpy()))


@functools.lru_cache(maxsize=None)
def _matmul_function() -> Any:
    """The autograd Function ``a @ b`` (same leading dims, or ``b`` 2-D) computed by OpenBLAS, gradients too."""
    import torch

    class BlasMatmul(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any, b: Any) -> Any:
            ctx.save_for_backward(a, b)
            return _blas_product(a, b)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            a, b = ctx.saved_tensors
            grad_a = grad_b = None
            if ctx.needs_input_grad[0]:
                grad_a = _blas_product(grad, b.transpose(-1, -2))
            if ctx.needs_input_grad[1]:
                if b.dim() == 2 and a.dim() > 2:  # b was broadcast over a's leading dims: sum them in one product
                    grad_b = _blas_product(a.reshape(-1, a.shape[-1]).transpose(0, 1),
                                           grad.reshape(-1, grad.shape[-1]))
                else:
                    grad_b = _blas_product(a.transpose(-1, -2), grad)
            return grad_a, grad_b

    return BlasMatmul


def _routable(a: Any, b: Any) -> bool:
    import torch

    return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype == torch.float32
            and a.device.type == b.device.type == "cpu" and a.dim() >= 2 and b.dim() >= 2
            and not a.is_sparse and not b.is_sparse and a.numel() > 0 and b.numel() > 0
            and (b.dim() == 2 or a.shape[:-2] == b.shape[:-2]))


@functools.lru_cache(maxsize=None)
def _mode_class() -> Any:
    import torch
    from torch.overrides import TorchFunctionMode

    products = {torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.mm, torch.Tensor.mm, torch.bmm,
                torch.Tensor.bmm}
    linear = torch.nn.functional.linear

    class OpenBlasProducts(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            if func in products and len(args) == 2 and not kwargs and _routable(*args):
                return _matmul_function().apply(*args)
            if func is linear and not kwargs.get("out"):
                x, weight = args[0], args[1] if len(args) > 1 else kwargs.get("weight")
                bias = args[2] if len(args) > 2 else kwargs.get("bias")
                if _routable(x, weight.t() if isinstance(weight, torch.Tensor) else weight):
                    out = _matmul_function().apply(x, weight.t())
                    if bias is None:
                        return out
                    return out.add_(bias) if not out.requires_grad else out + bias
            return func(*args, **kwargs)

    return OpenBlasProducts


def blas_products() -> Any:
    """A context in which float32 CPU matrix products run on OpenBLAS (portable mode), else a no-op context.

    Used around every torch computation whose numbers reach the book: the encoders' forward passes, the training
    steps and the projections of a trained head. GPU tensors and other dtypes pass through unchanged.
    """
    import contextlib

    if not portable():
        return contextlib.nullcontext()
    import threadpoolctl

    stack = contextlib.ExitStack()
    # one BLAS thread, whatever the process: OpenBLAS splits some products between its threads in other orders
    # (128x768 @ 768x1024 gives other bits with 1, 2 and 3 threads), so a product must not depend on where it runs
    stack.enter_context(threadpoolctl.threadpool_limits(1, user_api="blas"))
    stack.enter_context(_mode_class()())
    return stack
