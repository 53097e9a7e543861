#!/usr/bin/env python3
"""docs/uplink-protocol.md's version 2 reader, as an upstream written in Python
would have it: reads a batch (JSON, either version) from the file named and prints its
readings as version 1 objects, one JSON line each. The tests hold it against
the gateway's encoder, so the documented function stays right."""
import datetime
import json
import struct
import sys

# A number in place of raw: the registers are the float32 value's own bytes, in this word order.
FLOAT32_BYTE_ORDERS = {1: (0, 1, 2, 3), 2: (2, 3, 0, 1), 3: (1, 0, 3, 2), 4: (3, 2, 1, 0)}


def float32_raw(value, code):
    """The raw registers' text ("4090 08b7") of a float32 value sent with the shorthand."""
    b = struct.pack(">f", value)
    ordered = bytes(b[i] for i in FLOAT32_BYTE_ORDERS[code])
    return ordered[:2].hex() + " " + ordered[2:].hex()


def readings_of(batch):
    """The readings of a batch of either version, as version 1's objects."""
    if batch.get("v", 1) == 1:
        return batch.get("readings", [])
    readings, seq, ms = [], batch["seq"], batch["sent_ms"]
    for row in batch.get("readings", []):
        seq_step, ms_step, device, point, value, raw, unit, quality = row[:8]
        rare = row[8] if len(row) > 8 else {}
        seq, ms = seq + seq_step, ms + ms_step
        ts = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
        reading = {"seq": seq, "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                   "clock_synced": rare.get("clock_synced", True), "device": device, "point": point,
                   "value": value, "quality": quality}
        if isinstance(raw, int):
            raw = float32_raw(value, raw)
        if raw is not None:
            reading["raw"] = raw
        if unit is not None:
            reading["unit"] = unit
        reading.update({k: v for k, v in rare.items() if k != "clock_synced"})
        readings.append(reading)
    return readings


with open(sys.argv[1]) as batch_file:
    batch = json.load(batch_file)
for reading in readings_of(batch):
    print(json.dumps(reading))
