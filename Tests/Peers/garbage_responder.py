#!/usr/bin/env python3
"""A broken RTU device: answers every request on a serial line with a frame
whose CRC is wrong. Used to prove that garbage marks points bad and the bus
worker goes on. Prints "ready" once the port is open."""
import sys
import time

import serial

port = serial.Serial(sys.argv[1], 9600, timeout=0.05)
print("ready", flush=True)
while True:
    request = port.read(256)
    if not request:
        continue
    unit = request[0]
    # A plausible "read holding registers" answer for 2 registers, bad CRC.
    port.write(bytes([unit, 0x03, 0x04, 0x00, 0x01, 0x00, 0x02, 0xDE, 0xAD]))
    port.flush()
    time.sleep(0.01)
