"""`portal smtpd --workers N`: processes sharing the SMTP port (MAIL-23), started, kept and
ended together. Real processes, a real smtplib client, the demo organisation on SQLite."""

import json
import os
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _until(condition, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_DATA_DIR"] = str(data_dir)
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A data folder with the demo organisation, seeded once, and its accounts."""
    data_dir = tmp_path_factory.mktemp("demo")
    subprocess.run([sys.executable, "-m", "portal.cli", "demo"], env=_env(data_dir), check=True, capture_output=True,
                   timeout=120)
    accounts = json.loads(subprocess.run([sys.executable, "-m", "portal.cli", "demo", "--json"], env=_env(data_dir),
                                         check=True, capture_output=True, text=True, timeout=120).stdout)
    return data_dir, accounts


@pytest.fixture
def smtpd(demo, tmp_path):
    seeded, accounts = demo
    shutil.copytree(seeded, tmp_path, dirs_exist_ok=True)
    env = _env(tmp_path)
    port = _free_port()
    log = (tmp_path / "smtpd.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "portal.cli", "smtpd", "--port", str(port), "--workers", "2"],
                               env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        # Both processes say so once they listen.
        _until(lambda: (tmp_path / "smtpd.log").read_text().count("SMTP listening") == 2 or process.poll() is not None,
               what="two listening processes")
        assert process.poll() is None, (tmp_path / "smtpd.log").read_text()
        yield process, port, [a["email"] for a in accounts if a["unit"] == "huanghe"], tmp_path / "portal.sqlite3"
    finally:
        children = _children(process.pid) if _alive(process.pid) else []
        process.kill()
        process.wait(30)
        for child in children:
            _until(lambda: not _alive(child), 30, "the worker to end")
        log.close()


def _send(port: int, to: str, n: int) -> None:
    message = EmailMessage()
    message["From"] = "外部 <sender@example.org>"
    message["To"] = to
    message["Subject"] = f"工作进程 {n}"
    message.set_content("两个进程共用一个端口。")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.send_message(message)


def test_two_processes_share_the_port_and_store_every_message(smtpd):
    process, port, addresses, database = smtpd
    assert len(_children(process.pid)) == 1
    for n in range(24):
        _send(port, addresses[n % len(addresses)], n)
    with sqlite3.connect(database) as connection:
        subjects = {row[0] for row in connection.execute("SELECT subject FROM webmail_message")}
    assert subjects == {f"工作进程 {n}" for n in range(24)}


def test_a_worker_that_dies_is_started_again(smtpd):
    process, port, addresses, _database = smtpd
    [worker] = _children(process.pid)
    os.kill(worker, signal.SIGKILL)
    _until(lambda: _children(process.pid) and _children(process.pid) != [worker], 30, "another worker")
    _send(port, addresses[0], 1)


def test_workers_end_with_the_parent_even_when_it_is_killed(smtpd):
    process, port, addresses, _database = smtpd
    [worker] = _children(process.pid)
    process.kill()
    process.wait(30)
    _until(lambda: not _alive(worker), 30, "the worker to end")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
