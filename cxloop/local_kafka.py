"""Single-node Apache Kafka 4.x broker (KRaft, combined broker + controller) for local runs and tests,
run from Maven Central jars (``deploy/local/pom.xml``) in a JVM subprocess, no Docker. Needs ``java`` 17+
and, once per jar cache, ``mvn``. ``with LocalKafka(dir) as kafka: ... kafka.bootstrap``, or from a
shell ``python -m cxloop.local_kafka up --data-dir DIR [--port N]``."""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from confluent_kafka.admin import AdminClient

DEPLOY_DIR = Path(__file__).resolve().parents[1] / "deploy" / "local"
POM = DEPLOY_DIR / "pom.xml"
LOG4J_CONFIG = DEPLOY_DIR / "log4j2.yaml"
_LISTENERS_RE = re.compile(r"^listeners=PLAINTEXT://[^:]+:(\d+),CONTROLLER://[^:]+:(\d+)\s*$", re.M)
_running: set[LocalKafka] = set()  # started brokers, stopped at interpreter exit

# Single node: every internal topic has one replica (and one partition, so groups start fast).
_SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{cport}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={log_dir}
num.partitions=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
"""


def _java() -> str:
    """Path of ``java``: ``$JAVA_HOME/bin/java`` if JAVA_HOME is set, else from PATH; RuntimeError if none."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home}" if home else "not on PATH"
        raise RuntimeError(f"'java' not found ({where}); the local Kafka broker needs java 17+")
    return java


def kafka_classpath(cache_dir: Path | None = None) -> Path:
    """Return a directory holding the Kafka broker jars (the JVM classpath is ``<dir>/*``).

    The directory is ``cache_dir``, else ``$CXLOOP_KAFKA_LIBS``, else ``~/.cache/cxloop/kafka-<version>``.
    When it holds the marker written after a successful ``mvn dependency:copy-dependencies`` of the
    current pom, nothing runs; otherwise Maven copies the jars into a temporary sibling that replaces
    it (a failed run leaves no half-filled cache; a directory without our marker is never deleted).
    RuntimeError names a missing tool (java/mvn), or carries Maven's output when Maven fails."""
    if cache_dir is None:
        version = re.search(r"<kafka\.version>\s*([^<\s]+)", POM.read_text())
        default = Path.home() / ".cache" / "cxloop" / f"kafka-{version.group(1) if version else 'unknown'}"
        cache_dir = Path(os.environ.get("CXLOOP_KAFKA_LIBS") or default)
    cache_dir = cache_dir.expanduser().resolve()
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    marker = cache_dir / ".cxloop-complete"

    def complete() -> bool:
        return marker.is_file() and marker.read_text().strip() == digest

    if complete():
        return cache_dir
    if cache_dir.exists() and not marker.is_file() and any(cache_dir.iterdir()):
        raise RuntimeError(f"{cache_dir} is not empty and not a cxloop Kafka jar cache; refusing to use it")
    if not (mvn := shutil.which("mvn")):
        raise RuntimeError(f"'mvn' (Apache Maven) not on PATH; it fetches the Kafka jars into {cache_dir}")
    _java()
    tmp = cache_dir.with_name(f"{cache_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={tmp}"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode != 0 or not any(tmp.glob("kafka_*.jar")):
        shutil.rmtree(tmp, ignore_errors=True)
        output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)  # Maven 3.8 colours even with -B
        raise RuntimeError(f"mvn failed (exit {proc.returncode}): {' '.join(cmd)}\n{output}")
    (tmp / marker.name).write_text(digest + "\n")
    if not complete():  # else a concurrent process has installed the same jars meanwhile
        shutil.rmtree(cache_dir, ignore_errors=True)  # empty, or a stale cache of ours
        with contextlib.suppress(OSError):
            tmp.rename(cache_dir)
    shutil.rmtree(tmp, ignore_errors=True)
    if not complete():
        raise RuntimeError(f"could not install the Kafka jars into {cache_dir}")
    return cache_dir


def _bindable(*ports: int) -> list[int]:
    """Bind loopback sockets (0 = any free port) all at once; return the bound ports, [] if one is taken."""
    socks = [socket.socket() for _ in ports]
    try:
        for sock, port in zip(socks, ports, strict=True):
            if port:  # a specific port may be in TIME_WAIT; the JVM binds with SO_REUSEADDR too
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
        return [sock.getsockname()[1] for sock in socks]
    except OSError:
        return []
    finally:
        for sock in socks:
            sock.close()


class LocalKafka:
    """One single-node KRaft Kafka broker in a JVM subprocess, with all its state under ``data_dir``.

    Port 0: reuse the previous run's port (from ``data_dir/server.properties``) if free, else pick a free
    loopback port. Once chosen, ports stay fixed for this object: ``stop()`` + ``start()`` brings the
    broker back on the same bootstrap address with the same topics and data."""

    def __init__(self, data_dir: Path, *, port: int = 0, controller_port: int = 0, heap: str = "512m",
                 libs: Path | None = None, log_file: Path | None = None) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.port = port
        self.controller_port = controller_port
        self.heap = heap
        self.libs = libs
        self.log_file = Path(log_file).resolve() if log_file else self.data_dir / "kafka.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:<port>"``; RuntimeError while the port is still unknown (port 0, not started)."""
        if not self.port:
            raise RuntimeError("LocalKafka has no port yet; call start() first")
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """True while the broker JVM is alive."""
        return self._proc is not None and self._proc.poll() is None

    def _choose_ports(self) -> None:
        props = self.data_dir / "server.properties"
        match = _LISTENERS_RE.search(props.read_text()) if props.is_file() else None
        old_port, old_cport = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        if not self.port and old_port not in (0, self.controller_port) and _bindable(old_port):
            self.port = old_port
        if not self.controller_port and old_cport not in (0, self.port) and _bindable(old_cport):
            self.controller_port = old_cport
        fresh = iter(p for p in _bindable(0, 0, 0, 0) if p not in (self.port, self.controller_port))
        self.port = self.port or next(fresh)
        self.controller_port = self.controller_port or next(fresh)

    def _tail(self, offset: int, lines: int = 40) -> str:
        try:
            with self.log_file.open("rb") as fh:
                fh.seek(max(offset, fh.seek(0, os.SEEK_END) - 65536))
                text = fh.read().decode(errors="replace").splitlines()
                return "\n".join([line for line in text if not line.startswith("\tat ")][-lines:])
        except OSError as exc:
            return f"(log unreadable: {exc})"

    def start(self, timeout: float = 90.0) -> LocalKafka:
        """Start the broker and block until it answers a Kafka metadata request; return ``self``.

        Formats ``data_dir`` on first use; an already formatted one is reused as is (topics and data
        survive restarts). The JVM runs in its own process group, stdout/stderr appended to
        ``log_file``. If the broker exits early or is not ready within ``timeout`` seconds, it is
        killed and RuntimeError is raised with the tail of the log. No-op when already running."""
        if self.running:
            return self
        deadline = time.monotonic() + timeout
        java, libs = _java(), kafka_classpath(self.libs)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        if not (self.port and self.controller_port):
            self._choose_ports()
        props = self.data_dir / "server.properties"
        props.write_text(_SERVER_PROPERTIES.format(
            port=self.port, cport=self.controller_port, log_dir=self.data_dir / "kraft"))
        jvm = [java, "-cp", str(libs / "*"), f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
               "-Djava.awt.headless=true"]
        with self.log_file.open("ab") as log:
            offset = log.tell()
            if not (self.data_dir / "kraft" / "meta.properties").is_file():
                # as `kafka-storage random-uuid`: base64url of 16 random bytes, never starting with "-"
                raw = bytes([os.urandom(1)[0] & 0x7F]) + os.urandom(15)
                cid = base64.urlsafe_b64encode(raw).decode().rstrip("=")
                fmt = [*jvm, "kafka.tools.StorageTool", "format", "-t", cid, "-c", str(props), "--standalone"]
                if subprocess.run(fmt, stdout=log, stderr=subprocess.STDOUT, check=False).returncode:
                    raise RuntimeError(f"formatting {self.data_dir} failed:\n{self._tail(offset)}")
            self._proc = subprocess.Popen([*jvm, f"-Xmx{self.heap}", "-XX:+UseG1GC", "kafka.Kafka", str(props)],
                                          stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                          cwd=self.data_dir, start_new_session=True)
        _running.add(self)
        try:
            self._wait_ready(self._proc, deadline, offset)
        except BaseException:
            self.stop(timeout=5.0)
            raise
        return self

    def _wait_ready(self, proc: subprocess.Popen[bytes], deadline: float, offset: int) -> None:
        admin: AdminClient | None = None
        while True:
            remaining, code = deadline - time.monotonic(), proc.poll()
            if code is not None or remaining <= 0:
                what = f"exited with code {code}" if code is not None else "not ready in time"
                raise RuntimeError(f"Kafka {self.bootstrap} {what}; {self.log_file}:\n{self._tail(offset)}")
            try:  # cheap and silent until the listener is bound
                socket.create_connection(("127.0.0.1", self.port), timeout=min(remaining, 1.0)).close()
                # log_level 0: librdkafka stays silent (no connection-refused noise on stderr)
                admin = admin or AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0,
                                              "reconnect.backoff.max.ms": 500})
                if admin.list_topics(timeout=min(remaining, 2.0)).brokers:
                    return
            except Exception:  # OSError / KafkaException while the broker is still coming up
                pass
            time.sleep(min(0.1, max(remaining, 0.0)))

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the broker's process group, wait up to ``timeout`` seconds for a clean shutdown,
        then SIGKILL. Idempotent; the data stays in ``data_dir`` for a later ``start()``."""
        proc, self._proc = self._proc, None
        _running.discard(self)
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                if proc.poll() is None:
                    os.killpg(proc.pid, sig)
                    proc.wait(wait)
                return
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> LocalKafka:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for broker in list(_running):
        broker.stop(timeout=10.0)


def main(argv: Sequence[str] | None = None) -> int:
    """``up --data-dir DIR [--port N]``: run a broker, print ``KAFKA_BOOTSTRAP=127.0.0.1:<port>``,
    block until SIGINT/SIGTERM, then stop the broker cleanly. Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m cxloop.local_kafka", description=__doc__)
    up = parser.add_subparsers(dest="command", required=True).add_parser(
        "up", help="start a broker and keep it running until SIGINT/SIGTERM")
    up.add_argument("--data-dir", type=Path, required=True, help="broker state (formatted on first use)")
    up.add_argument("--port", type=int, default=0, help="client port (default: previous or a free one)")
    up.add_argument("--heap", default="512m", help="JVM max heap (default 512m)")
    up.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for readiness")
    args = parser.parse_args(argv)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _signum, _frame: stopping.set())
    broker = LocalKafka(args.data_dir, port=args.port, heap=args.heap)
    try:
        broker.start(timeout=args.timeout)
        print(f"KAFKA_BOOTSTRAP={broker.bootstrap}", flush=True)
        while not stopping.wait(0.5):
            if not broker.running:
                print(f"Kafka exited unexpectedly; see {broker.log_file}", file=sys.stderr)
                return 1
        return 0
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
