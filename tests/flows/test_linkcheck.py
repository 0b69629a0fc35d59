"""The link checker against a real link farm served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import base64
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flows.linkcheck import LinkChecker, LinkPolicy, LinkResult, classify_exception
from flows.proxy import parse_proxy
from sandbox.linkfarm import EXPECTED, LinkFarm
from sandbox.server import ThreadedServer
from tests.conftest import run_async
from tests.proxy import HttpProxy
from tests.tls import self_signed

LOOPBACK = ("127.0.0.0/8",)


def policy(**overrides: object) -> LinkPolicy:
    fields: dict[str, object] = {"allow_private": LOOPBACK, "timeout_s": 1.0, "retries": 1, "backoff_s": 0.05}
    fields.update(overrides)
    return LinkPolicy(**fields)  # type: ignore[arg-type]


def check_all(urls: list[str], link_policy: LinkPolicy) -> tuple[dict[str, LinkResult], LinkChecker]:
    async def run() -> tuple[dict[str, LinkResult], LinkChecker]:
        async with LinkChecker(link_policy) as checker:
            return await checker.check_all(urls), checker

    return run_async(run)


@pytest.fixture(scope="module")
def farm() -> Iterator[tuple[LinkFarm, str]]:
    links = LinkFarm(slow_s=0.2, hang_s=2.5, limit_per_s=2)
    with ThreadedServer(links) as server:
        yield links, server.base_url


@pytest.fixture(scope="module")
def every_kind(farm: tuple[LinkFarm, str]) -> dict[str, LinkResult]:
    _, base = farm
    urls = [f"{base}/{kind}/1" + (".pdf" if kind == "doc" else "") for kind in EXPECTED]
    results, _ = check_all(urls, policy())
    return {url.rsplit("/", 2)[1]: result for url, result in results.items()}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_kind_of_farm_link_is_classified_right(every_kind: dict[str, LinkResult], kind: str) -> None:
    result = every_kind[kind]
    expected = EXPECTED[kind]
    if expected == "ok":
        assert result.status == "ok", result
        assert result.error_class is None and result.http_status == 200
    else:
        assert result.status == "broken", result
        assert result.error_class == expected, result


def test_http_errors_keep_their_status_and_reason(every_kind: dict[str, LinkResult]) -> None:
    assert (every_kind["missing"].http_status, every_kind["missing"].message) == (404, "HTTP 404 Not Found")
    assert every_kind["gone"].http_status == 410
    assert every_kind["error"].http_status == 500


def test_the_whole_redirect_chain_is_recorded(every_kind: dict[str, LinkResult], farm: tuple[LinkFarm, str]) -> None:
    _, base = farm
    chain = every_kind["chain"]
    assert [(h.url, h.status) for h in chain.redirects] == [(f"{base}/chain/1", 302), (f"{base}/redirect/1", 301)]
    assert chain.final_url == f"{base}/ok/1"


def test_a_redirect_loop_ends_and_is_named(every_kind: dict[str, LinkResult]) -> None:
    loop = every_kind["loop"]
    assert loop.error_class == "redirect_loop" and len(loop.redirects) == 2
    assert "loop" in loop.message


def test_too_many_redirects_is_its_own_class(farm: tuple[LinkFarm, str]) -> None:
    _, base = farm
    results, _ = check_all([f"{base}/chain/2"], policy(max_redirects=1))
    assert results[f"{base}/chain/2"].error_class == "too_many_redirects"


def test_head_refused_or_lied_to_is_confirmed_with_get(farm: tuple[LinkFarm, str]) -> None:
    links, base = farm
    urls = [f"{base}/nohead/5", f"{base}/headlie/5", f"{base}/ok/5"]
    results, _ = check_all(urls, policy(soft_404=False, check_fragments=False))
    assert all(r.ok for r in results.values()), results
    assert results[urls[0]].method == results[urls[1]].method == "GET"
    assert links.count("/headlie/5", "HEAD") == 1 and links.count("/headlie/5", "GET") == 1
    assert links.count("/ok/5", "HEAD") == 1 and links.count("/ok/5", "GET") == 0, "HEAD was enough"


def test_files_are_asked_with_head_and_pages_read_once_with_get(farm: tuple[LinkFarm, str],
                                                                 every_kind: dict[str, LinkResult]) -> None:
    links, _ = farm
    assert every_kind["doc"].method == "HEAD" and links.count("/doc/1.pdf", "GET") == 0
    assert every_kind["ok"].method == "GET" and links.count("/ok/1", "HEAD") == 0


def test_a_transient_503_is_retried(farm: tuple[LinkFarm, str], every_kind: dict[str, LinkResult]) -> None:
    links, _ = farm
    assert every_kind["flaky"].ok
    assert links.count("/flaky/1") >= 2


def test_a_home_page_that_answers_unknown_paths_is_not_itself_a_soft_404(farm: tuple[LinkFarm, str]) -> None:
    _, base = farm
    results, _ = check_all([f"{base}/", f"{base}/nowhere/9"], policy())
    assert results[f"{base}/"].ok
    assert results[f"{base}/nowhere/9"].error_class == "soft_404"


def test_retry_after_is_waited_for(farm: tuple[LinkFarm, str]) -> None:
    links, base = farm
    urls = [f"{base}/limited/{n}" for n in range(10, 14)]
    before = sum(1 for (_, _, p) in links.hits if p.startswith("/limited/"))
    results, checker = check_all(urls, policy(per_host=4, timeout_s=5))
    assert all(r.ok for r in results.values()), results
    waits = [w for host in checker._hosts.values() for w in host.waits]
    assert waits and all(w == 1.0 for w in waits), "the 429's Retry-After: 1 was honoured"
    assert sum(links.hits[k] for k in links.hits if k[2].startswith("/limited/")) > before + len(urls)
    assert max(r.elapsed_ms for r in results.values()) >= 1000


def test_a_url_repeated_in_one_batch_is_fetched_once(farm: tuple[LinkFarm, str]) -> None:
    links, base = farm
    url = f"{base}/ok/40"
    results, _checker = check_all([url] * 40 + [url + "#section"] * 5, policy())
    assert results[url].ok and results[url + "#section"].ok
    assert links.count("/ok/40") == 1


def test_fragments_are_checked_against_the_page_ids(farm: tuple[LinkFarm, str]) -> None:
    _, base = farm
    results, _ = check_all([f"{base}/ok/3#section", f"{base}/ok/3#no-such-part"], policy())
    assert results[f"{base}/ok/3#section"].ok
    missing = results[f"{base}/ok/3#no-such-part"]
    assert missing.error_class == "fragment_missing" and "no-such-part" in missing.message


def test_private_and_loopback_targets_are_refused_unless_allowed(farm: tuple[LinkFarm, str]) -> None:
    links, base = farm
    url = f"{base}/ok/77"
    refused, _ = check_all([url], policy(allow_private=()))
    assert refused[url].status == "skipped" and refused[url].error_class == "private_address"
    assert "allow_private" in refused[url].message
    assert links.count("/ok/77") == 0, "nothing was sent to a refused address"
    allowed, _ = check_all([url], policy())
    assert allowed[url].ok


def test_a_redirect_into_a_range_not_allowed_is_refused(farm: tuple[LinkFarm, str]) -> None:
    _, base = farm
    results, _ = check_all([f"{base}/away/1"], policy(allow_private=("127.0.0.1/32",)))
    result = results[f"{base}/away/1"]
    assert result.error_class == "private_address" and result.final_url.startswith("http://127.0.0.2:")


def test_dns_failure_is_named() -> None:
    results, _ = check_all(["http://no-such-host.invalid/agenda"], policy())
    assert results["http://no-such-host.invalid/agenda"].error_class == "dns"


def test_refused_connection_is_named() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/form"
    results, _ = check_all([url], policy())
    assert results[url].error_class == "connect"


def test_an_untrusted_tls_certificate_is_a_finding_not_ignored(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with ThreadedServer(LinkFarm(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as server:
        url = f"{server.base_url}/ok/1"
        results, _ = check_all([url], policy())
    assert url.startswith("https://")
    assert results[url].status == "broken" and results[url].error_class == "tls"
    assert "certificate" in results[url].message


def test_a_site_with_a_trusted_certificate_is_checked_over_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert))
    with ThreadedServer(LinkFarm(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as server:
        urls = [f"{server.base_url}/ok/1#section", f"{server.base_url}/soft404/1", f"{server.base_url}/missing/1"]

        async def run() -> dict[str, LinkResult]:
            async with LinkChecker(policy(), verify=trusted) as checker:
                return await checker.check_all(urls)

        results = run_async(run)
    assert [results[u].error_class for u in urls] == [None, "soft_404", "http_status"]
    assert results[urls[0]].status == "ok" and results[urls[0]].http_status == 200


def test_mailto_and_tel_links_are_validated_not_contacted() -> None:
    urls = ["mailto:clerk@springfield.example?subject=Records", "mailto:clerk@", "tel:+1-555-010-0100",
            "tel:call-us", "javascript:void(0)"]
    results, checker = check_all(urls, policy())
    assert [results[u].status for u in urls] == ["ok", "broken", "ok", "broken", "skipped"]
    assert results["mailto:clerk@"].error_class == "invalid"
    assert results["javascript:void(0)"].error_class == "unsupported_scheme"
    assert checker.requests == 0


def test_known_results_are_returned_without_asking_again(farm: tuple[LinkFarm, str]) -> None:
    links, base = farm
    url = f"{base}/ok/55"
    first, _ = check_all([url], policy())

    async def again() -> tuple[dict[str, LinkResult], int]:
        async with LinkChecker(policy()) as checker:
            return await checker.check_all([url], known=first), checker.requests

    second, requests = run_async(again)
    assert requests == 0 and second[url].cached and second[url].ok
    assert links.count("/ok/55") == 1


def test_exceptions_are_classified_without_a_network() -> None:
    import httpx

    tls = httpx.ConnectError("handshake failed")
    tls.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate")
    assert classify_exception(tls)[0] == "tls"
    dns = httpx.ConnectError("lookup failed")
    dns.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert classify_exception(dns)[0] == "dns"
    assert classify_exception(httpx.ReadTimeout("slow"))[0] == "timeout"


def test_the_soft_404_probe_goes_before_the_hosts_links_not_yet_started() -> None:
    farm = LinkFarm(slow_s=0.05)
    with ThreadedServer(farm) as server:
        urls = [f"{server.base_url}/ok/first"] + [f"{server.base_url}/slow/{n}" for n in range(6)]
        results, _ = check_all(urls, policy(per_host=1))
    asked = [path for (_, _, path) in farm.hits]  # in the order the farm first saw each request
    probe = next(i for i, path in enumerate(asked) if path.startswith("/civicwatch-probe-"))
    # the first page's answer needs it: it goes right after the request already handed the
    # slot (/slow/0), before the five links still waiting (without priority it came last)
    assert asked[:2] == ["/ok/first", "/slow/0"] and probe == 2
    assert all(results[u].status == "ok" for u in urls)


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name that resolves to an allowed address, then (asked again) to one that is not."""
    allowed, elsewhere = LinkFarm(), LinkFarm()
    with ThreadedServer(allowed, host="127.0.0.2") as first, ThreadedServer(elsewhere, host="127.0.0.3",
                                                                            port=first.port):
        answers = iter(["127.0.0.2"] + ["127.0.0.3"] * 10)
        real = socket.getaddrinfo

        def rebinding(host: object, port: object, *args: object, **kwargs: object) -> object:
            if host == "rebind.invalid":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), int(str(port))))]
            return real(host, port, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        url = f"http://rebind.invalid:{first.port}/ok/1"
        results, _ = check_all([url], policy(allow_private=("127.0.0.2/32",)))
    assert results[url].ok
    assert allowed.count("/ok/1") == 1 and not elsewhere.hits, "nothing went to the second answer"


# -- through an HTTP proxy -------------------------------------------------------------
# Loopback never goes through a proxy, so the farm is asked for by a name only the proxy
# resolves (to 127.0.0.1), as a city proxy resolves names its clients' DNS does not know.


def through(proxy_url: str, **overrides: object) -> LinkPolicy:
    proxy = parse_proxy(proxy_url)
    return policy(http_proxy=proxy, https_proxy=proxy, **overrides)


def check_via(proxy: HttpProxy, urls: list[str], make_policy: Callable[[str], LinkPolicy] = through,
              verify: ssl.SSLContext | bool = True) -> dict[str, LinkResult]:
    async def run() -> dict[str, LinkResult]:
        async with proxy as proxy_url, LinkChecker(make_policy(proxy_url), verify=verify) as checker:
            return await checker.check_all(urls)

    return run_async(run)


def farm_proxy(**options: object) -> HttpProxy:
    return HttpProxy(names={"farm.invalid": "127.0.0.1"}, **options)  # type: ignore[arg-type]


def by_name(base: str) -> str:
    return base.replace("127.0.0.1", "farm.invalid")


def test_http_links_are_asked_through_the_proxy_by_their_whole_url(farm: tuple[LinkFarm, str]) -> None:
    links, base = farm
    proxy = farm_proxy()
    urls = [f"{by_name(base)}/ok/201", f"{by_name(base)}/missing/201"]
    results = check_via(proxy, urls)
    assert [results[u].error_class for u in urls] == [None, "http_status"]
    assert ("GET", urls[0]) in proxy.asked and links.count("/ok/201") == 1
    direct, _ = check_all(urls[:1], policy())
    assert direct[urls[0]].error_class == "dns", "only the proxy knows the name"


def test_https_links_are_tunnelled_and_their_certificates_still_checked(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, names=("farm.invalid",))
    with ThreadedServer(LinkFarm(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as server:
        urls = [f"{by_name(server.base_url)}/ok/1", f"{by_name(server.base_url)}/soft404/1"]
        trusted = check_via(farm_proxy(), urls, verify=ssl.create_default_context(cafile=str(cert)))
        proxy = farm_proxy()
        untrusted = check_via(proxy, urls[:1])
    assert [trusted[u].error_class for u in urls] == [None, "soft_404"]
    assert untrusted[urls[0]].error_class == "tls", "the tunnel does not hide the site's certificate"
    assert proxy.asked[0] == ("CONNECT", f"farm.invalid:{server.port}")


def test_the_private_address_guard_holds_through_the_proxy() -> None:
    proxy = HttpProxy()
    url = "http://10.255.255.1/intranet"
    results = check_via(proxy, [url], lambda proxy_url: through(proxy_url, allow_private=()))
    assert results[url].error_class == "private_address" and not proxy.asked


def test_no_proxy_hosts_and_loopback_are_reached_directly(farm: tuple[LinkFarm, str]) -> None:
    _, base = farm
    proxy = farm_proxy()
    urls = [f"{by_name(base)}/ok/204", f"{base}/ok/204"]
    results = check_via(proxy, urls, lambda proxy_url: through(proxy_url, no_proxy=("farm.invalid",)))
    assert results[urls[0]].error_class == "dns" and results[urls[1]].ok and not proxy.asked


def test_a_proxy_that_is_down_leaves_links_unchecked_not_broken() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    url = "https://www.springfield.invalid/agenda"
    results, _ = check_all([url], through(dead))
    assert results[url].status == "skipped" and results[url].error_class == "proxy"
    assert f"the proxy {dead} cannot be reached" in results[url].message


def test_what_the_proxy_refuses_is_unchecked_and_what_it_cannot_reach_is_broken() -> None:
    forbidden, gone = "https://forbidden.invalid/x", "https://gone.invalid/x"
    results = check_via(HttpProxy(refuse={"forbidden.invalid": 403, "gone.invalid": 502}), [forbidden, gone])
    assert (results[forbidden].status, results[forbidden].error_class) == ("skipped", "proxy")
    assert "403" in results[forbidden].message
    assert (results[gone].status, results[gone].error_class) == ("broken", "connect")


def test_proxy_credentials_are_sent_and_their_absence_is_named(farm: tuple[LinkFarm, str]) -> None:
    _, base = farm
    wanted = b"Basic " + base64.b64encode(b"linkcheck:s3cret pass")
    urls = [f"{by_name(base)}/ok/205", f"{by_name(base)}/ok/206", "https://secure.invalid/x"]
    without = check_via(farm_proxy(require=wanted), [urls[0], urls[2]])
    for url in (urls[0], urls[2]):  # asked by URL (HTTP 407), and for a tunnel (CONNECT answered 407)
        assert without[url].error_class == "proxy" and "credentials" in without[url].message
    proxy = farm_proxy(require=wanted)
    with_them = check_via(proxy, urls[1:], lambda url: through(url.replace("://", "://linkcheck:s3cret%20pass@")))
    assert with_them[urls[1]].ok and proxy.authorizations[-1] == wanted
