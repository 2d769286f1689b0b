"""Docker backend: a node is a container `bl-<lab>-<node>` from the locally built image (`make image`).

Containers start with no Docker networking (`network_mode=none`) and only NET_ADMIN, NET_RAW and
NET_BIND_SERVICE; the lab wires veth pairs into each container's network namespace through
pyroute2, by the path `/proc/<pid>/ns/net` of its first process: the same wiring code as the
namespace backend. A node's state (`/run/biglab/<lab>/<node>`: node.json, trust, running config,
logs, control socket) lives in a Docker volume of the same name, mounted at that same path in the
container and linked there on the host, so the CLI reads it as for a namespace node and
`stop`/`boot` keep the configuration. The daemon and servers run by `docker exec`; their host pids
are what `start` returns. Container control goes through the Python Docker SDK; only `biglab
exec` hands its terminal over to the `docker exec -i[t]` command when it is installed.

Offered for chaos verbs: `pids`, `signal` and `stop_process` (one process by host pid, as the
namespace backend).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket as socketlib
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from node.files import source_hash

from ...model import state
from ...model.plan import PREFIX, NodePlan
from ..processes import ProcessControl, processes_in
from . import BackendError

IMAGE = os.environ.get("BIGLAB_IMAGE", "biglab:latest")
IMAGE_PYTHON = "/opt/biglab/bin/python"   # the project's venv inside the image (lab/runtime/image.py)
LABEL = "biglab.lab"
CAPS = ["NET_ADMIN", "NET_RAW", "NET_BIND_SERVICE"]
DOCKERD_LOG = "/var/log/biglab-dockerd.log"


class DockerUnavailable(BackendError):
    """dockerd cannot be reached, or the image is missing or stale; the message says what to do."""


def client():
    """A Docker client that answers, or DockerUnavailable saying why not."""
    import docker
    try:
        c = docker.from_env(timeout=60)
        c.ping()
        return c
    except Exception as exc:  # docker.errors.DockerException, requests' connection errors
        raise DockerUnavailable(f"dockerd does not answer ({exc.__class__.__name__}: {exc}); start it with "
                                f"scripts/dockerd.sh (log: {DOCKERD_LOG})") from None


def check_image(c, image: str = IMAGE) -> None:
    """The image must exist and be built from the node code of this checkout."""
    from docker.errors import ImageNotFound
    try:
        img = c.images.get(image)
    except ImageNotFound:
        raise DockerUnavailable(f"no image {image}: build it with `make image`") from None
    built = (img.labels or {}).get("biglab.source")
    if built != source_hash(state.PROJECT):
        raise DockerUnavailable(f"image {image} was built from other sources than this checkout's "
                                f"node/, image/ and pyproject.toml: rebuild it with `make image`")


def lab_of(node: NodePlan) -> str:
    """plan.py names a node's namespace (here its container) `bl-<lab>-<node>`."""
    return node.netns[len(PREFIX):-len(node.name) - 1]


def in_image(argv: Sequence[str]) -> list[str]:
    """The host's python (the lab's own commands) is the image's python inside a container."""
    argv = list(argv)
    if argv and argv[0] == sys.executable:
        argv[0] = IMAGE_PYTHON
    return argv


def _forwarded_env(env: dict | None = None) -> dict:
    return {k: v for k, v in (os.environ if env is None else env).items() if k.startswith("BIGLAB_")}


class DockerBackend(ProcessControl):
    # signal() of the daemon alone (SIGSTOP/SIGCONT); `pause` freezes the whole container
    name = "docker"

    def __init__(self):
        self._client = None

    @property
    def docker(self):
        if self._client is None:
            self._client = client()
        return self._client

    def _container(self, node: NodePlan):
        from docker.errors import NotFound
        try:
            return self.docker.containers.get(node.netns)
        except NotFound:
            return None

    def _volume(self, node: NodePlan):
        from docker.errors import NotFound
        try:
            return self.docker.volumes.get(node.netns)
        except NotFound:
            return None

    # -- the Backend protocol ----------------------------------------------------------------
    def preflight(self, nodes: Sequence[NodePlan]) -> None:
        """dockerd answers, the image is this checkout's, no container or volume is in the way."""
        check_image(self.docker)
        left = [n.netns for n in nodes if self.exists(n)]
        if left:
            raise BackendError(f"containers or volumes of an earlier lab exist ({', '.join(left[:4])}); "
                               f"remove them with: biglab down {lab_of(nodes[0])}")

    def create(self, node: NodePlan) -> None:
        """A running container with its state volume; no interfaces but lo yet."""
        lab = lab_of(node)
        labels = {LABEL: lab, "biglab.node": node.name}
        volume = self.docker.volumes.create(node.netns, labels=labels)
        inside = state.node_dir(lab, node.name)
        inside.parent.mkdir(parents=True, exist_ok=True)
        if inside.is_symlink() or inside.exists():
            _remove_path(inside)
        inside.symlink_to(volume.attrs["Mountpoint"], target_is_directory=True)
        self.docker.containers.run(
            IMAGE, name=node.netns, hostname=node.name, labels=labels, detach=True,
            network_mode="none", cap_drop=["ALL"], cap_add=CAPS,
            volumes={node.netns: {"bind": str(inside), "mode": "rw"}})

    def create_all(self, nodes: Sequence[NodePlan]) -> None:
        """Create the containers side by side (dockerd does the work): ~3x faster for ha-pair.
        dockerd's refusal (no such image, no space...) is a BackendError with its words."""
        from docker.errors import APIError
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(nodes)))) as pool:
            futures = {pool.submit(self.create, n): n for n in nodes}
            for future, node in futures.items():
                try:
                    future.result()
                except APIError as exc:
                    raise BackendError(f"{node.netns}: dockerd refused: {exc.explanation or exc}") from None

    def exists(self, node: NodePlan) -> bool:
        return self._container(node) is not None or self._volume(node) is not None

    def netns_ref(self, node: NodePlan) -> str:
        c = self._container(node)
        pid = c.attrs["State"]["Pid"] if c else 0
        if not pid:
            raise BackendError(f"container {node.netns} is not running")
        return f"/proc/{pid}/ns/net"

    def start(self, node: NodePlan, argv: Sequence[str], log_path: str) -> int:
        """Run argv detached in the container (output appended to log_path); its host pid."""
        api = self.docker.api
        cmd = ["sh", "-c", 'exec "$@" >>"$0" 2>&1 </dev/null', log_path, *in_image(argv)]
        exec_id = api.exec_create(node.netns, cmd, environment=_forwarded_env())["Id"]
        api.exec_start(exec_id, detach=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            info = api.exec_inspect(exec_id)
            if info.get("Pid"):
                return info["Pid"]
            if info.get("ExitCode") is not None and not info.get("Running"):
                raise BackendError(f"{node.name}: {argv[0]} exited at once ({info['ExitCode']}); see {log_path}")
            time.sleep(0.01)
        raise BackendError(f"{node.name}: docker exec of {argv[0]} did not start within 10 s")

    def exec(self, node: NodePlan, argv: Sequence[str], env: dict | None = None):
        """Replace this process by argv in the container. With the docker command installed that
        is `docker exec -i` (and -t on a terminal): stdin, the terminal and signals pass through.
        Without it, the SDK streams the output (no stdin) and this exits with the command's status."""
        docker_cli = shutil.which("docker")
        if docker_cli:
            tty = ["-t"] if sys.stdin.isatty() and sys.stdout.isatty() else []
            names = [a for k in _forwarded_env(env) for a in ("-e", k)]
            os.execve(docker_cli, ["docker", "exec", "-i", *tty, *names, node.netns, *in_image(argv)],
                      os.environ if env is None else env)
        api = self.docker.api
        exec_id = api.exec_create(node.netns, in_image(argv), environment=_forwarded_env(env))["Id"]
        for out, err in api.exec_start(exec_id, stream=True, demux=True):
            for data, stream in ((out, sys.stdout), (err, sys.stderr)):
                if data:
                    stream.buffer.write(data)
                    stream.flush()
        os._exit(api.exec_inspect(exec_id)["ExitCode"] or 0)

    def run(self, node: NodePlan, argv: Sequence[str], capture_output: bool = False, text: bool = False,
            timeout: float | None = None, check: bool = False, stdout=None, stderr=None,
            input=None, env: dict | None = None) -> subprocess.CompletedProcess:
        """subprocess.run's contract for a command run in the container; `input` is its stdin
        (then closed), without it stdin is empty; of `env`, the BIGLAB_ variables pass in."""
        argv = in_image(argv)
        api = self.docker.api
        exec_id = api.exec_create(node.netns, argv, stdin=True, stdout=True, stderr=True,
                                  environment=_forwarded_env(env))["Id"]
        data = input.encode() if isinstance(input, str) else (input or b"")
        result: dict = {}

        def collect():
            try:
                result["out"] = _talk(api.exec_start(exec_id, socket=True), data)
            except Exception as exc:  # surfaced below, in the caller's thread
                result["error"] = exc

        worker = threading.Thread(target=collect, daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            pid = api.exec_inspect(exec_id).get("Pid")
            if pid:
                _kill(pid)
            raise subprocess.TimeoutExpired(argv, timeout)
        if "error" in result:
            raise result["error"]
        out, err = result["out"]
        out, err = out or b"", err or b""
        code = api.exec_inspect(exec_id)["ExitCode"]
        if not (capture_output or stdout == subprocess.PIPE):
            if stdout != subprocess.DEVNULL:
                sys.stdout.buffer.write(out)
                sys.stdout.flush()
            out = None
        if not (capture_output or stderr == subprocess.PIPE):
            if stderr != subprocess.DEVNULL:
                sys.stderr.buffer.write(err)
                sys.stderr.flush()
            err = None
        if text:
            out = out.decode(errors="replace") if out is not None else None
            err = err.decode(errors="replace") if err is not None else None
        proc = subprocess.CompletedProcess(argv, code, out, err)
        if check:
            proc.check_returncode()
        return proc

    def pids(self, node: NodePlan) -> list[int]:
        """Host pids of every process in the container (its init included)."""
        try:
            return processes_in(self.netns_ref(node))
        except BackendError:
            return []

    def remove(self, node: NodePlan) -> None:
        """Remove the container (whatever its state), then its volume and the host's link to it."""
        c = self._container(node)
        if c is not None:
            c.remove(force=True, v=False)
        v = self._volume(node)
        if v is not None:
            v.remove(force=True)
        link = state.node_dir(lab_of(node), node.name)
        if link.is_symlink():
            link.unlink()

    def node_state(self, node: NodePlan) -> str:
        """running, paused, exited, created... or missing."""
        c = self._container(node)
        return c.status if c is not None else "missing"

    def sweep(self, lab_prefix: str) -> list[str]:
        """Containers and volumes named with the prefix that no lab.json knows of (after a crash).
        Nothing to do, and no error, when dockerd is not installed or not running."""
        if not Path("/var/run/docker.sock").exists() and "DOCKER_HOST" not in os.environ:
            return []
        try:
            c = self.docker
        except DockerUnavailable:
            return []
        removed = []
        for container in c.containers.list(all=True, filters={"name": lab_prefix}):
            if container.name.startswith(lab_prefix):
                container.remove(force=True)
                removed.append(f"container {container.name}")
        for volume in c.volumes.list(filters={"label": LABEL}):
            if volume.name.startswith(lab_prefix):
                volume.remove(force=True)
                removed.append(f"volume {volume.name}")
        return removed


def _talk(sock, data: bytes) -> tuple[bytes, bytes]:
    """Send `data` as stdin over an attached exec's socket, close our side (EOF), read the
    multiplexed stdout and stderr until the command ends."""
    from docker.utils.socket import consume_socket_output, demux_adaptor, frames_iter
    raw = getattr(sock, "_sock", sock)
    try:
        if data:
            raw.sendall(data)
        raw.shutdown(socketlib.SHUT_WR)
        frames = (demux_adaptor(*frame) for frame in frames_iter(sock, tty=False))
        return consume_socket_output(frames, demux=True)
    finally:
        sock.close()


def _remove_path(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    else:
        shutil.rmtree(path)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


if __name__ == "__main__":  # `python -m lab.runtime.backends.docker ping`: scripts/dockerd.sh waits on it
    try:
        info = client().version()
    except DockerUnavailable as exc:
        raise SystemExit(str(exc))
    print(f"dockerd {info.get('Version')} (API {info.get('ApiVersion')})")
