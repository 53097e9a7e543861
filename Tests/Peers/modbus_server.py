#!/usr/bin/env python3
"""A Modbus server for Vigil's tests, built on pymodbus (a peer we did not write).

Serves one device (unit id --unit) over TCP, on a serial line (RTU), or as RTU
frames over TCP (--rtu-over-tcp: a serial device server in transparent mode), with the
registers given as JSON: {"holding": {"0": [1, 2]}, "input": {...},
"coil": {"0": [true, false]}, "discrete": {...}}. Addresses not listed answer
with ILLEGAL DATA ADDRESS. Prints "ready" on stdout once it listens.
"""
import argparse
import asyncio
import json
import sys

from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def blocks(spec, bits):
    out = []
    for address, values in sorted(spec.items(), key=lambda kv: int(kv[0])):
        if bits:
            out.append(SimData(int(address), values=[bool(v) for v in values], datatype=DataType.BITS))
        else:
            out.append(SimData(int(address), values=list(values), datatype=DataType.REGISTERS))
    # pymodbus needs at least one block per table: park one far away.
    return out or [SimData(60000, values=[False] * 16 if bits else [0], datatype=DataType.BITS if bits else DataType.REGISTERS)]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tcp", type=int, help="port on 127.0.0.1")
    parser.add_argument("--serial", help="tty for RTU")
    parser.add_argument("--rtu-over-tcp", type=int, help="port on 127.0.0.1, RTU framing")
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--unit", type=int, default=1)
    parser.add_argument("--registers", required=True, help="JSON register map")
    args = parser.parse_args()
    spec = json.loads(args.registers)
    device = SimDevice(
        id=args.unit,
        simdata=(
            blocks(spec.get("coil", {}), True),
            blocks(spec.get("discrete", {}), True),
            blocks(spec.get("holding", {}), False),
            blocks(spec.get("input", {}), False),
        ),
    )
    if args.tcp:
        server = ModbusTcpServer(device, address=("127.0.0.1", args.tcp))
    elif args.rtu_over_tcp:
        server = ModbusTcpServer(device, address=("127.0.0.1", args.rtu_over_tcp), framer="rtu")
    else:
        server = ModbusSerialServer(device, port=args.serial, baudrate=args.baud, framer="rtu")
    task = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(0.5)
    print("ready", flush=True)
    await task


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
