#!/usr/bin/env python3
"""make_seeds.py - seed corpora for the fuzz targets from the recorded GitHub responses.

Reads tests/fixtures/github/*.json (real responses: status, headers, body) and writes
  seeds/classify/FIXTURE   "STATUS NOW_MS", the headers one a line, a blank line, the body
                           (error bodies only: the classifier reads no other)
  seeds/links/FIXTURE      byte 0 (raw mode), then the response's Link header value
NOW_MS is the response's own Date, so that resets are read as they were meant. The
seeds are committed; run this again after adding fixtures.

Usage: tests/fuzz/make_seeds.py
"""

import email.utils
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parents[1] / "tests/fixtures/github"


def main():
    classify_dir = HERE / "seeds/classify"
    links_dir = HERE / "seeds/links"
    classify_dir.mkdir(parents=True, exist_ok=True)
    links_dir.mkdir(parents=True, exist_ok=True)
    for fixture in sorted(FIXTURES.glob("*.json")):
        response = json.loads(fixture.read_text())["response"]
        status = response["status"]
        headers = {k.lower(): str(v) for k, v in response.get("headers", {}).items()}
        now_ms = 1_700_000_000_000
        if "date" in headers:
            now_ms = int(email.utils.parsedate_to_datetime(headers["date"]).timestamp()) * 1000
        lines = [f"{status} {now_ms}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        body = b""
        if status >= 300 and response.get("body") is not None:
            body = json.dumps(response["body"]).encode()
        stem = fixture.stem
        (classify_dir / stem).write_bytes(("\n".join(lines) + "\n\n").encode() + body)
        if "link" in headers:
            (links_dir / stem).write_bytes(b"\x00" + headers["link"].encode())
    print(f"seeds written to {classify_dir} and {links_dir}")


if __name__ == "__main__":
    main()
