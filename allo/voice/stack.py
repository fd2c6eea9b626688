"""The three processes of one voice node: rtpengine, Kamailio and the adapter.

Each runs in its own session (process group = its PID), so stopping it by its PID also stops its
children (Kamailio's workers), and nothing else; each is checked ready before the next starts.
Logs go to `ALLO_DATA_DIR/voice/log/`.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from allo.voice.config import VoiceConfig

logger = logging.getLogger(__name__)

BINARIES = {"kamailio": ("kamailio", "/usr/sbin/kamailio"), "rtpengine": ("rtpengine", "/usr/bin/rtpengine"),
            "sipp": ("sipp", "/usr/bin/sipp")}
DEBIAN_PACKAGES = "kamailio kamailio-extra-modules rtpengine-daemon sip-tester espeak-ng baresip"


class StackError(RuntimeError):
    pass


def binary(name: str) -> str | None:
    for candidate in BINARIES[name]:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def missing_binaries(names=("kamailio", "rtpengine")) -> list[str]:
    """What is not installed of the named programs, and Kamailio's modules from kamailio-extra-modules."""
    missing = [n for n in names if binary(n) is None]
    if "kamailio" in names and "kamailio" not in missing:
        modules = Path(VoiceConfig(data_dir=Path(".")).modules_dir)
        missing += [f"kamailio module {m}" for m in ("evapi.so", "jansson.so") if not (modules / m).exists()]
    return missing


def options_ping(host: str, port: int, timeout: float = 0.5) -> bool:
    """A SIP OPTIONS to the edge itself: True once Kamailio answers 200."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        s.settimeout(timeout)
        local = s.getsockname()
        branch = "z9hG4bK" + os.urandom(6).hex()
        message = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {local[0]}:{local[1]};branch={branch};rport\r\n"
                   f"From: <sip:allo-voice@{host}>;tag={os.urandom(4).hex()}\r\n"
                   f"To: <sip:{host}:{port}>\r\nCall-ID: {os.urandom(8).hex()}@allo-voice\r\n"
                   "CSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\nContent-Length: 0\r\n\r\n")
        s.sendto(message.encode(), (host, port))
        try:
            return s.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            return False


def ng_ping(host: str, port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(b"ready d7:command4:pinge", (host, port))
        try:
            return b"pong" in s.recv(4096)
        except OSError:
            return False


def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Stack:
    config: VoiceConfig
    allo_url: str
    token: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def _start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = self.config.log_dir / f"{name}.log"
        with open(log, "wb") as out:  # one run per log: readiness is read from it
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True, cwd=self.config.root)
        self.processes[name] = proc
        (self.config.run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
        logger.info("%s started (pid %d), log %s", name, proc.pid, log)
        return proc

    def _wait(self, name: str, ready, timeout: float) -> None:
        proc = self.processes[name]
        deadline = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None:
                raise StackError(f"{name} exited ({proc.returncode}): " + self.tail(name))
            if time.monotonic() > deadline:
                raise StackError(f"{name} not ready after {timeout:.0f} s: " + self.tail(name))
            time.sleep(0.1)

    def tail(self, name: str, chars: int = 1500) -> str:
        try:
            return (self.config.log_dir / f"{name}.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def check_kamailio_config(self) -> None:
        out = subprocess.run([binary("kamailio"), "-c", "-f", str(self.config.kamailio_cfg)],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise StackError("kamailio.cfg refused by `kamailio -c`:\n" + (out.stdout + out.stderr)[-3000:])

    def start(self, timeout: float = 20.0) -> None:
        missing = missing_binaries()
        if missing:
            raise StackError(f"not installed: {', '.join(missing)} (Debian: apt-get install {DEBIAN_PACKAGES})")
        c = self.config
        self.check_kamailio_config()
        try:
            self._start("rtpengine", [binary("rtpengine"), "--config-file", str(c.rtpengine_conf)])
            self._wait("rtpengine", lambda: ng_ping(*c.ng), timeout)
            self._start("kamailio", [binary("kamailio"), "-f", str(c.kamailio_cfg), "-DD", "-E",
                                     "-m", "64", "-M", "8"])
            self._wait("kamailio", lambda: options_ping(*c.sip) and _tcp_open(*c.evapi), timeout)
            env = os.environ | {"ALLO_VOICE_TOKEN": self.token}
            self._start("adapter", [sys.executable, "-m", "allo.voice.adapter", "--allo", self.allo_url,
                                    "--evapi", f"{c.evapi[0]}:{c.evapi[1]}", "--ng", f"{c.ng[0]}:{c.ng[1]}",
                                    "--sip-domain", c.domain, "--prompts", str(c.prompts_root / "prompts"),
                                    "--dtmf", f"{c.dtmf[0]}:{c.dtmf[1]}", "--menu-timeout", str(c.menu_timeout_s),
                                    "--rpc-fifo", str(c.rpc_fifo), "--reconcile-every", str(c.reconcile_every_s),
                                    *(["--node", c.node] if c.node else []),
                                    *(["--shared-registrations"] if c.dmq_peers else []),
                                    "--log-level", "INFO"], env=env)
            # ready once it holds both ends and has loaded the agents' accounts: Kamailio's events sent
            # before would be lost, and every phone refused
            self._wait("adapter", lambda: all(m in self.tail("adapter", 20000) for m in
                                              ("evapi connected", "telephony stream connected",
                                               "sip accounts loaded")), timeout)
        except BaseException:
            self.stop()
            raise

    def exited(self) -> str | None:
        """The name of a process that has stopped by itself, if any."""
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                return name
        return None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to each process group we started (adapter first), SIGKILL to what remains."""
        for name in ("adapter", "kamailio", "rtpengine"):
            proc = self.processes.get(name)
            if proc is None:
                continue
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    logger.warning("%s (pid %d) ignored SIGTERM: killed", name, proc.pid)
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait(timeout=5)
            # Kamailio's workers are in its group: make sure none outlives the main process
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            Path(self.config.run_dir / f"{name}.pid").unlink(missing_ok=True)
            logger.info("%s stopped", name)
        self.processes.clear()
