"""More ways out of the preview server's output folder, beyond the cases in test_serve.py.

Encodings a path normaliser may decode once too often or not at all, absolute request targets,
and the build's own folders beside the output (sources, the previous build kept as a spare).
One server answers them all; each must be refused (400) or not found (404), leaking nothing.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import new_site
from test_serve import raw_get, start_server

# Text that only the files outside the output folder hold.
SECRETS = ("base_url:", "root:x:", "last_reviewed: 2026")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    served = start_server(new_site(tmp_path_factory.mktemp("traversal") / "site"))
    yield served
    served.stop()


@pytest.mark.parametrize("target", [
    "/%252e%252e/config.yaml",  # encoded twice
    "/%252e%252e%252fconfig.yaml",
    "/%c0%ae%c0%ae/config.yaml",  # overlong UTF-8 for '.'
    "/..%c0%afconfig.yaml",  # overlong UTF-8 for '/'
    "/..%ef%bc%8fconfig.yaml",  # a fullwidth solidus
    "/%u002e%u002e/config.yaml",
    "/..;/config.yaml",
    "/./../config.yaml",
    "/topic-a/%2e%2e/%2e%2e/config.yaml",
    "/%2e%2e%5c%2e%2e%5cconfig.yaml",
    "/index.html%00/../../config.yaml",
    "/" + "../" * 200 + "etc/passwd",
    "http://127.0.0.1/../config.yaml",  # an absolute request target
    "http://127.0.0.1/%2e%2e/content/_disclaimer.md",
    "/../content/topic-a/first.md",
    "/%2e%2e/content/_disclaimer.md",
    "/../.medsite-_site.spare/index.html",
    "/%2e%2e/.medsite-cache/",
])
def test_an_encoded_or_unusual_escape_is_refused(server, target):
    status, body = raw_get(server.port, target)
    assert status in (400, 404), (status, body[:200])
    assert not [secret for secret in SECRETS if secret in body]


def test_the_pages_inside_are_served_and_the_secrets_are_real_as_a_control(server):
    status, body = raw_get(server.port, "/topic-a/first/")
    assert status == 200 and "<h1>First article</h1>" in body
    outside = (Path(server.folder) / "config.yaml").read_text(encoding="utf-8") \
        + (Path(server.folder) / "content" / "topic-a" / "first.md").read_text(encoding="utf-8")
    assert "base_url:" in outside and "last_reviewed: 2026" in outside
