#!/usr/bin/env python3
# Benchmark driver for scripts/bench.sh: runs real `terraform plan` against hss-sim and prints the table.
"""Benchmark driver called by scripts/bench.sh (python3 standard library only).

Measures terraform-provider-hss the way users meet it: the real Terraform CLI running
`terraform plan` against hss-sim with added latency per request. For each scenario and
concurrency it reports the requests sent (from the simulator's /_sim/stats), the median wall
time of the plan, the physical floor (round trips x latency), the time spent in reads, the
provider's share of the wall time, its peak RSS, its start-to-handshake time and the binary
size. bench.sh builds the binaries, finds Terraform and cleans up; this file does the runs.

Method (see docs/performance.md):
  * timed runs: no logging at all, BENCH_RUNS of them, median reported;
  * one extra logged run per scenario (TF_LOG_PROVIDER=DEBUG, TF_LOG_PATH), done first and
    never counted in the median, gives the provider's busy intervals (each RPC logs
    "rpc finished" with elapsed_us; go-plugin logs process start, handshake and exit),
    peak RSS ("plugin exiting" logs VmHWM) and whether every process exited on Shutdown;
  * start-to-handshake: the release binary launched directly, timed to its first stdout line.
"""

import argparse
import datetime
import math
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-token"
PAGE_SIZE = 200
DEFAULT_CONCURRENCY = 8
# Upper bounds so that nothing can hang the benchmark.
TERRAFORM_TIMEOUT_S = 600
SIM_START_TIMEOUT_S = 10
HANDSHAKE_TIMEOUT_S = 5

PROVIDER_BLOCK = """terraform {
  required_providers {
    hss = { source = "local/hss" }
  }
}
provider "hss" {}
"""

# id -> (description, {host: ports}, main.tf body, hosts read, ports per host)
def scenarios():
    fe_hosts = {f"fe-{i:03d}": 100 for i in range(200)}
    return {
        "a": (
            "(a) 1 host, 0 ports",
            {"zero-ports": 0},
            'data "hss_host_ports" "h" { host_id = "zero-ports" }\n'
            'output "n" { value = length(data.hss_host_ports.h.ports) }\n',
            1,
            0,
        ),
        "b": (
            "(b) 1 host, 1,000 ports",
            {"ports-1k": 1000},
            'data "hss_host_ports" "h" { host_id = "ports-1k" }\n'
            'output "n" { value = length(data.hss_host_ports.h.ports) }\n',
            1,
            1000,
        ),
        "c": (
            "(c) 1 host, 10,000 ports",
            {"ports-10k": 10000},
            'data "hss_host_ports" "h" { host_id = "ports-10k" }\n'
            'output "n" { value = length(data.hss_host_ports.h.ports) }\n',
            1,
            10000,
        ),
        "d": (
            "(d) for_each: 200 hosts x 100 ports",
            fe_hosts,
            'data "hss_host_ports" "h" {\n'
            '  for_each = toset([for i in range(200) : format("fe-%03d", i)])\n'
            "  host_id  = each.value\n"
            "}\n"
            'output "n" { value = sum([for h in data.hss_host_ports.h : length(h.ports)]) }\n',
            200,
            100,
        ),
        **fleet_scenarios(),
    }


# The fleet: 1,000 servers with about 50 ports each, drawn from 300 distinct (port, protocol)
# listeners, 5 of which (ports 40000-49999) are open on 20 servers each; the policy allows every
# other port everywhere, so those 5 are the only candidates. (e) is the fleet check, (f) the same
# policy server by server, the baseline. Each extra entry: the simulator's flags, the requests a
# consistent read takes, its round trips at concurrency c, and the concurrencies to run.
FLEET_SERVERS = 1000
FLEET_SIM_ARGS = ["--fleet", str(FLEET_SERVERS), "--fleet-ports", "50", "--fleet-pairs", "300",
                  "--fleet-rare", "5", "--fleet-rare-hosts", "20"]
FLEET_POLICY = '["1-39999", "50000-65535"]'
FLEET_RARE = 5


def overlapping_pages(total):
    """Pages of an overlapping read (page k at offset k * 199) of `total` records."""
    return 1 if total <= PAGE_SIZE else 1 + math.ceil((total - PAGE_SIZE) / (PAGE_SIZE - 1))


def fleet_scenarios():
    # About 300 statistics rows: 2 pages. Servers: the generated ones and the reference host.
    stat_pages = overlapping_pages(300)
    servers = FLEET_SERVERS + 1
    host_pages = overlapping_pages(servers)
    return {
        "e": (
            "(e) fleet check: 1,000 servers x 50 ports, hss_fleet_port_drift",
            {},
            'data "hss_fleet_port_drift" "f" {\n'
            f"  allowed = {FLEET_POLICY}\n"
            "}\n"
            'output "n" { value = length(data.hss_fleet_port_drift.f.violations) }\n'
            'output "requests" { value = data.hss_fleet_port_drift.f.requests }\n',
            1,
            0,
            {
                "sim_args": FLEET_SIM_ARGS,
                "expected": stat_pages + FLEET_RARE,
                # Page 0, the other statistics pages, then the candidates together.
                "round_trips": lambda c: 1 + math.ceil((stat_pages - 1) / c) + math.ceil(FLEET_RARE / c),
                "concurrencies": None,
            },
        ),
        "f": (
            "(f) baseline: for_each over hss_hosts.ids, hss_host_port_drift",
            {},
            'data "hss_hosts" "all" {}\n'
            'data "hss_host_port_drift" "each" {\n'
            "  for_each = toset(data.hss_hosts.all.ids)\n"
            "  host_id  = each.key\n"
            f"  allowed  = {FLEET_POLICY}\n"
            "}\n"
            'output "n" { value = sum([for d in data.hss_host_port_drift.each : length(d.unexpected)]) }\n',
            servers,
            50,
            {
                "sim_args": FLEET_SIM_ARGS,
                "expected": host_pages + servers,
                "round_trips": lambda c: 1 + math.ceil((host_pages - 1) / c) + math.ceil(servers / c),
                # Sequentially, 1,007 requests at 50 ms are 50 s per run: the default only.
                "concurrencies": [DEFAULT_CONCURRENCY],
            },
        ),
    }


def pages_for(ports):
    """Requests one host needs with overlapping pages (page k starts at k*(size-1)): one page
    for up to 200 records, then one more per 199 (51 for 10,000)."""
    return max(1, math.ceil((ports - 1) / (PAGE_SIZE - 1)))


def floor_round_trips(hosts, pages, concurrency):
    """Least number of sequential round trips for `hosts` reads of `pages` pages each sharing
    `concurrency` slots: each round carries at most `concurrency` requests, and one host's later
    pages can only start once its first page (which gives total_num) has come back."""
    return max(math.ceil(hosts * pages / concurrency), 1 + math.ceil((pages - 1) / concurrency))


# ---------------------------------------------------------------------------------------------
# Small helpers

def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fmt_ms(x):
    return "-" if x is None else f"{x:,.0f}"


def median(xs):
    return statistics.median(xs) if xs else None


def http_json(url):
    import json

    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read().decode())


# ---------------------------------------------------------------------------------------------
# The simulator

class Sim:
    """One hss-sim process on loopback; its pid is kept in `pidfile` while it runs so that
    bench.sh's trap can stop it if this script dies."""

    def __init__(self, binary, work, pidfile, latency_ms, hosts, extra_args=()):
        self.url_file = os.path.join(work, "sim.url")
        if os.path.exists(self.url_file):
            os.remove(self.url_file)
        args = [binary, "--listen", "127.0.0.1:0", "--url-file", self.url_file,
                "--project-id", PROJECT, "--token", TOKEN, "--latency-ms", str(latency_ms)]
        for host, n in hosts.items():
            args += ["--generate", f"{host}={n}"]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL)
        self.pidfile = pidfile
        with open(pidfile, "w") as f:
            f.write(f"{self.proc.pid}\n")
        deadline = time.monotonic() + SIM_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if os.path.exists(self.url_file) and os.path.getsize(self.url_file) > 0:
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"hss-sim exited with {self.proc.returncode}")
            time.sleep(0.02)
        else:
            self.stop()
            raise RuntimeError("hss-sim did not start")
        with open(self.url_file) as f:
            self.url = f.read().strip()

    def stats(self):
        return http_json(self.url + "/_sim/stats")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.path.exists(self.pidfile):
            os.remove(self.pidfile)


# ---------------------------------------------------------------------------------------------
# Terraform runs

def terraform_env(cli_config, sim_url, concurrency, log_path=None):
    env = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR", "USER") if k in os.environ}
    env.update(
        TF_CLI_CONFIG_FILE=cli_config,
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        HW_HSS_ENDPOINT=sim_url,
        HW_PROJECT_ID=PROJECT,
        HW_AUTH_TOKEN=TOKEN,
    )
    if concurrency != DEFAULT_CONCURRENCY:
        env["HW_MAX_CONCURRENT_REQUESTS"] = str(concurrency)
    if log_path:
        env["TF_LOG_PROVIDER"] = "DEBUG"
        env["TF_LOG_PATH"] = log_path
    return env


def run_plan(terraform, workdir, env):
    """Runs `terraform plan` once; returns its wall time in ms."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([terraform, "plan", "-input=false", "-no-color"], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(timeout=TERRAFORM_TIMEOUT_S)
    except BaseException:
        stop_terraform(proc)
        raise
    wall = (time.perf_counter() - t0) * 1000
    if proc.returncode != 0:
        raise RuntimeError(f"terraform plan failed in {workdir}:\n{out.decode(errors='replace')}")
    return wall


def stop_terraform(proc):
    """Stops an interrupted plan the way a user would: Terraform shuts its provider processes
    down when interrupted, whereas killing it outright would leave them running. A Ctrl-C from
    the terminal has reached it already, so it first gets a moment on its own."""
    for sig, grace_s in ((None, 2), (signal.SIGINT, 30), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        if sig is not None:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


# ---------------------------------------------------------------------------------------------
# Reading Terraform's log of one run

RECORD = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z \[(TRACE|DEBUG|INFO|WARN|ERROR)\]\s*")
FIELD_TS = re.compile(r"\btimestamp=\"?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z")


def parse_time(text):
    if "." not in text:
        text += ".0"
    head, frac = text.split(".")
    dt = datetime.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp() + float("0." + frac)


def union_ms(intervals):
    total, end = 0.0, None
    for a, b in sorted(intervals):
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total * 1000


def analyse_log(path, t_start, t_end):
    """The provider's busy intervals and exits in one logged run, which ran from `t_start` to
    `t_end` (epoch seconds, same clock as the log's timestamps).

    Records are split at every `<time> [LEVEL]` prefix, not at newlines: Terraform sometimes
    writes a provider line into the middle of another."""
    with open(path, errors="replace") as f:
        text = f.read()
    marks = list(RECORD.finditer(text))
    records = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        records.append((parse_time(m.group(1)), m.group(2), text[m.end():end].strip()))

    def provider_time(body, fallback):
        m = FIELD_TS.search(body)
        return parse_time(m.group(1)) if m else fallback

    rpc, reads, startups, shutdowns = [], [], [], []
    rss, pending_start, pending_shutdown = [], None, None
    starts = exits = killed = unparsed = 0
    for t, level, body in records:
        if body.startswith("provider: plugin started:"):
            starts += 1
            pending_start = t
        elif body.startswith("provider: using plugin:") and pending_start is not None:
            startups.append((pending_start, t))
            pending_start = None
        elif body.startswith("provider.terraform-provider-hss: rpc finished:"):
            end = provider_time(body, t)
            # Terraform re-logs numbers of a million or more as floats: 2.66491e+06 (1.0),
            # "2.682548e+06" (1.11).
            us = re.search(r"\belapsed_us=\"?([0-9.eE+-]+)", body)
            name = re.search(r"\brpc=\"?(\w+)", body)
            if not us or not name:
                # A line cut by another one written into it: counted, not guessed.
                unparsed += 1
                continue
            us, name = float(us.group(1)), name.group(1)
            interval = (end - us / 1e6, end)
            rpc.append(interval)
            if name == "ReadDataSource":
                reads.append(interval)
        elif body.startswith("provider.terraform-provider-hss: shutdown requested"):
            pending_shutdown = provider_time(body, t)
        elif body.startswith("provider.terraform-provider-hss: plugin exiting:"):
            m = re.search(r"\bpeak_rss_kb=\"?([0-9.eE+-]+)", body)
            if m:
                rss.append(float(m.group(1)))
        elif body.startswith("provider: plugin process exited:"):
            exits += 1
            if pending_shutdown is not None:
                shutdowns.append((pending_shutdown, max(t, pending_shutdown)))
                pending_shutdown = None
        elif "failed to exit gracefully" in body or "plugin failed to exit" in body:
            killed += 1
    busy = union_ms(rpc + startups + shutdowns)
    reads_sum = sum(b - a for a, b in reads) * 1000
    return {
        "processes": starts,
        "exits_logged": len(rss),
        "killed": killed,
        "unparsed": unparsed,
        "exits": exits,
        "busy_ms": busy,
        "rpc_ms": union_ms(rpc),
        "reads_ms": union_ms(reads) if reads else None,
        "reads": len(reads),
        # Reads in flight on average while any was: how much Terraform overlapped them.
        "reads_overlap": reads_sum / union_ms(reads) if reads and union_ms(reads) > 0 else None,
        "before_reads_ms": (min(a for a, _ in reads) - t_start) * 1000 if reads else None,
        "after_reads_ms": (t_end - max(b for _, b in reads)) * 1000 if reads else None,
        "startup_ms": [(b - a) * 1000 for a, b in startups],
        "shutdown_ms": [(b - a) * 1000 for a, b in shutdowns],
        "peak_rss_kb": max(rss) if rss else None,
    }


# ---------------------------------------------------------------------------------------------
# Start-to-handshake, measured on the binary itself

def make_client_cert(work):
    """A PEM certificate standing in for Terraform's, made once with openssl. Without openssl,
    a PEM block of random bytes: at start-up the provider only pins the certificate's bytes,
    it parses them when a client connects (so the timing is the same)."""
    pem = os.path.join(work, "client.pem")
    if shutil.which("openssl"):
        key = os.path.join(work, "client.key")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-521", "-nodes", "-keyout", key, "-out", pem,
                            "-days", "1", "-subj", "/CN=localhost"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            with open(pem) as f:
                return f.read(), "openssl P-521 self-signed"
    import base64

    body = base64.encodebytes(os.urandom(480)).decode()
    return f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n", "random bytes (no openssl)"


def handshake_ms(binary, cert_pem, samples):
    env = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR", "USER") if k in os.environ}
    env.update(TF_PLUGIN_MAGIC_COOKIE=MAGIC_COOKIE, PLUGIN_PROTOCOL_VERSIONS="6")
    if cert_pem:
        env["PLUGIN_CLIENT_CERT"] = cert_pem
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        p = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
        try:
            ready, _, _ = select.select([p.stdout], [], [], HANDSHAKE_TIMEOUT_S)
            if not ready:
                raise RuntimeError(f"no handshake line within {HANDSHAKE_TIMEOUT_S} s")
            line = p.stdout.readline()
            elapsed = (time.perf_counter() - t0) * 1000
        finally:
            p.kill()
            p.wait(timeout=HANDSHAKE_TIMEOUT_S)
            p.stdout.close()
        if not line.startswith(b"1|6|"):
            raise RuntimeError(f"unexpected handshake line {line[:80]!r}")
        times.append(elapsed)
    return times


# ---------------------------------------------------------------------------------------------
# The machine

def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{model}, {os.cpu_count()} CPUs{mem}, Linux {platform.release()}", load


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--terraform", required=True)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--handshake-samples", type=int, default=21)
    ap.add_argument("--scenarios", default="a,b,c,d,e,f")
    ap.add_argument("--concurrency", default=f"{DEFAULT_CONCURRENCY},1")
    ap.add_argument("--out", default="")
    ap.add_argument("--logs", default="", help="copy each logged run's Terraform log into this directory")
    args = ap.parse_args()

    release = os.path.join(args.root, "target", "release")
    provider = os.path.join(release, "terraform-provider-hss")
    sim_bin = os.path.join(release, "hss-sim")
    runs = max(1, min(args.runs, 100))
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    wanted = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    all_scenarios = scenarios()
    for s in wanted:
        if s not in all_scenarios:
            sys.exit(f"bench: unknown scenario {s!r} (known: {', '.join(all_scenarios)})")

    tf_version = subprocess.run([args.terraform, "version"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env={**os.environ, "CHECKPOINT_DISABLE": "1"},
                                timeout=60).stdout.decode().splitlines()[0]
    size = os.path.getsize(provider)
    host, load_before = machine()
    log(f"==> {tf_version}; provider binary {size / 1e6:.2f} MB; {host}")

    cli_config = os.path.join(args.work, "terraformrc")
    with open(cli_config, "w") as f:
        f.write('provider_installation {\n  dev_overrides {\n    "local/hss" = "%s"\n  }\n  direct {}\n}\n'
                % release)

    log(f"==> start-to-handshake: {args.handshake_samples} launches without TLS, then with AutoMTLS")
    cert, cert_kind = make_client_cert(args.work)
    hs_plain = handshake_ms(provider, None, args.handshake_samples)
    hs_tls = handshake_ms(provider, cert, args.handshake_samples)
    hs_plain_med, hs_tls_med = median(hs_plain), median(hs_tls)
    log(f"    no TLS: median {hs_plain_med:.1f} ms (min {min(hs_plain):.1f}, max {max(hs_plain):.1f}); "
        f"TLS: median {hs_tls_med:.1f} ms (min {min(hs_tls):.1f}, max {max(hs_tls):.1f})")

    rows, details = [], []
    for sid in wanted:
        title, hosts, body, n_hosts, ports = all_scenarios[sid][:5]
        extra = all_scenarios[sid][5] if len(all_scenarios[sid]) > 5 else {}
        workdir = os.path.join(args.work, f"scenario-{sid}")
        os.makedirs(workdir, exist_ok=True)
        with open(os.path.join(workdir, "main.tf"), "w") as f:
            f.write(PROVIDER_BLOCK + body)
        default_wall = None
        for conc in extra.get("concurrencies") or concurrencies:
            log(f"==> {title}, max_concurrent_requests = {conc}: 1 logged run, then {runs} timed")
            sim = Sim(sim_bin, args.work, os.path.join(args.work, "sim.pid"), args.latency_ms, hosts,
                      extra.get("sim_args", ()))
            try:
                log_path = os.path.join(args.work, f"tf-{sid}-{conc}.log")
                before = sim.stats()["requests"]
                t_start = time.time()
                logged_wall = run_plan(args.terraform, workdir, terraform_env(cli_config, sim.url, conc, log_path))
                t_end = time.time()
                logged_requests = sim.stats()["requests"] - before
                walls, requests = [], []
                for _ in range(runs):
                    before = sim.stats()["requests"]
                    walls.append(run_plan(args.terraform, workdir, terraform_env(cli_config, sim.url, conc)))
                    requests.append(sim.stats()["requests"] - before)
                max_in_flight = sim.stats()["max_in_flight"]
            finally:
                sim.stop()
            if args.logs:
                os.makedirs(args.logs, exist_ok=True)
                shutil.copy(log_path, args.logs)
            a = analyse_log(log_path, t_start, t_end)
            if a["unparsed"]:
                log(f"    note: {a['unparsed']} garbled 'rpc finished' line(s) in the log were left out")
            wall = median(walls)
            if conc == DEFAULT_CONCURRENCY:
                default_wall = wall
            pages = pages_for(ports)
            if "round_trips" in extra:
                floor = extra["round_trips"](conc) * args.latency_ms
            else:
                floor = floor_round_trips(n_hosts, pages, conc) * args.latency_ms
            expected = extra.get("expected", n_hosts * pages)
            share = a["busy_ms"] / logged_wall if logged_wall else None
            if len(set(requests + [logged_requests])) != 1:
                log(f"    note: request counts differ between runs: logged {logged_requests}, timed {requests}")
            rows.append({
                "scenario": title, "conc": conc, "requests": requests[0] if requests else logged_requests,
                "expected": expected, "floor": floor, "wall": wall, "walls": walls,
                "ratio": (wall / default_wall) if default_wall else None,
                "reads": a["reads_ms"], "share": share, "rss": a["peak_rss_kb"],
                "in_flight": max_in_flight, "analysis": a, "logged_wall": logged_wall,
            })
            log(f"    requests {rows[-1]['requests']} (expected {expected}), wall median {wall:,.0f} ms "
                f"(runs: {', '.join(f'{w:,.0f}' for w in walls)}), logged run {logged_wall:,.0f} ms, "
                f"reads {fmt_ms(a['reads_ms'])} ms, floor {floor} ms, max in flight {max_in_flight}")
    _, load_after = machine()

    out = []
    out.append(f"Machine: {host}; load average {load_before:.2f} before, {load_after:.2f} after.")
    out.append(f"Terraform: {tf_version}. Latency added by hss-sim: {args.latency_ms} ms per request. "
               f"Wall: median of {runs} `terraform plan` run(s).")
    out.append(f"Provider binary: {size:,} bytes ({size / 1e6:.2f} MB). Start-to-handshake "
               f"(median of {args.handshake_samples} launches): {hs_plain_med:.1f} ms without TLS, "
               f"{hs_tls_med:.1f} ms with AutoMTLS (client cert: {cert_kind}).")
    out.append("")
    out.append("| scenario | max_concurrent_requests | requests | floor ms | plan wall ms | vs default "
               "| reads ms | reads / floor | provider share | peak RSS MB | max in flight "
               "| handshake ms (TLS) | binary MB |")
    out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        vs_floor = "-" if r["reads"] is None or not r["floor"] else f"{r['reads'] / r['floor']:.2f}x"
        share = "-" if r["share"] is None else f"{100 * r['share']:.0f}%"
        rss = "-" if r["rss"] is None else f"{r['rss'] / 1024:.1f}"
        out.append(
            f"| {r['scenario']} | {r['conc']} | {r['requests']} | {r['floor']:,} | {fmt_ms(r['wall'])} "
            f"| {ratio} | {fmt_ms(r['reads'])} | {vs_floor} | {share} | {rss} "
            f"| {r['in_flight']} | {hs_tls_med:.1f} | {size / 1e6:.2f} |")
    out.append("")
    out.append("Per run, from the logged run (not timed; run first):")
    out.append("")
    out.append("| scenario | conc | logged wall ms | before reads ms | reads ms | reads in flight (mean) "
               "| after reads ms | processes | exited on Shutdown | killed | start-up ms each | RPC busy ms "
               "| shutdown-to-exit ms max | timed runs ms |")
    out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|---|")
    for r in rows:
        a = r["analysis"]
        overlap = "-" if a["reads_overlap"] is None else f"{a['reads_overlap']:.1f}"
        out.append(
            f"| {r['scenario']} | {r['conc']} | {r['logged_wall']:,.0f} | {fmt_ms(a['before_reads_ms'])} "
            f"| {fmt_ms(a['reads_ms'])} | {overlap} "
            f"| {fmt_ms(a['after_reads_ms'])} | {a['processes']} | {a['exits_logged']} "
            f"| {a['killed']} | {', '.join(f'{x:.0f}' for x in a['startup_ms'])} | {a['rpc_ms']:,.0f} "
            f"| {max(a['shutdown_ms']) if a['shutdown_ms'] else 0:.0f} "
            f"| {', '.join(f'{w:,.0f}' for w in r['walls'])} |")
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    # Once is enough: the clean-up below must not be interrupted in turn.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(signum)


if __name__ == "__main__":
    # SIGINT is set explicitly: bench.sh starts this script in the background, where it would
    # otherwise be ignored. The simulator is stopped by Sim's `finally`, Terraform by run_plan.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        main()
    except Interrupted:
        log("bench: interrupted")
        sys.exit(130)
