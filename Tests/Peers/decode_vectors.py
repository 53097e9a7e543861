#!/usr/bin/env python3
"""Decoding vectors from pymodbus's own encoder, for RegisterCodec's tests.

For each type and value: the registers pymodbus produces with word_order big
(our abcd) and little (our cdab); badc and dcba are those with the bytes of
each register swapped. Printed as JSON.
"""
import json
import struct

from pymodbus.client import ModbusTcpClient as C

T = C.DATATYPE
VALUES = {
    "int16": (T.INT16, [0, 1, -1, 12345, -32768, 32767]),
    "uint16": (T.UINT16, [0, 1, 40000, 65535]),
    "int32": (T.INT32, [0, -1, 123456789, -2147483648, 2147483647]),
    "uint32": (T.UINT32, [0, 1, 4000000000, 4294967295]),
    "int64": (T.INT64, [0, -1, 1234567890123456789, -9223372036854775808]),
    "uint64": (T.UINT64, [0, 18446744073709551615, 1311768467463790320]),
    "float32": (T.FLOAT32, [0.0, 1.5, -273.25, 23.4, 3.4028234663852886e38, 1e-5]),
    "float64": (T.FLOAT64, [0.0, -1.25, 3.141592653589793, 1e300, 2.2250738585072014e-308]),
}


def swap(regs):
    return [((r & 0xFF) << 8) | (r >> 8) for r in regs]


vectors = []
for name, (datatype, values) in VALUES.items():
    for value in values:
        big = C.convert_to_registers(value, datatype, word_order="big")
        little = C.convert_to_registers(value, datatype, word_order="little")
        # What pymodbus decodes back, so float32 rounding is pymodbus's, not ours.
        decoded = C.convert_from_registers(big, datatype, word_order="big")
        for order, regs in (("abcd", big), ("cdab", little), ("badc", swap(big)), ("dcba", swap(little))):
            vector = {"type": name, "order": order, "registers": regs, "value": decoded}
            if isinstance(decoded, float):
                # Exact bits: JSON number parsers may round the last digit.
                vector["float64_bits"] = struct.pack(">d", decoded).hex()
            vectors.append(vector)

text = "Vigil01"
vectors.append({"type": "string", "order": "abcd", "registers": C.convert_to_registers(text, T.STRING), "value": text})
print(json.dumps(vectors))
