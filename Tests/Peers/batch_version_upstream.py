#!/usr/bin/env python3
"""An upstream built on Python's http.server, gzip and json (peers we did not
write) that asks gateways for version 2 batches (docs/uplink-protocol.md):
every 2xx carries `Vigil-Batch: 2`. With `refuse-v2` it then refuses version 2
bodies with 415, as an upstream rolled back behind the same URL would. Prints one
line per request: `request v=<version> key=<Idempotency-Key or -> status=<code>
records=<readings + events>`; then `event <kind> <device>/<point>` for each
event, and for a status (in a batch or a heartbeat) `status alarms=<device/point/level,…
or -> journal_error=<text or ->`. Usage: batch_version_upstream.py PORT take-v2|refuse-v2.
Prints "ready" once it listens."""
import gzip
import http.server
import json
import sys

MODE = sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        batch = json.loads(body)
        version = batch.get("v", 1)
        records = len(batch.get("readings", [])) + len(batch.get("events", []))
        status = 415 if version == 2 and MODE == "refuse-v2" else 204
        print("request v=%d key=%s status=%d records=%d" % (version, self.headers.get("Idempotency-Key", "-"), status, records), flush=True)
        for event in batch.get("events", []):
            print("event %s %s/%s" % (event.get("event"), event.get("device", "-"), event.get("point", "-")), flush=True)
        if "status" in batch:
            alarms = ",".join("%s/%s/%s" % (a["device"], a["point"], a["level"]) for a in batch["status"]["alarms"]) or "-"
            print("status alarms=%s journal_error=%s" % (alarms, batch["status"]["journal_error"] or "-"), flush=True)
        self.send_response(status)
        self.send_header("Vigil-Batch", "2")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("ready", flush=True)
server.serve_forever()
