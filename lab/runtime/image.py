"""Build the node image for the Docker backend, with or without a registry: `make image`.

    python -m lab.runtime.image [--base IMAGE] [--tag biglab:latest] [--rebuild-base]

1. Wheels: the project's own wheel and its dependencies' wheels, made by this environment's pip
   (so its index and certificate settings apply; build/image/wheels/ caches them). The image
   installs the project from them into a fresh venv: the project, not a copy of the host's .venv.
2. Base: `--base` if given; else python:3.11-slim-bookworm if it is here or can be pulled; else
   (no registry) biglab-base:bookworm, made once by debootstrap (Debian's packages only, from the
   host's own Debian mirror) and `docker import`. `--rebuild-base` makes it again.
3. image/Dockerfile on that base, tagged `--tag` and labelled with a hash of node/ and
   pyproject.toml, so `biglab up --backend docker` refuses an image built from other code.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from node.files import source_hash

from ..model.state import PROJECT as ROOT

BUILD = ROOT / "build" / "image"
REGISTRY_BASE = "python:3.11-slim-bookworm"
LOCAL_BASE = "biglab-base:bookworm"
SUITE = "bookworm"
PACKAGES = ["python3", "python3-venv", "iproute2", "iputils-ping", "curl", "procps", "iptables",
            "nftables", "conntrack", "dnsutils", "ca-certificates"]
DEFAULT_MIRROR = "http://deb.debian.org/debian"


def build_wheels(ctx: Path, say) -> None:
    """ctx/wheels: the dependencies' wheels (the same files while the dependencies stay, so
    Docker reuses that layer); ctx/project: the project's own wheel. build/image/wheels caches
    what was downloaded or built."""
    cache = BUILD / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    deps, project = ctx / "wheels", ctx / "project"
    project.mkdir()
    say("wheels: the project and its dependencies")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--find-links", str(cache),
                    "--wheel-dir", str(deps), str(ROOT)], check=True)
    for whl in deps.glob("*.whl"):
        if whl.name.startswith("biglab-"):
            whl.rename(project / whl.name)
        elif not (cache / whl.name).exists():
            shutil.copy(whl, cache / whl.name)


def host_mirror(apt: Path = Path("/etc/apt")) -> str:
    """The Debian mirror the host's apt uses (deb822 or one-line sources)."""
    for path in [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*"))]:
        try:
            text = path.read_text()
        except OSError:
            continue
        m = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or \
            re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s+bookworm\b", text, re.M)
        if m:
            return m.group(1)
    return DEFAULT_MIRROR


def debootstrap_base(c, say) -> str:
    """biglab-base:bookworm from a minimal Debian root filesystem; needs only Debian's packages."""
    if shutil.which("debootstrap") is None:
        raise SystemExit("no registry and no debootstrap: apt-get install debootstrap, or give --base IMAGE")
    mirror = host_mirror()
    with tempfile.TemporaryDirectory(prefix="biglab-rootfs-") as tmp:
        root = Path(tmp) / "root"
        say(f"base: debootstrap {SUITE} (minbase + {', '.join(PACKAGES)}) from {mirror}")
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE,
                        str(root), mirror], check=True, stdout=subprocess.DEVNULL)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for p in (root / junk).glob("*"):
                if p.is_file():
                    p.unlink()
        tarball = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True)
        say(f"base: docker import as {LOCAL_BASE}")
        repo, tag = LOCAL_BASE.split(":")
        c.api.import_image(src=str(tarball), repository=repo, tag=tag)
    return LOCAL_BASE


def choose_base(c, base: str | None, rebuild_base: bool, say) -> str:
    from docker.errors import APIError, ImageNotFound
    if base:
        return base
    if not rebuild_base:
        for candidate in (REGISTRY_BASE, LOCAL_BASE):
            try:
                c.images.get(candidate)
                return candidate
            except ImageNotFound:
                pass
        try:
            say(f"base: pulling {REGISTRY_BASE}")
            c.images.pull(REGISTRY_BASE)
            return REGISTRY_BASE
        except APIError as exc:
            say(f"base: no registry ({str(exc).splitlines()[0][:160]}); building one locally")
    return debootstrap_base(c, say)


def build(tag: str = "biglab:latest", base: str | None = None, rebuild_base: bool = False,
          say=print) -> str:
    from docker.errors import APIError, BuildError, ImageNotFound
    from .backends.docker import client
    c = client()
    try:
        previous = c.images.get(tag).id
    except ImageNotFound:
        previous = None
    base = choose_base(c, base, rebuild_base, say)
    with tempfile.TemporaryDirectory(prefix="biglab-image-") as ctx:
        shutil.copy(ROOT / "image" / "Dockerfile", ctx)
        shutil.copy(ROOT / "image" / "node-init.sh", ctx)
        build_wheels(Path(ctx), say)
        say(f"image: {tag} on {base}")
        try:
            c.images.build(path=ctx, tag=tag, buildargs={"BASE": base}, rm=True, forcerm=True,
                           network_mode="host", labels={"biglab.source": source_hash(ROOT)})
        except BuildError as exc:
            log = "".join(x.get("stream", "") or x.get("error", "") for x in exc.build_log)
            raise SystemExit(f"docker build failed: {exc.msg}\n{log[-3000:]}")
    if previous and previous != c.images.get(tag).id:
        try:  # the image it replaced, unless a lab's containers still use it
            c.images.remove(previous, noprune=False)
        except APIError:
            pass
    return tag


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lab.runtime.image", description=__doc__.split("\n")[0])
    ap.add_argument("--tag", default="biglab:latest")
    ap.add_argument("--base", help=f"base image (default: {REGISTRY_BASE} if available, else {LOCAL_BASE})")
    ap.add_argument("--rebuild-base", action="store_true", help="make biglab-base:bookworm again")
    args = ap.parse_args(argv)
    from .backends.docker import DockerUnavailable
    from rich.console import Console
    console = Console(stderr=True)
    started = time.monotonic()
    try:
        with console.status("make image") as spinner:   # a long build shows where it is
            def say(msg: str) -> None:
                spinner.update(f"make image: {msg[:100]}")
                console.log(msg, highlight=False)
            tag = build(args.tag, args.base, args.rebuild_base, say=say)
    except DockerUnavailable as exc:
        print(f"make image: {exc}", file=sys.stderr)
        return 1
    print(f"image {tag} built in {time.monotonic() - started:.1f} s (source {source_hash(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
