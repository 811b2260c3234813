"""The account-API client against a real local HTTP server (tests.fake_account): paging,
the documented request shapes, every error status as one true sentence, a server that
never answers, garbage, and where calls go."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_account import OPERATOR, OWNER, VIEWER, FakeAccount
from tui.core.roles import Role, RoleLookupError, find, ordered, summarize
from tui.services.account import (
    DEFAULT_ACCOUNT_API,
    ENV_ACCOUNT_API,
    AccountError,
    AccountUrlError,
    ErrorKind,
    client_for,
    for_issuing,
    parse_base_url,
    resolve,
)
from tui.services.account.http import HttpAccountClient
from tui.services.store import Store

NOW = int(time.time())


@pytest.fixture
def fake_account() -> Iterator[FakeAccount]:
    with FakeAccount() as server:
        yield server


def client(server: FakeAccount, key: str | None = None, **kw) -> HttpAccountClient:
    kw.setdefault("timeout", 2)
    kw.setdefault("backoff", 0.01)
    return client_for(key or server.acting_key(), acting="ops admin", base_url=server.url, **kw)


def one_sentence(text: str) -> None:
    assert text and "\n" not in text and len(text) < 400
    assert "Traceback" not in text


# ---- listing ------------------------------------------------------------------------------

def test_list_keys_reads_every_page(fake_account: FakeAccount):
    api = client(fake_account)
    fake_account.add_keys(249)  # + the acting key: 250
    pages: list[int] = []
    keys = api.list_keys(on_page=pages.append)
    assert len(keys) == 250 and len({k.key_id for k in keys}) == 250
    assert pages == [100, 200, 250]
    calls = fake_account.calls("GET", "/api-keys")
    assert len(calls) == 3
    assert [c.query.get("next_token") for c in calls] == [None, ["page:100"], ["page:200"]]
    assert all(c.query["limit"] == ["100"] for c in calls)
    assert all(c.headers["Authorization"] == api._api_key for c in calls)
    first = next(k for k in keys if k.description == "svc 0000")
    assert first.role_id == VIEWER and first.expires_at and first.issued_at and first.account_id


def test_list_roles_every_page_and_by_type(fake_account: FakeAccount):
    for i in range(120):
        fake_account.add_role(f"custom {i:03d}", {"type": "cache", "actions": ["read"], "caches": [{"name": f"c{i}"}]})
    api = client(fake_account)
    roles = api.list_roles()
    assert len(roles) == 123 and len(fake_account.calls("GET", "/roles")) == 2
    assert [r.role_name for r in api.list_roles("system")] == ["Owner", "Operator", "Viewer"]
    assert fake_account.calls("GET", "/roles")[-1].query["type"] == ["system"]
    assert len(api.list_roles("custom")) == 120
    with pytest.raises(ValueError):
        api.list_roles("everything")  # type: ignore[arg-type]


def test_roles_order_summary_and_lookup(fake_account: FakeAccount):
    fake_account.add_role("Orders writer", {"type": "cache", "actions": ["write", "read"], "caches": "*"},
                          {"type": "topic", "actions": ["read"], "caches": "*", "topics": {"prefix": "orders/"}},
                          role_id="role-orders")
    fake_account.add_role("auditor", {"type": "account_management", "actions": ["read", "list"]})
    roles = client(fake_account).list_roles()
    names = [r.role_name for r in ordered(reversed(roles))]
    assert names == ["Owner", "Operator", "Viewer", "auditor", "Orders writer"]
    orders = find(roles, "orders WRITER")
    assert orders.role_id == "role-orders" and find(roles, "role-orders") is orders
    assert summarize(orders) == "caches: read, write on *; topics: read on orders/*"
    assert "auth: read, write, list on *" in summarize(find(roles, "owner"))
    with pytest.raises(RoleLookupError, match="Owner, Operator, Viewer"):
        find(roles, "superuser")
    twins = [Role("a", "Same", "custom"), Role("b", "same", "custom")]
    with pytest.raises(RoleLookupError, match="give its id"):
        find(twins, "SAME")


def test_summary_reads_other_rule_spellings():
    role = Role("r", "x", "custom", permissions={"rules": [
        {"function": {"actions": ["invoke"], "caches": [{"name": "c1"}], "functions": {"prefix": "f-"}}},
        {"type": "store", "permissions": ["read"], "stores": {"name": "s"}, "items": {"key_prefix": "user:"}},
        "junk", {"nothing": 1, "else": 2}],
        "conditions": [{"ip_filter": {"allowed_cidr_ranges": ["10.0.0.0/8"]}}]})
    assert summarize(role) == ("functions: invoke on f-* in caches c1; stores: read on s items user:*; "
                               "only from 10.0.0.0/8")
    assert summarize(Role("e", "empty", "custom")) == "no rules"


# ---- creating and revoking ----------------------------------------------------------------------

def test_create_key_sends_exactly_the_documented_body(fake_account: FakeAccount):
    api = client(fake_account)
    created = api.create_key(OPERATOR, "orders-api prod", NOW + 30 * 86400)
    [call] = fake_account.calls("POST", "/api-keys")
    assert call.body == {"role_id": OPERATOR, "description": "orders-api prod", "expiry": NOW + 30 * 86400}
    assert call.headers["Content-Type"] == "application/json" and call.headers["Authorization"] == api._api_key
    assert created.key_info is not None and created.oddities == ()
    assert created.key_info.role_id == OPERATOR and created.key_info.expires_at == NOW + 30 * 86400
    assert created.api_key in fake_account.secrets and "api_key" not in repr(created)
    api.create_key(VIEWER, "", "never")
    assert fake_account.calls("POST", "/api-keys")[-1].body == {"role_id": VIEWER, "description": "",
                                                                 "expiry": "never"}
    for bad in (0, -5, True, "soon", 1.5):
        with pytest.raises(ValueError):
            api.create_key(VIEWER, "x", bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        api.create_key("", "x", "never")
    assert len(fake_account.calls("POST")) == 2  # refused arguments never reach the server


@pytest.mark.parametrize("body, odd", [
    ({"api_key": "K"}, "no key_info"),
    ({"api_key": "K", "key_info": {"key_id": 5}}, "odd key_info"),
    ({"api_key": "K", "key_info": "yes"}, "odd key_info"),
])
def test_a_created_key_is_never_dropped_for_an_odd_key_info(fake_account: FakeAccount, body, odd):
    key = fake_account.issue(VIEWER)[0]  # a real key string, so the hygiene scan knows it
    body = {**body, "api_key": key}
    fake_account.garbage(body=body, method="POST")
    created = client(fake_account).create_key(VIEWER, "d", "never")
    assert created.api_key == key and created.key_info is None
    assert any(odd in o for o in created.oddities)
    generated, v2 = for_issuing(created, "cell-1.example", role_id=VIEWER, description="d")
    assert generated.expiry_known is False and generated.valid_until is None
    assert v2.role_id == VIEWER and v2.key_id is None


def test_revoke_sends_one_delete_and_404_is_already_gone(fake_account: FakeAccount):
    api = client(fake_account)
    key_id = api.create_key(VIEWER, "x", "never").key_info.key_id  # type: ignore[union-attr]
    assert api.revoke_key(key_id) == "revoked"
    assert [c.path for c in fake_account.calls("DELETE")] == [f"/api-keys/{key_id}"]
    assert api.revoke_key(key_id) == "gone"
    assert api.revoke_key("a/b c") == "gone"
    assert fake_account.calls("DELETE")[-1].path == "/api-keys/a%2Fb%20c"  # quoted: one path segment
    assert fake_account.deleted == [key_id]


# ---- errors: one true sentence each -------------------------------------------------------------

@pytest.mark.parametrize("status, kind, words", [
    (400, ErrorKind.BAD_REQUEST, "invalid request"),
    (401, ErrorKind.UNAUTHENTICATED, "rejected 'ops admin'"),
    (403, ErrorKind.FORBIDDEN, "'ops admin' lacks auth-management access"),
    (404, ErrorKind.NOT_FOUND, "found nothing"),
    (409, ErrorKind.CONFLICT, "conflict"),
    (500, ErrorKind.SERVER, "server error (HTTP 500)"),
    (503, ErrorKind.SERVER, "server error (HTTP 503)"),
])
def test_each_error_status_is_one_true_sentence(fake_account: FakeAccount, status, kind, words):
    api = client(fake_account)
    fake_account.fail(status, times=3, body={"code": "X", "message": f"server says {status} " + api._api_key})
    with pytest.raises(AccountError) as caught:
        api.list_keys()
    err = caught.value
    assert err.kind is kind and err.status == status
    assert words in str(err)
    one_sentence(str(err))
    assert api._api_key not in str(err) and api._api_key not in repr(err)  # the server echoed it: scrubbed
    if status not in (401, 403):
        assert f"server says {status}" in str(err)
    # 503 is retried once (a gateway hiccup) for calls that change nothing; the rest are not
    assert len(fake_account.calls("GET")) == (2 if status == 503 else 1)


def test_401_and_403_name_the_acting_key(fake_account: FakeAccount):
    unknown = client_for("not-a-key-the-account-knows", acting="ci key", base_url=fake_account.url, timeout=2)
    with pytest.raises(AccountError, match=r"rejected 'ci key'.*invalid or expired") as caught:
        unknown.list_keys()
    assert caught.value.status == 401
    viewer = client_for(fake_account.acting_key(VIEWER), acting="read-only key", base_url=fake_account.url,
                        timeout=2)
    with pytest.raises(AccountError, match="'read-only key' lacks auth-management access") as caught:
        viewer.create_key(VIEWER, "x", "never")
    assert caught.value.kind is ErrorKind.FORBIDDEN and not caught.value.outcome_unknown


def test_429_is_retried_a_few_times_then_said(fake_account: FakeAccount):
    api = client(fake_account, retries=3, backoff=0.01)
    fake_account.fail(429, times=2)
    assert len(api.list_keys()) == 1            # two throttled answers, then served
    assert len(fake_account.calls("GET")) == 3
    fake_account.fail(429, times=10, headers={"Retry-After": "0"})
    started = time.perf_counter()
    with pytest.raises(AccountError) as caught:
        api.list_keys()
    assert time.perf_counter() - started < 2
    assert caught.value.kind is ErrorKind.THROTTLED and caught.value.status == 429 and caught.value.transient
    assert "still was after 4 tries" in str(caught.value)
    one_sentence(str(caught.value))
    fake_account.faults.clear()
    fake_account.fail(429, times=1, method="POST")  # throttled means not served: a create may repeat
    assert api.create_key(VIEWER, "x", "never").key_info is not None
    assert len(fake_account.calls("POST")) == 2


def test_a_server_that_never_answers_times_out_within_the_timeout(fake_account: FakeAccount):
    api = client(fake_account, timeout=0.5)
    fake_account.hang()
    started = time.perf_counter()
    with pytest.raises(AccountError) as caught:
        api.list_keys()
    assert time.perf_counter() - started < 1.5
    assert caught.value.kind is ErrorKind.TIMEOUT and "did not answer within 0.5 s" in str(caught.value)
    one_sentence(str(caught.value))
    assert len(api.list_keys()) == 1  # the next call works on a new connection
    fake_account.hang(method="POST")
    with pytest.raises(AccountError) as caught:
        api.create_key(VIEWER, "x", "never")
    assert caught.value.outcome_unknown and "may have been created anyway: sync to see it" in str(caught.value)
    assert len(fake_account.calls("POST")) == 1  # never repeated


@pytest.mark.parametrize("body, detail", [
    (b"<html>oops</html>", "not JSON (text/html, 17 bytes)"),
    ({"key_info": "all of them"}, "key_info is not a list"),
    ({"key_info": [{"key_id": "k", "role_id": "r", "expires_at_epoch_seconds": "soon"}]}, "not a number"),
    ({"key_info": [{"role_id": "r"}]}, "has no key_id"),
    ([1, 2], "not a JSON object"),
])
def test_an_answer_that_does_not_fit_is_a_clear_unexpected_answer(fake_account: FakeAccount, body, detail):
    fake_account.garbage(body=body)
    with pytest.raises(AccountError) as caught:
        client(fake_account).list_keys()
    assert caught.value.kind is ErrorKind.BAD_ANSWER and detail in str(caught.value)
    assert str(caught.value).startswith("unexpected answer from the account API at http://127.0.0.1:")
    one_sentence(str(caught.value))


def test_a_post_answer_without_a_key_may_have_made_one(fake_account: FakeAccount):
    fake_account.garbage(body={"key_info": {}}, method="POST")
    with pytest.raises(AccountError) as caught:
        client(fake_account).create_key(VIEWER, "x", "never")
    assert caught.value.kind is ErrorKind.BAD_ANSWER and caught.value.outcome_unknown
    assert "no api_key" in str(caught.value) and "sync to see it" in str(caught.value)


def test_a_page_token_that_repeats_ends_the_listing(fake_account: FakeAccount):
    fake_account.garbage(body={"key_info": [], "next_token": "again"}, times=5)
    with pytest.raises(AccountError, match="same next_token came back twice"):
        client(fake_account).list_keys()


def test_connection_refused_is_unreachable():
    api = client_for("k" * 40, acting="x", base_url="http://127.0.0.1:9", timeout=1)
    with pytest.raises(AccountError) as caught:
        api.list_keys()
    assert caught.value.kind is ErrorKind.UNREACHABLE and caught.value.status is None
    assert str(caught.value) == ("cannot reach the account API at http://127.0.0.1:9 while listing API keys: "
                                 "connection refused")


def test_a_kept_alive_connection_the_server_dropped_is_retried_once(fake_account: FakeAccount):
    api = client(fake_account)
    api.list_keys()
    assert api._conn is not None
    fake_account.drop_connections()  # the server closes it while idle
    assert len(api.list_keys()) == 1
    assert len(fake_account.calls("GET")) == 2


# ---- where calls go ------------------------------------------------------------------------------

def test_base_url_default_env_and_argument(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(ENV_ACCOUNT_API, raising=False)
    default = resolve()
    assert default.text == DEFAULT_ACCOUNT_API and default.scheme == "https" and not default.overridden
    assert default.where == "Momento's account API"
    monkeypatch.setenv(ENV_ACCOUNT_API, "http://127.0.0.1:8080/")
    assert resolve().text == "http://127.0.0.1:8080" and resolve().overridden
    assert resolve("http://[::1]:9000").text == "http://[::1]:9000"  # the argument wins
    monkeypatch.setenv(ENV_ACCOUNT_API, "127.0.0.1:8080")
    with pytest.raises(AccountUrlError, match=f"^{ENV_ACCOUNT_API}: the account API must look like"):
        resolve()
    for bad in ("ftp://x", "http://user:pw@host:1", "http://host:1/path", "http://host:99999", "http://"):
        with pytest.raises(AccountUrlError):
            parse_base_url(bad)
    with pytest.raises(AccountUrlError, match="only reached over HTTPS"):
        parse_base_url("http://mga.example", overridden=False)
    assert "secret" not in repr(client_for("secret" * 8, acting="a", base_url="http://h:1"))


def test_the_environment_override_sends_calls_to_the_local_server(fake_account: FakeAccount,
                                                                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_ACCOUNT_API, fake_account.url)
    api = client_for(fake_account.acting_key(), acting="a")
    assert api.base_url == fake_account.url and len(api.list_keys()) == 1


def test_check_and_list_never_import_the_account_client(tmp_path: Path):
    db = tmp_path / "keys.db"
    Store(db).close()
    probe = (
        "import sys\n"
        "from tui.cli import main\n"
        f"for argv in (['--db', {str(db)!r}, 'check'], ['list', '--json', '--db', {str(db)!r}]):\n"
        "    assert main(argv) == 0\n"
        "bad = ('tui.services.account', 'tui.services.sync', 'http.client', 'ssl')\n"
        "print('LOADED=' + ','.join(m for m in bad if m in sys.modules), file=sys.stderr)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "MOMENTO_KEYS_CONFIG": str(tmp_path / "missing.toml"), "TZ": "UTC"}
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60,
                       cwd=Path(__file__).resolve().parent.parent)
    assert p.returncode == 0, p.stderr
    assert "LOADED=\n" in p.stderr, p.stderr


def test_the_fake_answers_in_the_documented_shapes(fake_account: FakeAccount):
    """The fake itself: raw HTTP, so the client's reading of it is not what is tested."""
    import http.client as hc

    key = fake_account.acting_key()
    conn = hc.HTTPConnection("127.0.0.1", fake_account.port, timeout=2)
    conn.request("POST", "/api-keys", body=json.dumps({"role_id": VIEWER, "description": "d", "expiry": "never"}),
                 headers={"Authorization": key, "Content-Type": "application/json"})
    doc = json.loads(conn.getresponse().read())
    assert set(doc) == {"api_key", "key_info"}
    assert set(doc["key_info"]) == {"key_id", "account_id", "description", "role_id", "issued_at_epoch_seconds"}
    conn.request("GET", "/api-keys?limit=1", headers={"Authorization": key})
    page = json.loads(conn.getresponse().read())
    assert len(page["key_info"]) == 1 and page["next_token"]
    conn.request("GET", "/api-keys?limit=101", headers={"Authorization": key})
    response = conn.getresponse()
    assert response.status == 400 and set(json.loads(response.read())) == {"code", "message"}
    conn.close()
    assert OWNER in {r["role_id"] for r in fake_account.roles}
