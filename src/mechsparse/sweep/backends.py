"""Where a sweep's runs are trained: a local process pool, or Ray (one machine or a cluster).

A job is a plain dict ``{"name", "config", "run_dir"}`` (``config`` as ``Config.to_dict()``;
an optional ``"progress": True`` shows the run's progress bar; other keys are ignored);
:func:`run_one` trains it and returns a record ``{"name", "status", "error"}`` with
``status`` ``finished`` or ``failed`` (the exception's type and message in ``error``), so one
failing run never stops the others. A run whose directory already holds a run is resumed
(``train(..., resume=True)``): from its last checkpoint if there is one, from the start
otherwise.

``local``
    ``workers`` processes (``spawn`` context, so no torch state is shared with the parent);
    with one worker the runs are trained one after the other in this process.
``ray``
    one Ray task per run with ``num_cpus`` = the run's torch threads. Without ``address`` a
    local Ray instance with ``workers × threads`` CPUs is started (and stopped at the end);
    with ``address`` (``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``) the driver joins that
    cluster, whose nodes must have mechsparse installed and see the output directory at the
    same path (a shared filesystem); ``workers`` then caps the runs in flight (default: as
    many as the cluster schedules). Ray is imported only by this backend (extra
    ``mechsparse[ray]``).
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "LocalBackend",
    "RayBackend",
    "check_backend_options",
    "make_backend",
    "run_one",
]

BACKENDS = ("local", "ray")
CONNECT_TIMEOUT_S = 5.0
"""How long to wait for a Ray cluster's address to accept a connection."""

Job = dict[str, Any]
Record = dict[str, Any]
OnDone = Callable[[Record], None]


class BackendUnavailable(RuntimeError):
    """The backend cannot be used (Ray missing, cluster unreachable); no run was started."""


def _error_text(err: BaseException) -> str:
    text = " ".join(str(err).split())  # one line, for results.csv
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def run_one(job: Job) -> Record:
    """Train one run (resuming its directory when it holds one); never raises an Exception.

    Returns:
        ``{"name", "status": "finished" | "failed", "error": None | "Type: message"}``.
    """
    from mechsparse.train import train
    from mechsparse.train.config import Config
    from mechsparse.train.run_dir import RunDir

    try:
        run = RunDir(job["run_dir"])
        config = Config.from_dict(job["config"])
        train(config, run.path, resume=run.config.is_file(), progress=job.get("progress", False))
    except Exception as err:
        return {"name": job["name"], "status": "failed", "error": _error_text(err)}
    return {"name": job["name"], "status": "finished", "error": None}


class LocalBackend:
    """A pool of ``workers`` processes on this machine (in-process when ``workers`` is 1)."""

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def describe(self) -> str:
        return f"local backend, {self.workers} worker(s)"

    def run(self, jobs: Sequence[Job], on_done: OnDone) -> None:
        """Train every job, calling ``on_done(record)`` as each one ends."""
        if self.workers == 1:
            for job in jobs:
                on_done(run_one(job))
            return
        pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
        try:
            futures = {pool.submit(run_one, job): job for job in jobs}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        record = future.result()
                    except Exception as err:  # the worker process died (killed, out of memory)
                        record = {
                            "name": futures[future]["name"],
                            "status": "failed",
                            "error": _error_text(err),
                        }
                    on_done(record)
        except BaseException:  # interrupted: do not wait for the queued runs
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()

    def close(self) -> None:
        """Nothing to release (the pool is closed at the end of :meth:`run`)."""


def _check_reachable(address: str) -> None:
    """Fail fast when a ``HOST:PORT`` (or ``ray://HOST:PORT``) address refuses connections:
    ``ray.init`` would otherwise retry for minutes."""
    if address == "auto":
        return  # ray.init fails at once when no local cluster is running
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise BackendUnavailable(
            f"Ray address {address!r} must be HOST:PORT, ray://HOST:PORT or auto (no run was "
            "started)."
        )
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as err:
        raise BackendUnavailable(
            f"cannot reach the Ray cluster at {address!r} ({err}); start it with `ray start "
            "--head` or check the address (no run was started)."
        ) from None


class RayBackend:
    """Ray tasks, on a local instance or a cluster (see the module docstring).

    Connecting happens here, so an unreachable cluster is reported before any run starts.
    """

    name = "ray"

    def __init__(self, *, workers: int | None, threads: int, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise BackendUnavailable(
                "backend 'ray' needs Ray: pip install 'mechsparse[ray]' (no run was started)."
            ) from None
        self._ray = ray
        self.threads = threads
        self.address = address
        self.workers = workers if workers is not None or address is not None else 1
        self._owns_connection = not ray.is_initialized()
        if not self._owns_connection:
            return  # a Ray session the caller started: use it as it is
        if address is None:
            ray.init(
                num_cpus=self.workers * threads,
                include_dashboard=False,
                log_to_driver=False,
            )
            return
        _check_reachable(address)
        try:
            ray.init(address=address, log_to_driver=False)
        except Exception as err:
            raise BackendUnavailable(
                f"cannot connect to the Ray cluster at {address!r}: {_error_text(err)} (no run "
                "was started)."
            ) from None

    def describe(self) -> str:
        where = f"cluster {self.address}" if self.address else "local Ray instance"
        cap = "" if self.workers is None else f", at most {self.workers} run(s) at a time"
        return f"ray backend ({where}, {self.threads} CPU(s) per run{cap})"

    def run(self, jobs: Sequence[Job], on_done: OnDone) -> None:
        """Submit the jobs as tasks (at most ``workers`` in flight), calling ``on_done`` as
        each one ends; a task lost with its worker is recorded as failed."""
        ray = self._ray
        task = ray.remote(num_cpus=self.threads)(run_one)
        queue = deque(jobs)
        in_flight: dict[Any, Job] = {}
        while queue or in_flight:
            while queue and (self.workers is None or len(in_flight) < self.workers):
                job = queue.popleft()
                in_flight[task.remote(job)] = job
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in done:
                job = in_flight.pop(ref)
                try:
                    record = ray.get(ref)
                except Exception as err:  # worker crashed, node lost, ...
                    record = {"name": job["name"], "status": "failed", "error": _error_text(err)}
                on_done(record)

    def close(self) -> None:
        """Disconnect (and stop the local instance) if this backend connected."""
        if self._owns_connection and self._ray.is_initialized():
            self._ray.shutdown()


def check_backend_options(name: str, *, workers: int | None, address: str | None) -> None:
    """Raise ``ValueError`` for an unknown backend, workers < 1, or an address without ray."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose from {list(BACKENDS)}.")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers must be an integer ≥ 1; got {workers!r}.")
    if address is not None and name != "ray":
        raise ValueError("an address joins a Ray cluster; use it with backend 'ray'.")


def make_backend(
    name: str, *, workers: int | None, threads: int, address: str | None
) -> LocalBackend | RayBackend:
    """Check the options and open the backend ``name`` (``local`` or ``ray``).

    Raises:
        ValueError: see :func:`check_backend_options`.
        BackendUnavailable: Ray is missing or the cluster cannot be reached.
    """
    check_backend_options(name, workers=workers, address=address)
    if name == "local":
        return LocalBackend(workers or 1)
    return RayBackend(workers=workers, threads=threads, address=address)
