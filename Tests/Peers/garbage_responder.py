#!/usr/bin/env python3
"""A broken RTU device on a serial line: answers every request with garbage,
cycling through three kinds — a frame with a wrong CRC, a well-formed frame
from another unit id, and a frame cut short. Used to prove that garbage marks
points bad with the reason and that the bus worker goes on. Prints "ready"
once the port is open."""
import sys
import time

import serial


def crc16(data: bytes) -> bytes:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes([crc & 0xFF, crc >> 8])


port = serial.Serial(sys.argv[1], 9600, timeout=0.05)
print("ready", flush=True)
kind = 0
while True:
    request = port.read(256)
    if not request:
        continue
    unit, count = request[0], request[5]
    body = bytes([0x03, 2 * count]) + bytes(2 * count)
    if kind == 0:
        frame = bytes([unit]) + body + b"\xde\xad"            # bad CRC
    elif kind == 1:
        other = bytes([(unit % 247) + 1]) + body
        frame = other + crc16(other)                            # another unit answers
    else:
        frame = (bytes([unit]) + body + crc16(bytes([unit]) + body))[:4]  # cut short
    kind = (kind + 1) % 3
    port.write(frame)
    port.flush()
    time.sleep(0.01)
