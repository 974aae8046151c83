"""`labelwise demo` and `labelwise serve` as a user runs them: real processes, real HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import httpx

from labelwise.db.engine import Database
from labelwise.services import accounts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(
    command: str, env: dict[str, str], *options: str, output: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run `labelwise COMMAND --port P [OPTIONS]` until it answers; yield its URL and process.
    What it prints is piped to the caller, or written to `output` (a busy server's errors
    would fill a pipe nobody reads)."""
    port = _free_port()
    with output.open("w") if output else nullcontext(subprocess.PIPE) as printed:
        process = subprocess.Popen(
            [sys.executable, "-m", "labelwise.cli.main", command, "--port", str(port), *options],
            env={**os.environ, **env, "COLUMNS": "200"},
            stdout=printed,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "the server did not start within 60 s"
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _log_in(base: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=True)
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/login").text)
    assert match
    form = {"username": username, "password": password, "csrf_token": match.group(1)}
    answer = client.post("/login", data=form)
    assert answer.status_code == 200 and answer.url.path == "/projects", answer.text
    return client


def test_demo_then_serve(db: Database, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"LABELWISE_DATA_DIR": str(data_dir), "LABELWISE_DATABASE_URL": db.url}
    with running("demo", env) as (base, process):
        process.terminate()
        printed = process.communicate(timeout=30)[0]
    assert "300 new items" in printed and f"{base}/login" in printed
    admin_line = next(line for line in printed.splitlines() if "server admin" in line)
    password = re.split(r"[\s│|]+", admin_line.strip(" │|"))[1]

    with running("serve", env) as (base, _):
        client = _log_in(base, "admin", password)
        page = client.get("/projects")
        assert "Support ticket triage" in page.text and "300" in page.text
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600


def test_serve_logs_in_and_serves_openapi(db: Database, tmp_path: Path) -> None:
    accounts.create_user(db, "ana", "long password")
    env = {"LABELWISE_DATA_DIR": str(tmp_path / "data"), "LABELWISE_DATABASE_URL": db.url}
    with running("serve", env) as (base, _):
        spec = httpx.get(f"{base}/api/v1/openapi.json").json()
        assert "/api/v1/projects/{slug}/items" in spec["paths"]
        client = _log_in(base, "ana", "long password")
        assert "ana" in client.get("/projects").text


def _workers(supervisor: int) -> list[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    found = []
    for task in Path(f"/proc/{supervisor}/task").glob("*/children"):
        for pid in task.read_text().split():
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
    return sorted(found)


def _connections_per_worker(port: int, workers: list[int]) -> dict[int, int]:
    """How many established connections to the port each worker holds (by socket inode)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":  # ESTABLISHED
            inodes.add(f"socket:[{fields[9]}]")
    held = {}
    for pid in workers:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        held[pid] = sum(link in inodes for link in links)
    return held


def _wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, f"{what} within 60 s"
        time.sleep(0.2)


def test_serve_workers_share_connections_and_are_restarted(db: Database, tmp_path: Path) -> None:
    env = {"LABELWISE_DATA_DIR": str(tmp_path / "data"), "LABELWISE_DATABASE_URL": db.url}
    with running("serve", env, "--workers", "2") as (base, process):
        _wait_for(lambda: len(_workers(process.pid)) == 2, "two workers")
        workers = _workers(process.pid)
        clients = [httpx.Client(base_url=base) for _ in range(16)]
        for client in clients:  # keep-alive: each holds its connection open
            assert client.get("/static/style.css").status_code == 200
        port = int(base.rsplit(":", 1)[1])
        spread = _connections_per_worker(port, workers)
        assert sum(spread.values()) == 16 and min(spread.values()) > 0, spread
        for client in clients:
            client.close()

        os.kill(workers[0], signal.SIGKILL)
        _wait_for(
            lambda: len(_workers(process.pid)) == 2 and workers[0] not in _workers(process.pid),
            "a new worker in place of the killed one",
        )
        assert httpx.get(f"{base}/login").status_code == 200
        workers = _workers(process.pid)
    assert process.returncode is not None
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)  # stopped with it


def test_a_taken_port_is_named_not_a_traceback(db: Database, tmp_path: Path) -> None:
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = ["serve", "--port", str(port), "--workers", "2"]
        done = subprocess.run(
            [sys.executable, "-m", "labelwise.cli.main", *command],
            env={**os.environ, **env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
