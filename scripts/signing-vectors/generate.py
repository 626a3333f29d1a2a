#!/usr/bin/env python3
"""Generates tests/vectors/sdk-hmac-sha256.json with Huawei Cloud's official signer.

Every vector is signed by `huaweicloudsdkcore` (pinned in requirements.txt) through the same
path its service clients use: `BasicCredentials` / `GlobalCredentials.sign_request`, which adds
`X-Project-Id` / `X-Domain-Id` / `X-Security-Token` and then calls
`huaweicloudsdkcore.signer.signer.Signer.sign`. The signer's intermediate results (canonical
request, string to sign, signature) are captured by wrapping its methods; nothing is
recomputed here. The date, keys and requests are fixed, so the output is deterministic.

Usage: generate.py [OUTPUT]   (default: tests/vectors/sdk-hmac-sha256.json; "-" for stdout)
"""

import hashlib
import json
import os
import sys
from importlib.metadata import version

import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

# Fake, realistic-looking credentials. Not real keys.
ACCESS_KEY = "QTWAOYTTINDUT2QVKYUC"
SECRET_KEY = "Zx8mP2qLrT5vW9yB3nK7cF1hJ4dG6sA0eU2iO8pQ"
SDK_DATE = "20261201T120000Z"
SECURITY_TOKEN = (
    "gQpjbi1ub3J0aC00iGsFAKEFAKEFAKEtok3n0123456789abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ+/0123456789=="
)
PROJECT = "2b3f8c1d9e7a4f6b8c0d1e2f3a4b5c6d"
DOMAIN = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
HOST = "hss.cn-north-4.myhuaweicloud.com"
HOST_ID = "8a5f3c2e-1b4d-4e6f-9a7b-0c1d2e3f4a5b"
PORTS = f"/v5/{PROJECT}/asset/ports"

ASSUME_ROLE_BODY = json.dumps(
    {
        "auth": {
            "identity": {
                "methods": ["assume_role"],
                "assume_role": {
                    "agency_name": "hss_readonly",
                    "domain_name": "example-domain",
                    "duration_seconds": 3600,
                    "session_user": {"name": "terraform-provider-hss"},
                },
            }
        }
    },
    separators=(",", ":"),
)

# name, description, request. Request keys: method, host, path (the resource path given to the
# SDK, already percent-encoded as it will be sent), query (ordered (key, value) pairs, decoded),
# headers (given by the caller; X-Sdk-Date is always added so the date is fixed), body,
# project_id / domain_id / security_token (given to the SDK's credentials object).
VECTORS = [
    ("get_ports_no_query", "GET with an empty query.",
     dict(path=PORTS, query=[])),
    ("get_ports_host_id_limit_offset", "The provider's first page request, keys given unsorted.",
     dict(path=PORTS, query=[("host_id", HOST_ID), ("limit", "200"), ("offset", "0")])),
    ("get_ports_all_filters", "Every filter the data source can send, in the provider's order.",
     dict(path=PORTS, query=[
         ("host_id", HOST_ID), ("host_name", "web-01"), ("host_ip", "192.168.0.10"), ("port", "443"),
         ("type", "TCP"), ("status", "danger"), ("enterprise_project_id", "all_granted_eps"),
         ("category", "host"), ("limit", "100"), ("offset", "200")])),
    ("query_repeated_key", "Repeated key a=2&a=1: sorted by value.",
     dict(path=PORTS, query=[("a", "2"), ("a", "1")])),
    ("query_key_order_differs_from_value_order", "Sorted by key, not by value or given order.",
     dict(path=PORTS, query=[("b", "1"), ("c", "0"), ("a", "2")])),
    ("query_sort_raw_keys_not_encoded", "Keys 'a/b' and 'a.b': sorted raw ('.' < '/'), though encoded '%2F' < '.'.",
     dict(path=PORTS, query=[("a/b", "1"), ("a.b", "2")])),
    ("query_sort_raw_values_not_encoded", "One key, values sorted raw ('Z' < 'z' < 'é'), not as encoded ('%C3%A9' first).",
     dict(path=PORTS, query=[("v", "é"), ("v", "z"), ("v", "Z")])),
    ("query_value_tilde", "'~' is unreserved and stays.", dict(path=PORTS, query=[("host_name", "a~b")])),
    ("query_value_space", "Space becomes %20, never '+'.", dict(path=PORTS, query=[("host_name", "my host")])),
    ("query_value_plus", "'+' becomes %2B.", dict(path=PORTS, query=[("host_name", "a+b")])),
    ("query_value_slash", "'/' becomes %2F.", dict(path=PORTS, query=[("host_name", "a/b")])),
    ("query_value_percent", "'%' becomes %25.", dict(path=PORTS, query=[("host_name", "100%")])),
    ("query_value_hash", "'#' becomes %23.", dict(path=PORTS, query=[("host_name", "#1")])),
    ("query_value_ampersand", "'&' and '=' become %26 and %3D.", dict(path=PORTS, query=[("host_name", "a&b=c")])),
    ("query_value_non_ascii", "UTF-8 bytes percent-encoded: é and CJK.",
     dict(path=PORTS, query=[("host_name", "café-端口")])),
    ("query_value_sub_delims", "!*'()$,;:@? are all encoded.", dict(path=PORTS, query=[("host_name", "!*'()$,;:@?")])),
    ("query_special_characters_mixed", "Several awkward values and keys at once.",
     dict(path=PORTS, query=[
         ("offset", "0"), ("limit", "200"), ("host_id", HOST_ID), ("host_name", "my host+1/é~"),
         ("tag", "x y&z=1#2%3"), ("名前", "端口")])),
    ("query_empty_value", "A key with an empty value is signed as 'key='.",
     dict(path=PORTS, query=[("host_id", HOST_ID), ("status", "")])),
    ("path_trailing_slash", "Path given with a trailing '/': kept as is.",
     dict(path=PORTS + "/", query=[("host_id", HOST_ID), ("limit", "10"), ("offset", "0")])),
    ("path_no_trailing_slash", "Same request without the trailing '/': the signer appends one.",
     dict(path=PORTS, query=[("host_id", HOST_ID), ("limit", "10"), ("offset", "0")])),
    ("path_root", "The root path '/'.", dict(path="/", query=[], project_id=None)),
    ("path_percent_encoded_segment", "A segment sent encoded (caf%C3%A9%20%2B1): decoded, then re-encoded.",
     dict(path=f"/v5/{PROJECT}/tags/caf%C3%A9%20%2B1", query=[])),
    ("path_encoded_slash", "An encoded '/' (%2F) in a segment: the SDK decodes it before splitting, so it signs a '/'.",
     dict(path="/v5/a%2Fb/asset/ports", query=[], project_id="a/b")),
    ("security_token", "Temporary credentials: X-Security-Token is added and signed.",
     dict(path=PORTS, query=[("host_id", HOST_ID), ("limit", "200"), ("offset", "0")],
          security_token=SECURITY_TOKEN)),
    ("host_with_port", "An explicit Host header with a port (a local endpoint) is signed as given.",
     dict(host="127.0.0.1:8443", headers=[("Host", "127.0.0.1:8443")],
          path=PORTS, query=[("host_id", "h"), ("limit", "10"), ("offset", "0")], security_token="tok")),
    ("header_value_trimmed", "Header values are trimmed; inner spaces kept; names lowercased.",
     dict(path=PORTS, query=[("host_id", HOST_ID)],
          headers=[("X-Client-Request-Id", "  req  42\t"), ("ACCEPT", "application/json")])),
    ("get_sdk_client_headers", "The headers an SDK service client adds to a GET (Content-Type, User-Agent).",
     dict(path=PORTS, query=[("host_id", HOST_ID), ("limit", "200"), ("offset", "0")],
          headers=[("Content-Type", "application/json"),
                   ("User-Agent", "huaweicloud-usdk-python/3.0; terraform-provider-hss/0.1.0")])),
    ("post_json_body", "An assume_role-like POST to IAM with a JSON body (GlobalCredentials, X-Domain-Id).",
     dict(method="POST", host="iam.myhuaweicloud.com", path="/v3.0/OS-CREDENTIAL/securitytokens", query=[],
          headers=[("Content-Type", "application/json;charset=UTF-8")], body=ASSUME_ROLE_BODY,
          project_id=None, domain_id=DOMAIN)),
    ("post_json_body_with_query_and_token", "A POST with a body, a query and a security token.",
     dict(method="POST", path=f"/v5/{PROJECT}/asset/ports/export", query=[("limit", "10"), ("export_size", "100")],
          headers=[("Content-Type", "application/json")], body='{"host_ids":["a","b"],"name":"é"}',
          security_token=SECURITY_TOKEN)),
]


class Capture:
    """Wraps Signer's steps to record what the official code computed."""

    def __init__(self):
        self.values = {}
        orig_cr = Signer._process_canonical_request
        orig_sts = Signer._process_string_to_sign
        orig_sig = Signer._sign_string_to_sign
        orig_sh = Signer._process_signed_headers
        cap = self.values

        # Called after the signer added Host and X-Sdk-Date and before it trims the values: the
        # headers it is about to sign, exactly as it holds them.
        def signed_headers(request):
            cap["headers_to_sign"] = [[k, v] for k, v in request.header_params.items()]
            return orig_sh(request)

        def canonical_request(self, request, signed_headers):
            cap["canonical_request"] = orig_cr(self, request, signed_headers)
            cap["signed_headers"] = ";".join(signed_headers)
            return cap["canonical_request"]

        def string_to_sign(self, canonical, t):
            cap["string_to_sign"] = orig_sts(self, canonical, t)
            return cap["string_to_sign"]

        def sign_string(self, sts, key):
            cap["signature"] = orig_sig(self, sts, key)
            return cap["signature"]

        Signer._process_canonical_request = canonical_request
        Signer._process_string_to_sign = string_to_sign
        Signer._sign_string_to_sign = sign_string
        Signer._process_signed_headers = staticmethod(signed_headers)


def sign_one(capture, name, description, spec):
    method = spec.get("method", "GET")
    host = spec.get("host", HOST)
    path = spec["path"]
    query = [(k, v) for k, v in spec.get("query", [])]
    given_headers = [("X-Sdk-Date", SDK_DATE)] + list(spec.get("headers", []))
    body = spec.get("body", "")
    project_id = spec.get("project_id", PROJECT)
    domain_id = spec.get("domain_id")
    token = spec.get("security_token")

    if domain_id is not None:
        creds = GlobalCredentials(ACCESS_KEY, SECRET_KEY, domain_id)
    else:
        creds = BasicCredentials(ACCESS_KEY, SECRET_KEY, project_id)
    if token is not None:
        creds = creds.with_security_token(token)

    capture.values.clear()
    request = SdkRequest(method=method, schema="https", host=host, resource_path=path,
                         query_params=list(query), header_params=dict(given_headers),
                         body=body.encode("utf-8") if body else "")
    signed = creds.sign_request(request)
    got = dict(capture.values)

    cr = got["canonical_request"]
    lines = cr.split("\n")
    # METHOD, URI, QUERY, header lines..., "", SIGNED, HASH
    canonical_headers = "\n".join(lines[3:-3]) + "\n"
    sts = got["string_to_sign"]
    assert sts.split("\n") == ["SDK-HMAC-SHA256", SDK_DATE, hashlib.sha256(cr.encode()).hexdigest()], name
    authorization = signed.header_params["Authorization"]
    assert authorization.endswith("Signature=" + got["signature"]), name

    # What goes on the wire: the SDK sets request.uri = resource_path[?canonical query] and hands
    # request.url to requests; check requests would not re-encode it.
    target = signed.uri
    wire_path, _, wire_query = target.partition("?")
    prepared = requests.Request(method, signed.url, data=signed.body).prepare()
    assert prepared.path_url == target, (name, prepared.path_url, target)
    assert wire_path == path, name

    return {
        "name": name,
        "description": description,
        "method": method,
        "host": host,
        "path": path,
        "query": [[k, v] for k, v in query],
        "headers": [[k, v] for k, v in given_headers],
        "credentials": {
            "project_id": project_id if domain_id is None else None,
            "domain_id": domain_id,
            "security_token": token,
        },
        "body": body,
        "headers_to_sign": got["headers_to_sign"],
        "canonical_uri": lines[1],
        "canonical_query": lines[2],
        "canonical_headers": canonical_headers,
        "signed_headers": got["signed_headers"],
        "canonical_request": cr,
        "string_to_sign": sts,
        "signature": got["signature"],
        "authorization": authorization,
        "wire": {
            "method": method.upper(),
            "path": wire_path,
            "query": wire_query,
            "target": target,
            "url": signed.url,
            "headers": [[k, v] for k, v in signed.header_params.items()],
            "body": body,
        },
    }


def to_json(value, indent=""):
    """Like json.dumps(indent=2), but a [name, value] pair stays on one line."""
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {to_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if len(value) == 2 and all(isinstance(x, str) for x in value):
            return json.dumps(value, ensure_ascii=False)
        return "[\n" + ",\n".join(inner + to_json(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "vectors", "sdk-hmac-sha256.json")
    capture = Capture()
    doc = {
        "about": "SDK-HMAC-SHA256 request-signing vectors produced by Huawei Cloud's official Python signer. "
                 "Generated by scripts/signing-vectors/generate.py; do not edit by hand.",
        "generator": {
            "package": "huaweicloudsdkcore",
            "version": version("huaweicloudsdkcore"),
            "signer": "huaweicloudsdkcore.signer.signer.Signer",
        },
        "algorithm": "SDK-HMAC-SHA256",
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "sdk_date": SDK_DATE,
        "vectors": [sign_one(capture, n, d, s) for n, d, s in VECTORS],
    }
    names = [v["name"] for v in doc["vectors"]]
    assert len(names) == len(set(names)), "duplicate vector names"
    text = to_json(doc) + "\n"
    if out == "-":
        sys.stdout.write(text)
    else:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
