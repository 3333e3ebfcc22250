"""``casepilot worker``: one worker process on a PostgreSQL database (start as many as you like)."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from casepilot.store import Store
    from casepilot.tools import ToolRegistry
    from casepilot.worker.metrics import MetricsServer
    from casepilot.worker.runner import WorkerSettings

__all__ = ["ENV_DATABASE_URL", "load_registry", "main", "register", "worker"]

ENV_DATABASE_URL = "CASEPILOT_DATABASE_URL"
"""As every command (``casepilot.settings``: the environment or ``.env``)."""


def load_registry(spec: str | None) -> Callable[[Store], ToolRegistry]:
    """The tools a worker runs: ``module:function`` returning a ``ToolRegistry`` (``--tools``), else
    the built-in tools and those every deployed definition names in its ``casepilot.yaml``
    (``tools:``), as ``casepilot serve`` loads them."""
    if spec is None:
        def deployed(store: Store) -> ToolRegistry:
            from casepilot.agent.tool_sources import registry_for_store

            return registry_for_store(store)

        return deployed
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise typer.BadParameter(f"--tools takes module:function, got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise typer.BadParameter(f"--tools {spec}: {exc}") from exc
    if not callable(factory):
        raise typer.BadParameter(f"--tools {spec}: {attribute} is not a function")

    def build(store: Store) -> ToolRegistry:
        from casepilot.tools import ToolRegistry

        registry = factory()
        if not isinstance(registry, ToolRegistry):
            raise typer.BadParameter(f"--tools {spec} returned {type(registry).__name__}, not a ToolRegistry")
        return registry

    return build


def worker(
    db: Annotated[str | None, typer.Option(
        "--db", help="PostgreSQL URL, postgresql+psycopg://… (default: $CASEPILOT_DATABASE_URL).")] = None,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", min=2, max=64, help="Jobs this process works at once (threads).")] = 2,
    lease_ttl: Annotated[float, typer.Option(
        "--lease-ttl", min=1.0, help="Seconds a dead worker's case stays leased.")] = 30.0,
    heartbeat_timeout: Annotated[float, typer.Option(
        "--heartbeat-timeout", min=1.0, help="Seconds after which a dead worker's job is taken by another.")] = 30.0,
    max_steps: Annotated[int, typer.Option(
        "--max-steps", min=1, help="Steps per job before the case goes back to the queue.")] = 50,
    tools: Annotated[str | None, typer.Option(
        "--tools", help="module:function returning the ToolRegistry (default: the built-in tools and those "
        "the deployed definitions name in casepilot.yaml).")] = None,
    stats: Annotated[str | None, typer.Option(
        "--stats", help="Append one line per job to this file: entrypoint, pick-up latency ms, run ms.")] = None,
    queue_log_days: Annotated[float, typer.Option(
        "--queue-log-days", min=0.0, help="Days the queue's own per-job log rows are kept once counted in its "
        "statistics (pruned hourly by one worker; case histories are never touched).")] = 7.0,
    processes: Annotated[int, typer.Option(
        "--processes", min=1, max=256, help="Worker processes forked from one warmed-up parent, each replaced "
        "at once if it dies (one per core is a good start).")] = 1,
    metrics_port: Annotated[int | None, typer.Option(
        "--metrics-port", min=0, max=65535, help="Serve Prometheus metrics on this port (GET /metrics): jobs, "
        "pick-up latency, run time, queue depth, steps and the case metrics `casepilot serve` has; one "
        "endpoint for all --processes (0: any free port, printed). Off by default.")] = None,
    metrics_host: Annotated[str, typer.Option(
        "--metrics-host", help="The interface of --metrics-port (no authentication: keep it where only the "
        "scraper reaches).")] = "127.0.0.1",
    pin_cpus: Annotated[bool, typer.Option(
        "--pin-cpus", help="Keep each worker process on a CPU of its own, among the CPUs this command may use "
        "(Linux; see taskset): its job threads then hand the GIL over on one core. For a machine whose worker "
        "processes all come from this command; give several commands their own CPUs with taskset.")] = False,
) -> None:
    """Work cases from the PostgreSQL job queue until SIGTERM (finishes or hands back the case in flight)."""
    # Before anything imports prometheus_client (the agent stack does): see casepilot.worker.metrics.
    metrics_dir = _multiprocess_metrics() if metrics_port is not None and processes > 1 else None
    from casepilot.settings import configure_logging, load_settings
    from casepilot.worker.runner import WorkerSettings

    app_settings = load_settings()
    configure_logging(app_settings)
    url = db or app_settings.database_url or ""
    if not url.startswith(("postgresql", "postgres")):
        raise typer.BadParameter(
            f"casepilot worker needs a PostgreSQL database, got {url or 'none'!r}: pass --db postgresql+psycopg://… "
            f"or set ${ENV_DATABASE_URL} (on SQLite, `casepilot serve` works cases in process and needs no worker)",
            param_hint="--db")
    cpus = _cpus_to_pin(processes) if pin_cpus else []
    from casepilot.worker.supervisor import pin_to, supervise

    if cpus and processes == 1:
        pin_to(cpus[0])  # before the tools and models load: any thread they start stays on it too
    registry = load_registry(tools)
    settings = WorkerSettings(concurrency=concurrency, lease_ttl=lease_ttl, heartbeat_timeout=heartbeat_timeout,
                              max_steps=max_steps, stats_path=stats, queue_log_days=queue_log_days)
    console = Console(stderr=True)
    pinned = "" if not cpus else f", on CPU {cpus[0]}" if processes == 1 else f", each on a CPU of {_cpu_list(cpus)}"
    console.print(f"casepilot worker: {processes} process(es) × {concurrency} jobs at once{pinned}; SIGTERM stops it")
    server = _bind_metrics(metrics_host, metrics_port) if metrics_port is not None else None
    if server is not None:
        print(f"casepilot worker: metrics on http://{metrics_host}:{server.port}/metrics", file=sys.stderr, flush=True)
    try:
        if processes == 1:
            _work(url, registry, settings, server)
            return
        code = supervise(processes, lambda: _work(url, registry, settings, server, forked=True),
                         warm_up=lambda: _warm_up(url),
                         sidecar=(lambda: _serve_metrics(url, server, metrics_dir)) if server is not None else None,
                         cpus=cpus)
    finally:
        if server is not None:
            server.close()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    raise typer.Exit(code)


def _cpus_to_pin(processes: int) -> list[int]:
    """The CPUs ``--pin-cpus`` puts the worker processes on, in slot order: those this command may use."""
    if not hasattr(os, "sched_setaffinity"):
        raise typer.BadParameter("pinning processes to CPUs needs Linux (sched_setaffinity); run without "
                                 "--pin-cpus here", param_hint="--pin-cpus")
    cpus = sorted(os.sched_getaffinity(0))
    if processes > len(cpus):
        print(f"casepilot worker: {processes} processes on {len(cpus)} CPUs ({_cpu_list(cpus)}): with --pin-cpus "
              "they share them in turn; one process per CPU is what pinning is for", file=sys.stderr, flush=True)
    return cpus


def _cpu_list(cpus: list[int]) -> str:
    return ",".join(str(cpu) for cpu in cpus)


def _multiprocess_metrics() -> str:
    """A new folder for the workers' metric files, named in ``PROMETHEUS_MULTIPROC_DIR`` for this
    process and the workers it forks (prometheus_client reads it once, when it is imported)."""
    if "prometheus_client" in sys.modules:  # a programming error in casepilot, not the user's
        raise RuntimeError("prometheus_client was imported before the worker chose its multiprocess mode: "
                           "the workers' metrics would not add up")
    folder = tempfile.mkdtemp(prefix="casepilot-worker-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


def _bind_metrics(host: str, port: int) -> MetricsServer:
    """The metrics endpoint's socket, bound now: a port in use is one clear line before any work starts."""
    from casepilot.worker.metrics import MetricsServer

    try:
        return MetricsServer(host, port)
    except OSError as exc:
        raise typer.BadParameter(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}",
                                 param_hint="--metrics-port") from exc


def _serve_metrics(url: str, server: MetricsServer, metrics_dir: str | None) -> None:
    """The supervisor's metrics child: every worker's metric files summed, the inbox and queue read
    from the database, until SIGTERM."""
    import datetime as dt

    from casepilot.store import Store
    from casepilot.worker.metrics import exposition

    store = Store.from_url(url, pool_size=2)
    server.serve(exposition(store.engine, lambda: dt.datetime.now(dt.UTC), multiprocess_dir=metrics_dir))


def _warm_up(url: str) -> None:
    """What every forked worker shares: the agent stack imported, the PII models loaded, the queue installed."""
    from casepilot.agent.orchestrator import Orchestrator  # noqa: F401  (imported once, before the fork)
    from casepilot.governance.pii.detector import default_detector
    from casepilot.store import Store
    from casepilot.worker.schema import ensure_queue

    default_detector().analyze("Warm-up: Jane Doe, jane@example.com, +44 20 7946 0000.")
    store = Store.from_url(url)  # migrates a new database once, here, rather than in every worker
    try:
        ensure_queue(store.postgres_conninfo or url)
    finally:
        store.close()


def _work(url: str, registry: Callable[[Store], ToolRegistry], settings: WorkerSettings,
          metrics: MetricsServer | None = None, *, forked: bool = False) -> None:
    """One worker process: its own store and orchestrator, until SIGTERM. ``metrics``: serve them from
    here (one process), or — ``forked`` by the supervisor, whose metrics child answers — let go of
    the inherited listening socket."""
    import asyncio

    from casepilot.agent.orchestrator import Orchestrator
    from casepilot.settings import announce, load_settings
    from casepilot.store import Store
    from casepilot.worker.metrics import exposition
    from casepilot.worker.runner import worker_for

    if metrics is not None and forked:
        metrics.close()
        metrics = None

    # Each job at once holds a connection while it writes, the lease heartbeats and the checkpointer
    # one more: never fewer than that, whatever CASEPILOT_DB_POOL_SIZE says.
    store = Store.from_url(url, pool_size=max(load_settings().db_pool_size, settings.concurrency + 2))
    orch = Orchestrator(store, registry(store), lease_ttl=settings.lease_ttl, lease_wait=min(2.0, settings.lease_ttl))
    announce("casepilot worker", url=url, planner=orch.runtime.planner, identity="from the jobs",
             extra=f"{settings.concurrency} jobs at once")
    if metrics is not None:
        metrics.serve_in_thread(exposition(store.engine, orch.runtime.clock, multiprocess_dir=None))
    try:
        asyncio.run(worker_for(store, orch, settings).serve())
    finally:
        orch.close()
        store.close()


def main() -> None:
    """``python -m casepilot.worker``: the worker alone, without loading every other command."""
    typer.run(worker)


def register(app: typer.Typer) -> None:
    """Mount ``worker`` on the main CLI."""
    app.command("worker")(worker)
