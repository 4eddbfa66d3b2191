#!/usr/bin/env python3
"""Heroku Connect API calls as its client libraries make them, for hc_api_test.sh.

Each command does what one client does, with the same paths, query strings, headers and the
same reading of the answer (the clients' code is cited), and fails the way that client fails:
  django-heroku-connect (thermondo): heroku_connect/utils.py, contrib/heroku_connect_health_check,
      management/commands/import_mappings.py, models.py (the write mode TriggerLog.redo needs)
  heroku-connect-plugin (the `heroku connect:*` CLI): src/lib/clients/{discovery,connect}.ts,
      src/lib/connect/api.ts, src/commands/connect/{info,export,mapping/reload}.ts
  terraform-provider-herokux: api/connect/{connect,connection,mapping}.go (typed decoding)
Standard library only (urllib), so that the test needs nothing but python3.
"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class HTTPError(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status}: {body[:300]}")
        self.status = status
        self.body = body


def call(method, url, token, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        raise HTTPError(e.code, e.read().decode()) from None


# --- django-heroku-connect -------------------------------------------------------------------

OK_STATES = ("IDLE", "POLLING_DB_CHANGES", "IMPORT_CONFIGURATION", "BUSY")
MAPPING_ERROR_STATES = ("INITIAL", "SCHEMA_CHANGED", "RECOVERY", "BULK_LOAD_ERROR", "SYSTEM_ERROR",
                        "DB_UNAVAILABLE", "BAD_CONFIG", "SYNC_REMOVED", "INACTIVE_ORG",
                        "UNAUTHORIZED")


def get_connections(endpoint, token, app):
    # requests.get(os.path.join(endpoint, "connections"), params={"app": app}).json()["results"]
    url = endpoint + "/connections?" + urllib.parse.urlencode({"app": app})
    return json.loads(call("GET", url, token)[1])["results"]


def get_connection(endpoint, token, connection_id, deep=False):
    # params={"deep": deep}: requests writes Python's True/False
    url = f"{endpoint}/connections/{connection_id}?deep={deep}"
    return json.loads(call("GET", url, token)[1])


def django_health(endpoint, token, app):
    """HerokuConnectHealthCheck.check_status: the errors it would add."""
    try:
        connections = get_connections(endpoint, token, app)
    except (HTTPError, OSError, ValueError):
        return ["Unable to retrieve connection state"]
    errors = []
    for c in connections:
        if c["state"] not in OK_STATES:
            errors.append(f"Connection state for '{c['name']}' is '{c['state']}'")
        detail = get_connection(endpoint, token, c["id"], deep=True)
        for m in detail["mappings"]:
            if m["state"] in MAPPING_ERROR_STATES:
                errors.append(f"mapping {m['object_name']} on connection {c['name']} is in "
                              f"state {m['state']}")
    return errors


def django_write_mode(endpoint, token, app):
    """get_unique_connection_write_mode: one mode for every connection, or ValueError."""
    (mode,) = {
        "ORDERED_WRITES" if c.get("features", {}).get("poll_db_no_merge") else "MERGE_WRITES"
        for c in get_connections(endpoint, token, app)
    }
    return mode


def django_import(endpoint, token, app, path, wait_interval):
    """manage.py import_mappings --wait: one connection, the import, then wait while importing."""
    connections = get_connections(endpoint, token, app)
    if len(connections) != 1:
        raise SystemExit(f"expected one connection, got {len(connections)}")
    connection_id = connections[0]["id"]
    with open(path) as f:
        mapping = json.load(f)
    status, body = call("POST", f"{endpoint}/connections/{connection_id}/actions/import", token,
                        mapping)
    if status // 100 != 2:
        raise SystemExit(f"Failed to upload the mapping: {status}")
    states = []
    deadline = time.monotonic() + 300  # django's --wait has none; a test must end
    while True:
        state = get_connection(endpoint, token, connection_id)["state"]
        states.append(state)
        if state != "IMPORT_CONFIGURATION":
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"still IMPORT_CONFIGURATION after 300 s: {states[-3:]}")
        time.sleep(wait_interval)  # the poll's interval, as import_mappings --wait-interval
    return status, body, states


# --- heroku-connect-plugin (the CLI) -----------------------------------------------------------

CLI_HEADERS = {"Heroku-Client": "cli"}


def cli_connection(discovery, token, app):
    """withConnection: the search, exactly one result, then its detail_url?deep=true, merged."""
    _, body = call("GET", f"{discovery}/connections?app={app}", token, headers=CLI_HEADERS)
    results = json.loads(body)["results"]
    if len(results) != 1:
        raise SystemExit("No connection(s) found" if not results else "Multiple connections found")
    entry = results[0]
    _, body = call("GET", entry["detail_url"] + "?deep=true", token, headers=CLI_HEADERS)
    return {**entry, **json.loads(body)}


def cli_request(connection, method, path, token, body=None):
    if not connection.get("region_url"):
        raise SystemExit("Must provide region URL")
    return call(method, connection["region_url"].rstrip("/") + path, token, body, CLI_HEADERS)


def cli_info(discovery, token, app):
    c = cli_connection(discovery, token, app)
    lines = [f"Connection [{c['id']}] / {c['resource_name']} ({c['state']})"]
    if len(c["mappings"]) == 0:
        lines.append("No mappings")
    for m in c["mappings"]:
        lines.append(f"{m['object_name']} {m['state']}")
    return lines


def cli_mapping(connection, object_name):
    for m in connection["mappings"]:
        if m["object_name"].lower() == object_name.lower():
            return m
    raise SystemExit(f"No mapping configured for {object_name}")


def cli_reload(discovery, token, app, object_name):
    c = cli_connection(discovery, token, app)
    m = cli_mapping(c, object_name)
    status, body = cli_request(c, "POST", f"/api/v3/mappings/{m['id']}/actions/reload", token)
    if status != 202:  # connect:mapping:reload insists on 202
        raise SystemExit(json.loads(body or "{}").get("message", "unknown error"))
    return status


def cli_export(discovery, token, app):
    c = cli_connection(discovery, token, app)
    _, body = cli_request(c, "GET", f"/api/v3/connections/{c['id']}/actions/export", token)
    return json.loads(body)


# --- terraform-provider-herokux ------------------------------------------------------------------

def check_types(obj, spec, where):
    """Go's encoding/json fails the whole decode on a wrong type: check each typed field."""
    for key, kind in spec.items():
        if key in obj and obj[key] is not None and not isinstance(obj[key], kind):
            raise SystemExit(f"{where}.{key}: {type(obj[key]).__name__}, Go wants {kind}")


def herokux_read(central, token, app):
    _, body = call("POST", f"{central}/auth/{app}", token)
    connections = json.loads(body)["connections"]
    c = connections[0]
    check_types(c, {"id": str, "region_url": str}, "connections[]")
    # SetRootAPIBaseURL: plain concatenation, so region_url must not end with "/"
    if c["region_url"].endswith("/"):
        raise SystemExit("region_url ends with /")
    _, body = call("GET", c["region_url"] + "/api/v3/connections/" + c["id"] + "?deep=true", token)
    detail = json.loads(body)
    check_types(detail, {"id": str, "name": str, "addon_id": str, "app_name": str,
                         "schema_name": str, "db_key": str, "state": str, "detail_url": str,
                         "resource_name": str, "internal_name": str, "features": dict,
                         "mappings": list}, "connection")
    for k, v in detail.get("features", {}).items():
        if v is not None and not isinstance(v, bool):
            raise SystemExit(f"features.{k} is not a bool")
    for m in detail["mappings"]:
        check_types(m, {"id": str, "object_name": str, "state": str, "access": str,
                        "sf_notify_enabled": bool, "sf_polling_seconds": int, "config": dict,
                        "actively_writing": bool, "detail_url": str}, "mappings[]")
    if detail["addon_id"] != c["id"]:  # else Terraform replaces the resource on every run
        raise SystemExit("addon_id differs from the connection's id")
    return detail


def main(argv):
    cmd, base, token = argv[1], argv[2], argv[3]
    try:
        if cmd == "django-health":
            errors = django_health(base, token, argv[4])
            print("\n".join(errors) if errors else "healthy")
            return 1 if errors else 0
        if cmd == "django-write-mode":
            print(django_write_mode(base, token, argv[4]))
            return 0
        if cmd == "django-import":
            status, body, states = django_import(base, token, argv[4], argv[5], float(argv[6]))
            print(json.dumps({"status": status, "body": body, "states": states}))
            return 0
        if cmd == "cli-info":
            print("\n".join(cli_info(base, token, argv[4])))
            return 0
        if cmd == "cli-reload":
            print(cli_reload(base, token, argv[4], argv[5]))
            return 0
        if cmd == "cli-export":
            print(json.dumps(cli_export(base, token, argv[4])))
            return 0
        if cmd == "herokux-read":
            print(json.dumps(herokux_read(base, token, argv[4])))
            return 0
    except HTTPError as e:
        print(f"HTTP {e.status}: {e.body}")
        return 3
    raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
