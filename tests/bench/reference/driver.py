"""Drives the reference (GitFleet 0.2.8, the Python library gitfleet replaces)
through one workload against the gitfleet emulator and prints what happened
as one JSON object on standard output.

It is started by examples/reference_compare.rs, which owns the emulator and
reads the request counts from it; run that, not this (see BENCHMARKS.md).

Workloads:
  sequential  one caller, back-to-back calls for --seconds; --impl python uses
              the reference's httpx client (the one that uses a token manager),
              --impl rust its Rust extension (one token, no manager)
  pooled      --callers tasks sharing one client whose token manager holds every
              token, listing --owner until the first rate-limit error
"""

import argparse
import asyncio
import json
import sys
import time

from GitFleet import GitHubClient
from GitFleet.models.common import ProviderType
from GitFleet.providers.base import RateLimitError
from GitFleet.providers.token_manager import TokenManager


def build_client(url, tokens, impl):
    if impl == "rust":
        return GitHubClient(tokens[0], base_url=url)
    manager = TokenManager()
    # The client adds its default token to the manager itself; adding it here
    # too would put it in the pool twice.
    for token in tokens[1:]:
        manager.add_token(token, ProviderType.GITHUB)
    return GitHubClient(tokens[0], base_url=url, token_manager=manager,
                        use_python_impl=True)


async def call(client, what, owner):
    if what == "rate_limit":
        await client.get_rate_limit()
        return 0
    return len(await client.fetch_repositories(owner))


def error_kind(error):
    return type(error).__name__


async def sequential(args, tokens):
    client = build_client(args.url, tokens, args.impl)
    await call(client, args.call, args.owner)  # warm-up
    calls = errors = items = 0
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        try:
            items += await call(client, args.call, args.owner)
        except Exception:  # counted, never fatal: the figure is throughput
            errors += 1
        calls += 1
    elapsed = time.perf_counter() - started
    return {"calls": calls, "errors": errors, "items": items,
            "elapsed_s": elapsed}


async def pooled(args, tokens):
    client = build_client(args.url, tokens, "python")
    stop = asyncio.Event()
    outcome = {"successes": 0, "items": 0, "errors": {},
               "first_rate_limit_after": None}

    async def caller():
        while not stop.is_set():
            try:
                outcome["items"] += await call(client, args.call, args.owner)
                outcome["successes"] += 1
            except RateLimitError:
                kind = "RateLimitError"
                outcome["errors"][kind] = outcome["errors"].get(kind, 0) + 1
                if outcome["first_rate_limit_after"] is None:
                    outcome["first_rate_limit_after"] = outcome["successes"]
                stop.set()
            except Exception as error:  # any other failure also ends the run
                kind = error_kind(error)
                outcome["errors"][kind] = outcome["errors"].get(kind, 0) + 1
                stop.set()

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(args.callers)))
    outcome["elapsed_s"] = time.perf_counter() - started
    return outcome


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["sequential", "pooled"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--call", choices=["rate_limit", "repositories"],
                        default="rate_limit")
    parser.add_argument("--owner", default="octocat")
    parser.add_argument("--impl", choices=["python", "rust"], default="python")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--callers", type=int, default=16)
    args = parser.parse_args()
    # Tokens come on standard input, one per line, so they never show in a
    # process listing.
    tokens = [line.strip() for line in sys.stdin if line.strip()]
    if not tokens:
        parser.error("no tokens on standard input")
    run = sequential if args.workload == "sequential" else pooled
    print(json.dumps(asyncio.run(run(args, tokens))))


if __name__ == "__main__":
    main()
