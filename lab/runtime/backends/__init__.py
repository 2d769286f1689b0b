"""Backends make and remove the place a node lives and run processes in it.

The namespace backend is the default; the Docker backend (docker.py) implements the same
interface, and wiring works on either through `netns_ref` (what pyroute2 enters).
"""
from __future__ import annotations

from typing import Protocol, Sequence

from ...model.plan import NodePlan


BACKENDS = ("netns", "docker")


class BackendError(Exception):
    """The backend cannot do what was asked (dockerd down, image missing...); says what to do."""


class Backend(Protocol):
    name: str

    def preflight(self, nodes: Sequence[NodePlan]) -> None: ...  # before anything is made: BackendError

    def create(self, node: NodePlan) -> None: ...
    def create_all(self, nodes: Sequence[NodePlan]) -> None: ...  # create each, in parallel if it can
    def exists(self, node: NodePlan) -> bool: ...
    def node_state(self, node: NodePlan) -> str: ...  # running, or missing, paused, exited...
    def netns_ref(self, node: NodePlan) -> str: ...
    def start(self, node: NodePlan, argv: Sequence[str], log_path: str) -> int: ...
    def exec(self, node: NodePlan, argv: Sequence[str], env: dict | None = None): ...  # replaces this process
    def run(self, node: NodePlan, argv: Sequence[str], **kwargs): ...  # subprocess.run's contract (env too)
    def pids(self, node: NodePlan) -> list[int]: ...
    def remove(self, node: NodePlan) -> None: ...
    def sweep(self, lab_prefix: str) -> list[str]: ...  # what no lab.json knows of (after a crash)
    # per-process control (chaos): a signal to one of the node's processes, a graceful stop
    def signal(self, node: NodePlan, pid: int, sig: int) -> bool: ...
    def stop_process(self, node: NodePlan, pid: int, grace: float = 2.0) -> None: ...


def get_backend(name: str) -> Backend:
    if name == "netns":
        from .netns import NetnsBackend
        return NetnsBackend()
    if name == "docker":
        from .docker import DockerBackend
        return DockerBackend()
    raise ValueError(f"unknown backend {name!r} (available: {', '.join(BACKENDS)})")
