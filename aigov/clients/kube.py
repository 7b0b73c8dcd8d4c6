"""A small synchronous Kubernetes API client for people's tools (the CLI, the evidence export).

Credentials come from a kubeconfig through the official client's loader (contexts,
client certificates, tokens, exec plugins); requests go through httpx, so every
call is a plain REST request whose failure is an `ApiError` carrying the API
server's own message (an RBAC refusal, an admission denial with its violation
code). Only the environment's kubeconfig is honoured: proxy variables are not,
as the kubeconfig's `proxy-url` says where a proxy is.

kubectl's connection habits hold: `--context`, `--cluster`, `--user` pick from
the kubeconfig, and impersonation (`--as`, `--as-group`, or the user entry's
`as`/`as-groups`) sends `Impersonate-*` headers, so the API server (and its
record policy) judges the impersonated identity.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import kubernetes
import yaml
from kubernetes.config import kube_config

from aigov.core.archive import ARCHIVE_PLURAL
from aigov.core.config import EXCEPTION_PLURAL, GROUP, PLURAL, VERSION

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
DEFAULT_NAMESPACE = "default"


class KubeRestError(Exception):
    """The cluster cannot be reached or the kubeconfig cannot be used."""


class ApiError(KubeRestError):
    """The API server refused a request; `message` is its own words."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """The error in a non-2xx response (a `Status` object, or whatever text came back)."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("kind") == "Status":
            return cls(response.status_code, str(body.get("reason") or ""), str(body.get("message") or ""))
        text = response.text.strip() or response.reason_phrase
        return cls(response.status_code, response.reason_phrase, text)

    def __str__(self) -> str:
        label = self.reason or "Error"
        return f"Error from server ({label}): {self.message}"


@dataclass(frozen=True)
class Target:
    """Which cluster, as whom, and the namespace to work in."""

    server: str
    namespace: str
    context: str | None


@dataclass(frozen=True)
class Connection:
    """kubectl's connection options: which kubeconfig entries, as whom, how long a request may take."""

    kubeconfig: Path | None = None
    context: str | None = None
    cluster: str | None = None
    user: str | None = None
    impersonate: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    timeout: float = 30.0


def kubeconfig_files(kubeconfig: Path | None) -> list[Path]:
    """The kubeconfig files kubectl reads: `--kubeconfig`, else `$KUBECONFIG`'s existing files, else ~/.kube/config."""
    if kubeconfig is not None:
        if not kubeconfig.is_file():
            raise KubeRestError(f"kubeconfig {kubeconfig} does not exist (--kubeconfig)")
        return [kubeconfig]
    listed = [Path(p).expanduser() for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        found = [p for p in listed if p.is_file()]
        if not found:
            raise KubeRestError(f"no kubeconfig: none of $KUBECONFIG's files exist ({', '.join(map(str, listed))})")
        return found
    default = Path("~/.kube/config").expanduser()
    if not default.is_file():
        raise KubeRestError(f"no kubeconfig: {default} does not exist (pass --kubeconfig or set $KUBECONFIG)")
    return [default]


def _loader(connection: Connection) -> Any:
    """The official client's kubeconfig loader, with kubectl's --context, --cluster and --user applied."""
    files = kubeconfig_files(connection.kubeconfig)
    for file in files:
        try:
            yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KubeRestError(f"kubeconfig {file} cannot be read as YAML: {exc}".splitlines()[0]) from exc
    # The official loader, which merges several files like kubectl does (private, hence no stubs).
    loader = kube_config._get_kube_config_loader(  # type: ignore[no-untyped-call]
        filename=os.pathsep.join(map(str, files)), active_context=connection.context
    )
    config = loader._config
    if connection.cluster:
        loader._cluster = config["clusters"].get_with_name(connection.cluster)["cluster"]
    if connection.user:
        loader._user = config["users"].get_with_name(connection.user)["user"]
    return loader


def _impersonation(connection: Connection, user_entry: Any) -> dict[str, list[str]]:
    """`Impersonate-*` headers: the flags win over the kubeconfig user's `as` and `as-groups`, as in kubectl."""
    entry = dict(user_entry.value) if user_entry is not None else {}
    user = connection.impersonate or entry.get("as")
    groups = list(connection.impersonate_groups) or list(entry.get("as-groups") or [])
    if groups and not user:
        raise KubeRestError("--as-group needs --as (a user to impersonate), as in kubectl")
    headers = {"Impersonate-User": [str(user)]} if user else {}
    if groups:
        headers["Impersonate-Group"] = [str(g) for g in groups]
    return headers


def _ssl_context(configuration: Any) -> ssl.SSLContext | bool:
    if not configuration.verify_ssl:
        return False
    ctx = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
    if configuration.cert_file:
        ctx.load_cert_chain(configuration.cert_file, configuration.key_file)
    return ctx


class KubeRest:
    """REST calls against one API server as one identity."""

    def __init__(
        self,
        http: httpx.Client,
        target: Target,
        configuration: Any = None,
        impersonation: Mapping[str, list[str]] | None = None,
    ) -> None:
        self._http = http
        self._configuration = configuration
        self._impersonation = dict(impersonation or {})
        self.target = target

    @classmethod
    def connect(cls, kubeconfig: Path | None = None, context: str | None = None, timeout: float = 30.0) -> KubeRest:
        """A client for `context` (default: current) of `kubeconfig` (default: `$KUBECONFIG`, ~/.kube/config)."""
        return cls.open(Connection(kubeconfig=kubeconfig, context=context, timeout=timeout))

    @classmethod
    def open(cls, connection: Connection) -> KubeRest:
        """A client for `connection`; every kubeconfig problem is a `KubeRestError` saying what and where."""
        try:
            loader = _loader(connection)
            current = loader.current_context
            namespace = (current.get("context") or {}).get("namespace") or DEFAULT_NAMESPACE
            configuration = kubernetes.client.Configuration()
            loader.load_and_set(configuration)
            verify = _ssl_context(configuration)
            impersonation = _impersonation(connection, loader._user)
        except (kubernetes.config.ConfigException, OSError, ssl.SSLError, KeyError, TypeError) as exc:
            raise KubeRestError(f"cannot use the kubeconfig: {exc}") from exc
        http = httpx.Client(
            base_url=configuration.host,
            verify=verify,
            timeout=connection.timeout or None,
            trust_env=False,
            proxy=configuration.proxy or None,
            headers={"Accept": "application/json", "User-Agent": "aigov-cli"},
        )
        return cls(http, Target(configuration.host, str(namespace), current.get("name")), configuration, impersonation)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> KubeRest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _headers(self) -> list[tuple[str, str]]:
        headers = [(key, value) for key, values in self._impersonation.items() for value in values]
        configuration = self._configuration
        if configuration is None:
            return headers
        if configuration.refresh_api_key_hook is not None:
            configuration.refresh_api_key_hook(configuration)
        token = configuration.get_api_key_with_prefix("BearerToken") or configuration.get_api_key_with_prefix(
            "authorization"
        )
        return [*headers, ("Authorization", token)] if token else headers

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """One API call; the decoded JSON answer, or `ApiError`/`KubeRestError`."""
        headers = self._headers()
        content = None
        if body is not None:
            headers.append(("Content-Type", content_type))
            content = json.dumps(body).encode()
        try:
            response = self._http.request(method, path, params=params, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise KubeRestError(f"cannot reach the API server at {self.target.server}: {exc}") from exc
        if response.is_error:
            raise ApiError.from_response(response)
        result: dict[str, Any] = response.json()
        return result

    def get(self, path: str) -> dict[str, Any]:
        """GET one object."""
        return self.request("GET", path)

    def list(self, path: str, **params: str) -> Iterator[dict[str, Any]]:
        """Every item of a list, page by page."""
        query = {"limit": "500", **params}
        while True:
            page = self.request("GET", path, params=query)
            yield from page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return
            query = {**query, "continue": token}

    def user_info(self) -> dict[str, Any]:
        """Who the API server authenticates this client as: a SelfSubjectReview's `userInfo` (username, groups)."""
        review = self.request(
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )
        info: dict[str, Any] = (review.get("status") or {}).get("userInfo") or {}
        if not info.get("username"):
            raise KubeRestError("the API server did not say who this kubeconfig authenticates as")
        return info

    def whoami(self) -> str:
        """The username the API server authenticates this client as (a SelfSubjectReview)."""
        return str(self.user_info()["username"])


def aisystems_path(namespace: str | None, name: str | None = None, subresource: str | None = None) -> str:
    """The REST path of AISystems: all namespaces, one namespace, one object or its subresource."""
    path = f"/apis/{GROUP}/{VERSION}"
    path += f"/namespaces/{namespace}/{PLURAL}" if namespace else f"/{PLURAL}"
    if name:
        path += f"/{name}"
        if subresource:
            path += f"/{subresource}"
    return path


def exceptions_path(namespace: str | None, name: str | None = None, subresource: str | None = None) -> str:
    """The REST path of AIGovExceptions: all namespaces, one namespace, one object or its subresource."""
    path = f"/apis/{GROUP}/{VERSION}"
    path += f"/namespaces/{namespace}/{EXCEPTION_PLURAL}" if namespace else f"/{EXCEPTION_PLURAL}"
    return path + "".join(f"/{part}" for part in (name, subresource) if part)


def archives_path(name: str | None = None) -> str:
    """The REST path of AISystemArchives (cluster-scoped), or of one."""
    return f"/apis/{GROUP}/{VERSION}/{ARCHIVE_PLURAL}" + (f"/{name}" if name else "")


def events_path(namespace: str | None) -> str:
    """The REST path of core/v1 Events in a namespace (or all)."""
    return f"/api/v1/namespaces/{namespace}/events" if namespace else "/api/v1/events"
