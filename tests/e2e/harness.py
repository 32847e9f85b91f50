"""Plumbing of the kind suite: prerequisites, commands with timeouts, the cluster, port-forwards, logs.

Everything here shells out to ``docker``, ``kind`` and ``kubectl`` with a timeout;
nothing waits without a deadline.

Pinned versions (where each was verified is in ``tests/e2e/README.md``):

* kind v0.32.0 and its default node image ``kindest/node:v1.36.1@sha256:3489c767…``
  (Kubernetes 1.36, the version KFP 2.17.0's own CI runs on);
* Kubeflow Pipelines 2.17.0, multi-user (``cluster/kfp``), the backend of the kfp 2.17 SDK;
* cert-manager v1.16.1 and the PodDefault webhook v1.10.0 from kubeflow/manifests v1.11.0.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
CLUSTER_DIR = E2E_DIR / "cluster"

KIND_VERSION = "v0.32.0"
NODE_IMAGE = "kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5"
KFP_VERSION = "2.17.0"
DEFAULT_CLUSTER = "kfops-e2e"
KFP_NAMESPACE = "kubeflow"
BUCKET = "mlpipeline"  # KFP's bucket in its in-cluster store; the suite's store is a prefix of it
STORE_SECRET = "mlpipeline-minio-artifact"  # the name the kind overlay's kfp-launcher reads
FIELD_MANAGER = "kfops-e2e"

# Environment knobs (documented in README.md, "End-to-end tests on kind").
ENV_OPT_IN = "KFOPS_E2E"  # "1": run the suite if the machine can; "required": run it or fail
ENV_CLUSTER = "KFOPS_E2E_CLUSTER"  # reuse this existing kind cluster (never deleted)
ENV_KEEP = "KFOPS_E2E_KEEP"  # "1": keep the cluster the suite created, for debugging
ENV_NODE_IMAGE = "KFOPS_E2E_NODE_IMAGE"  # override the node image (CI: the cached copy)
ENV_IMAGE_CACHE = "KFOPS_E2E_IMAGE_CACHE"  # "gha": buildx layer cache of GitHub Actions
ENV_LOG_DIR = "KFOPS_E2E_LOG_DIR"  # where failed pods' logs go (default build/e2e-logs)
ENV_DETECT_TIMEOUT = "KFOPS_E2E_DETECT_TIMEOUT"  # seconds `docker info` may take (default 15)
#: Unix time by which the session must be over (CI: the job's timeout minus the time that the
#: diagnostics, the junit report and the cache saves need). Every command and wait is cut to
#: it, so a slow phase fails the suite (with logs) instead of the job being killed (without).
ENV_DEADLINE = "KFOPS_E2E_DEADLINE"
ENV_PRUNE = "KFOPS_E2E_PRUNE_IMAGES"  # "1" (CI): remove the host's copies once kind has them

# Phase timeouts, in seconds (tests/e2e/README.md has the budget; each is below the job's).
BUILD_TIMEOUT = 1500  # the images of the pipelines the suite runs, 3 at once (cold: ~12 min)
LOAD_TIMEOUT = 600  # kind load docker-image (cold: ~5 min for ~5 GB)
RUN_TIMEOUT = 900  # one pipeline run on the cluster

# Deployments the suite needs before it runs anything (namespace kubeflow).
KFP_DEPLOYMENTS = (
    "ml-pipeline",
    "ml-pipeline-persistenceagent",
    "ml-pipeline-scheduledworkflow",
    "workflow-controller",
    "metadata-grpc-deployment",
    "mysql",
    "seaweedfs",
)
CERT_MANAGER_DEPLOYMENTS = ("cert-manager", "cert-manager-cainjector", "cert-manager-webhook")
WEBHOOK_DEPLOYMENT = "admission-webhook-deployment"
WEBHOOK_CONFIGURATION = "admission-webhook-mutating-webhook-configuration"

# Pod states that never resolve by waiting.
HOPELESS_WAITING = {
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
}
PULL_ERRORS = {"ErrImagePull", "ImagePullBackOff"}
BAD_WAITING = HOPELESS_WAITING | {"CrashLoopBackOff", "RunContainerError"}


class CommandError(RuntimeError):
    """A command failed or ran out of time (the message says which, with its output's tail)."""


def _tail(text: str | bytes | None, lines: int = 30) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").strip().splitlines()[-lines:])


def bounded(
    command: list[str],
    *,
    timeout: float,
    input: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path = REPO,
) -> subprocess.CompletedProcess[str]:
    """Run a command in its own process group; on timeout kill the whole group.

    (``subprocess.run`` kills only the child, then waits for its output without a deadline:
    a grandchild that keeps the pipe open, like ``docker`` under ``kind``, would hang it.)

    The timeout is cut to what is left before the session deadline (``KFOPS_E2E_DEADLINE``).

    Raises:
        subprocess.TimeoutExpired: The deadline passed (the group is killed).
        OSError: The command cannot be started.
    """
    timeout = within_deadline(timeout)
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        try:
            stdout, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            stdout, stderr = "", ""
        raise subprocess.TimeoutExpired(command, timeout, stdout, stderr) from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def remaining() -> float:
    """Seconds left before the session deadline (infinite without one)."""
    deadline = os.environ.get(ENV_DEADLINE, "")
    return float(deadline) - time.time() if deadline else float("inf")


def within_deadline(timeout: float) -> float:
    """``timeout`` cut to the session deadline (at least 1 s, so the command still fails cleanly)."""
    return max(1.0, min(timeout, remaining()))


def run(
    command: list[str],
    *,
    timeout: float,
    input: str | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    cwd: Path = REPO,
) -> subprocess.CompletedProcess[str]:
    """Run a command with a deadline; output captured. ``check``: raise `CommandError` on failure."""
    try:
        result = bounded(command, timeout=timeout, input=input, env=env, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise CommandError(
            f"timed out after {timeout:.0f}s: {' '.join(command)}\n{_tail(exc.stderr) or _tail(exc.stdout)}"
        ) from None
    except FileNotFoundError:
        raise CommandError(f"{command[0]} is not installed") from None
    if check and result.returncode != 0:
        raise CommandError(
            f"exit {result.returncode}: {' '.join(command)}\n{_tail(result.stderr) or _tail(result.stdout)}"
        )
    return result


def retry(what: str, call: Callable[[], Any], *, attempts: int = 4, delay: float = 5.0) -> Any:
    """``call()``, retried on `CommandError` (network fetches, webhooks still starting)."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except CommandError as exc:
            if attempt == attempts:
                raise CommandError(f"{what} failed {attempts} times; last: {exc}") from None
            time.sleep(delay * attempt)
    raise AssertionError("unreachable")


# --- prerequisites ------------------------------------------------------------------------


def missing_prerequisites(timeout: float | None = None) -> list[str]:
    """What this machine lacks to run the suite, in words (empty: nothing).

    Never hangs: ``docker info`` is the only call that talks to anything, with a deadline.
    """
    timeout = timeout if timeout is not None else float(os.environ.get(ENV_DETECT_TIMEOUT, "15"))
    missing = []
    docker = shutil.which("docker")
    if docker is None:
        missing.append("`docker` is not on PATH")
    for tool in ("kind", "kubectl"):
        if shutil.which(tool) is None:
            missing.append(f"`{tool}` is not on PATH")
    if docker is not None:
        try:
            info = bounded([docker, "info", "--format", "{{.ServerVersion}}"], timeout=timeout)
        except subprocess.TimeoutExpired:
            missing.append(f"the Docker daemon did not answer `docker info` within {timeout:.0f}s")
        except OSError as exc:
            missing.append(f"`docker info` could not run: {exc}")
        else:
            if info.returncode != 0 or not info.stdout.strip():
                reason = _tail(info.stderr, 1) or f"exit {info.returncode}"
                missing.append(f"the Docker daemon is not reachable ({reason})")
    return missing


# --- the cluster --------------------------------------------------------------------------


def cluster_exists(name: str) -> bool:
    """Whether kind knows a cluster of this name."""
    return name in run(["kind", "get", "clusters"], timeout=60).stdout.split()


def create_cluster(name: str, node_image: str) -> None:
    """A one-node kind cluster (``kind-config.yaml``)."""
    run(
        [
            "kind",
            "create",
            "cluster",
            "--name",
            name,
            "--image",
            node_image,
            "--config",
            str(E2E_DIR / "kind-config.yaml"),
            "--wait",
            "180s",
        ],
        timeout=600,
    )


def delete_cluster(name: str) -> None:
    """Delete the kind cluster (used only for clusters the suite created)."""
    run(["kind", "delete", "cluster", "--name", name], timeout=300, check=False)


def export_kind_logs(name: str, directory: Path) -> None:
    """Node logs (kubelet, containerd, control plane) for a failed session."""
    run(["kind", "export", "logs", str(directory / "kind"), "--name", name], timeout=300, check=False)


def load_images(name: str, images: list[str]) -> None:
    """``kind load docker-image``: the locally built images become the node's, no registry."""
    run(["kind", "load", "docker-image", "--name", name, *images], timeout=LOAD_TIMEOUT)


@dataclass(frozen=True)
class Kubectl:
    """``kubectl`` against one kind cluster's context."""

    cluster: str

    @property
    def context(self) -> str:
        return f"kind-{self.cluster}"

    def __call__(
        self, *args: str, timeout: float = 120, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run(["kubectl", "--context", self.context, *args], timeout=timeout, input=input, check=check)

    def json(self, *args: str, timeout: float = 60) -> Any:
        return json.loads(self(*args, "-o", "json", timeout=timeout).stdout)

    def render(self, kustomization: Path) -> str:
        """``kubectl kustomize`` (remote bases are fetched here: retried)."""
        return str(
            retry(
                f"kustomize {kustomization.relative_to(REPO)}",
                lambda: run(["kubectl", "kustomize", str(kustomization)], timeout=300).stdout,
            )
        )

    def apply(self, manifests: str, what: str) -> None:
        """Server-side apply (no last-applied annotation: large CRDs fit), retried while webhooks start."""
        retry(
            f"apply {what}",
            lambda: self(
                "apply",
                "--server-side",
                "--force-conflicts",
                f"--field-manager={FIELD_MANAGER}",
                "-f",
                "-",
                input=manifests,
                timeout=300,
            ),
            attempts=6,
        )

    def apply_kustomization(self, kustomization: Path) -> None:
        self.apply(self.render(kustomization), str(kustomization.relative_to(REPO)))

    def wait_available(self, namespace: str, deployments: Iterable[str], timeout: float) -> None:
        names = [f"deployment/{d}" for d in deployments]
        self(
            "wait",
            "-n",
            namespace,
            "--for=condition=Available",
            f"--timeout={int(timeout)}s",
            *names,
            timeout=timeout + 30,
        )

    def wait_crds(self, timeout: float = 180) -> None:
        self(
            "wait",
            "--for=condition=Established",
            "--all",
            "crd",
            f"--timeout={int(timeout)}s",
            timeout=timeout + 30,
        )

    def secret_data(self, namespace: str, name: str) -> dict[str, str]:
        data = self.json("get", "secret", "-n", namespace, name).get("data") or {}
        return {k: base64.b64decode(v).decode() for k, v in data.items()}

    def create_token(
        self,
        namespace: str,
        service_account: str,
        *,
        audience: str,
        seconds: int,
        as_user: str = "",
        as_groups: tuple[str, ...] = (),
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """A TokenRequest (``kubectl create token``), optionally impersonating a deployer."""
        args = [
            "create",
            "token",
            service_account,
            "-n",
            namespace,
            f"--audience={audience}",
            f"--duration={seconds}s",
        ]
        if as_user:
            args.append(f"--as={as_user}")
        args += [f"--as-group={group}" for group in as_groups]
        return self(*args, check=check)


def wait_until(what: str, probe: Callable[[], Any], *, timeout: float, interval: float = 3.0) -> Any:
    """Poll ``probe`` until it returns something truthy; `CommandError` naming ``what`` on timeout."""
    timeout = within_deadline(timeout)
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except CommandError as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise CommandError(f"{what}: not true within {timeout:.0f}s (last: {last})")


def disk_report(phase: str, log_dir: Path) -> str:
    """``df -h`` of the filesystems the suite fills (root, Docker's), printed and appended to
    ``<log_dir>/disk.txt`` with the phase's name."""
    report = _best_effort_run(["df", "-h", "/", "/var/lib/docker", "/tmp"])
    docker = _best_effort_run(["docker", "system", "df"])
    text = f"== {time.strftime('%H:%M:%S')} {phase} ==\n{report}\n{docker}\n"
    print(text, flush=True)
    with contextlib.suppress(OSError):
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "disk.txt", "a", encoding="utf-8") as handle:
            handle.write(text)
    return text


def _best_effort_run(command: list[str]) -> str:
    try:
        result = bounded(command, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{command[0]}: {exc}"
    return (result.stdout + result.stderr).strip()


def local_images_missing(images: Iterable[str]) -> list[str]:
    """The references the host's Docker engine does not have."""
    return [
        image
        for image in sorted(images)
        if run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", image], timeout=60, check=False
        ).returncode
    ]


def prune_host_images(images: Iterable[str]) -> None:
    """Remove the host's copies of images kind already holds, and the build cache (disk)."""
    run(["docker", "image", "rm", *images], timeout=300, check=False)
    run(["docker", "builder", "prune", "--force"], timeout=300, check=False)


# --- port-forwards ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


class PortForward:
    """``kubectl port-forward`` to a Service on a fixed local port; restarted if it dies."""

    def __init__(self, kubectl: Kubectl, namespace: str, service: str, remote_port: int) -> None:
        self.kubectl = kubectl
        self.namespace = namespace
        self.service = service
        self.remote_port = remote_port
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ensure(self, timeout: float = 60) -> str:
        """Start (or restart) the forward and wait until the local port accepts connections."""
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [
                    "kubectl",
                    "--context",
                    self.kubectl.context,
                    "port-forward",
                    "-n",
                    self.namespace,
                    f"svc/{self.service}",
                    f"{self.port}:{self.remote_port}",
                    "--address",
                    "127.0.0.1",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        wait_until(
            f"port-forward to {self.namespace}/{self.service}:{self.remote_port}",
            lambda: self.process is not None and self.process.poll() is None and port_open(self.port),
            timeout=timeout,
            interval=0.5,
        )
        return self.url

    def restart(self, timeout: float = 60) -> str:
        """A new ``kubectl port-forward`` on the same local port (a forward can stay alive after
        its stream to the pod broke: then every connection through it fails)."""
        self.stop()
        return self.ensure(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# --- capacity -----------------------------------------------------------------------------

_UNITS = {
    "": 1,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def cpu_cores(quantity: str | float | int) -> float:
    """``"250m"`` → 0.25, ``"2"`` → 2.0."""
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def memory_bytes(quantity: str | float | int) -> float:
    """``"512Mi"`` → 536870912.0."""
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(quantity)).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def largest_task_request(compiled: Iterable[Path]) -> tuple[float, float, str]:
    """The largest CPU and memory request of any task of these compiled pipelines, and its task."""
    import yaml

    cpu, memory, task = 0.0, 0.0, ""
    for path in compiled:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        executors = documents[0].get("deploymentSpec", {}).get("executors", {})
        for name, executor in executors.items():
            resources = executor.get("container", {}).get("resources", {})
            task_cpu = cpu_cores(resources.get("resourceCpuRequest") or resources.get("cpuRequest") or 0)
            task_memory = memory_bytes(resources.get("resourceMemoryRequest") or 0)
            if task_cpu > cpu or task_memory > memory:
                cpu, memory, task = max(cpu, task_cpu), max(memory, task_memory), f"{path.stem}/{name}"
    return cpu, memory, task


def node_headroom(kubectl: Kubectl) -> tuple[float, float]:
    """Allocatable CPU and memory of the (single) node minus what running pods request."""
    (node,) = kubectl.json("get", "nodes")["items"]
    allocatable = node["status"]["allocatable"]
    cpu, memory = cpu_cores(allocatable["cpu"]), memory_bytes(allocatable["memory"])
    for pod in kubectl.json("get", "pods", "--all-namespaces")["items"]:
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            continue
        for container in pod["spec"].get("containers", []):
            requests = container.get("resources", {}).get("requests", {})
            cpu -= cpu_cores(requests.get("cpu", 0))
            memory -= memory_bytes(requests.get("memory", 0))
    return cpu, memory


# --- diagnostics --------------------------------------------------------------------------


def pod_problem(pod: dict[str, Any]) -> str:
    """Why a pod deserves a look ("" if it looks healthy or simply finished)."""
    status = pod.get("status", {})
    if status.get("phase") == "Failed":
        return f"phase Failed ({status.get('reason') or status.get('message') or 'no reason'})"
    for condition in status.get("conditions", []):
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"unschedulable: {condition.get('message', '')}"
    for container in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
        state = container.get("state", {})
        waiting = state.get("waiting", {})
        if waiting.get("reason") in BAD_WAITING:
            return f"{container['name']}: {waiting['reason']}: {waiting.get('message', '')}"
        terminated = state.get("terminated", {})
        if terminated and terminated.get("exitCode", 0) != 0:
            return f"{container['name']}: exited {terminated['exitCode']} ({terminated.get('reason', '')})"
        if container.get("restartCount", 0) > 0:
            return f"{container['name']}: restarted {container['restartCount']} time(s)"
    return ""


def hopeless_pods(kubectl: Kubectl, namespace: str, local_registry: str) -> list[str]:
    """Pods stuck in a state no amount of waiting fixes: a component image the node does not
    have (``local_registry`` is never pullable: its images are loaded with ``kind load``, so a
    pull means the pipeline references a tag that was not built), or a broken pod spec.
    Pull errors of other images (KFP's, from public registries) may be transient: not reported.
    """
    found = []
    for pod in kubectl.json("get", "pods", "-n", namespace)["items"]:
        status = pod.get("status", {})
        for container in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
            waiting = container.get("state", {}).get("waiting", {})
            reason = waiting.get("reason")
            ours = str(container.get("image", "")).startswith(f"{local_registry}/")
            if reason in HOPELESS_WAITING and (ours or reason not in PULL_ERRORS):
                found.append(
                    f"{pod['metadata']['name']}/{container['name']}: {waiting['reason']}: "
                    f"{waiting.get('message', '')} (image {container.get('image')})"
                )
    return found


def _best_effort(kubectl: Kubectl, *args: str) -> str:
    """``kubectl ARGS`` output, or why it could not be read (diagnostics never raise)."""
    try:
        result = kubectl(*args, timeout=30, check=False)
    except CommandError as exc:
        return f"({exc})"
    return result.stdout or result.stderr or "(no output)"


def diagnostics(kubectl: Kubectl, namespaces: Iterable[str], tail: int = 200) -> str:
    """Logs of every failed or stuck pod and the recent warning events, as one text.

    Best effort: a diagnostic that cannot be read is reported, never raised.
    """
    out: list[str] = []
    for namespace in namespaces:
        try:
            pods = kubectl.json("get", "pods", "-n", namespace)["items"]
        except (CommandError, ValueError) as exc:
            out.append(f"== {namespace}: cannot list pods: {exc}")
            continue
        for pod in pods:
            problem = pod_problem(pod)
            if not problem:
                continue
            name = pod["metadata"]["name"]
            out.append(f"== pod {namespace}/{name}: {problem}")
            status = pod.get("status", {})
            restarted = {
                c["name"]
                for c in status.get("containerStatuses", []) + status.get("initContainerStatuses", [])
                if c.get("restartCount", 0) > 0
            }
            spec = pod.get("spec", {})
            for container in spec.get("initContainers", []) + spec.get("containers", []):
                cname = container["name"]
                logs = ("logs", "-n", namespace, name, "-c", cname, f"--tail={tail}")
                out += [f"-- logs {name}/{cname}", _best_effort(kubectl, *logs)]
                if cname in restarted:
                    out += [f"-- previous logs {name}/{cname}", _best_effort(kubectl, *logs, "--previous")]
        events = (
            "get",
            "events",
            "-n",
            namespace,
            "--field-selector=type=Warning",
            "--sort-by=.lastTimestamp",
        )
        out += [f"== warning events in {namespace}", _best_effort(kubectl, *events)[-8000:]]
    return "\n".join(out)


def safe_name(text: str) -> str:
    """A file name from a test id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[-150:]
