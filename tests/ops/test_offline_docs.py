"""/docs and /redoc work without the Internet: every asset they load is served by Círculo."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest

from tests.conftest import Api


@pytest.mark.parametrize(("page", "script"), [("/docs", "swagger-ui-bundle.js"),
                                              ("/redoc", "redoc.standalone.js")])
def test_the_api_docs_load_only_local_assets(api: Api, page: str, script: str) -> None:
    html = api.client.get(page)
    assert html.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html.text)
    assert any(url.endswith(script) for url in urls), urls
    for url in urls:
        assert not re.match(r"(?i)^(https?:)?//", url), f"{page} loads {url} from elsewhere"
        asset = api.client.get(urljoin(f"http://testserver{page}", url))
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    assert "fonts.googleapis.com" not in html.text
