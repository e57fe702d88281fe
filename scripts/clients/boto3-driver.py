#!/usr/bin/python3
"""Drives boto3 for Gantry's end-to-end tests: reads a JSON list of calls on stdin
([{"service": "ecs", "op": "create_cluster" | "CreateCluster", "params": {...}, "paginate": false}]),
runs them in order against the endpoint given as argv[1], and prints a JSON list of results."""
import datetime
import json
import re
import sys

import boto3
import botocore.exceptions
from botocore.config import Config


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() if name[:1].isupper() else name


def default(o):
    if isinstance(o, datetime.datetime):
        return o.timestamp()
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    raise TypeError(type(o))


def main():
    endpoint = sys.argv[1]
    calls = json.load(sys.stdin)
    cfg = Config(retries={"max_attempts": 2, "mode": "standard"})
    clients = {}
    out = []
    for call in calls:
        svc = call["service"]
        if svc not in clients:
            clients[svc] = boto3.client(svc, endpoint_url=endpoint, config=cfg)
        client = clients[svc]
        op = snake(call["op"])
        params = call.get("params") or {}
        try:
            if call.get("paginate"):
                pages = list(client.get_paginator(op).paginate(**params))
                for p in pages:
                    p.pop("ResponseMetadata", None)
                out.append({"ok": True, "result": pages})
            else:
                res = getattr(client, op)(**params)
                res.pop("ResponseMetadata", None)
                out.append({"ok": True, "result": res})
        except botocore.exceptions.ClientError as e:
            err = e.response.get("Error", {})
            out.append({
                "ok": False,
                "code": err.get("Code", ""),
                "message": err.get("Message", ""),
                "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0),
            })
        except botocore.exceptions.ParamValidationError as e:
            out.append({"ok": False, "code": "ParamValidationError", "message": str(e), "status": 0})
    json.dump(out, sys.stdout, default=default)


main()
