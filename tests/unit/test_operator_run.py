"""The operator's start-up pieces: kopf settings, credentials handed to kopf, quiet wake-up watchers."""

from __future__ import annotations

import logging

import kubernetes

from aigov.core.config import Config
from aigov.operator.kube import connection_info
from aigov.operator.run import FINALIZER, REPORTING_COMPONENT, Options, _QuietWakers, settings


def test_settings_carry_aigov_names_and_the_given_priority() -> None:
    chosen = settings(Options(config=Config(), priority=7))
    assert chosen.persistence.finalizer == FINALIZER
    assert chosen.posting.reporting_component == REPORTING_COMPONENT
    assert chosen.posting.loggers is False
    assert chosen.peering.priority == 7


def test_replicas_without_a_priority_draw_distinct_ones() -> None:
    drawn = {settings(Options(config=Config())).peering.priority for _ in range(20)}
    assert len(drawn) > 1 and all(p > 0 for p in drawn)


def test_kopf_gets_the_client_certificate_and_ca() -> None:
    configuration = kubernetes.client.Configuration(host="https://127.0.0.1:6443")
    configuration.ssl_ca_cert, configuration.cert_file, configuration.key_file = "/ca.crt", "/me.crt", "/me.key"
    info = connection_info(configuration)
    assert (info.server, info.ca_path, info.insecure) == ("https://127.0.0.1:6443", "/ca.crt", False)
    assert (info.certificate_path, info.private_key_path) == ("/me.crt", "/me.key")
    assert (info.scheme, info.token) == (None, None)


def test_kopf_gets_the_bearer_token() -> None:
    configuration = kubernetes.client.Configuration(host="https://k8s", api_key={"BearerToken": "t0k3n"})
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    configuration.verify_ssl = False
    info = connection_info(configuration)
    assert (info.scheme, info.token, info.insecure) == ("Bearer", "t0k3n", True)


def test_only_the_wake_up_watchers_success_lines_are_dropped() -> None:
    quiet = _QuietWakers()

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("kopf.objects", logging.INFO, __file__, 1, message, None, None)

    assert not quiet.filter(record("Handler 'wake-reconciler' succeeded."))
    assert not quiet.filter(record("Handler 'wake-bound-system' succeeded."))
    assert quiet.filter(record("Handler 'wake-reconciler' failed with an exception. Will ignore."))
    assert quiet.filter(record("Daemon 'reconciler' succeeded."))
