"""A Modbus server from Debian's python3-pymodbus, as an independent peer for the tests.

Usage: /usr/bin/python3 pymodbus_server.py SPEC_JSON
SPEC: {"mode": "tcp" | "rtu", "device": "/dev/pts/N" (rtu), "parity": "N" (rtu), "units": [1, 2],
       "tags": [{"register", "address", "type", "order", "value", "length"?}]}
Every value is encoded here with Python's struct, independently of the collector's
decoder. Prints one JSON line ({"port": N} for tcp, {"ready": true} for rtu) once serving.
"""
import asyncio
import json
import logging
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.server.async_io import ModbusSerialServer, ModbusTcpServer

logging.basicConfig(level=logging.CRITICAL)

FORMATS = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "float32": ">f",
           "int64": ">q", "uint64": ">Q", "float64": ">d"}


def words(tag):
    if tag["type"] == "string":
        raw = tag["value"].encode("latin1").ljust(tag["length"] * 2, b"\0")
    else:
        value = int(tag["value"]) if "int" in tag["type"] else float(tag["value"])
        raw = struct.pack(FORMATS[tag["type"]], value)
    order = tag.get("order", "ABCD")
    regs = [raw[i:i + 2] for i in range(0, len(raw), 2)]
    if order in ("BADC", "DCBA"):
        regs = [r[::-1] for r in regs]
    if order in ("CDAB", "DCBA"):
        regs = regs[::-1]
    return [int.from_bytes(r, "big") for r in regs]


def build(spec):
    hr, ir, co, di = ([0] * 400 for _ in range(4))
    for tag in spec["tags"]:
        a = tag["address"]
        if tag["register"] in ("coil", "discrete"):
            (co if tag["register"] == "coil" else di)[a] = 1 if tag["value"] else 0
            continue
        table = hr if tag["register"] == "holding" else ir
        for i, w in enumerate(words(tag)):
            table[a + i] = w
    slaves = {}
    for unit in spec["units"]:
        slaves[unit] = ModbusSlaveContext(
            di=ModbusSequentialDataBlock(0, di), co=ModbusSequentialDataBlock(0, co),
            hr=ModbusSequentialDataBlock(0, hr), ir=ModbusSequentialDataBlock(0, ir),
            zero_mode=True)
    return ModbusServerContext(slaves=slaves, single=False)


async def main():
    spec = json.loads(sys.argv[1])
    context = build(spec)
    if spec["mode"] == "tcp":
        server = ModbusTcpServer(context, address=("127.0.0.1", 0))
        task = asyncio.create_task(server.serve_forever())
        await server.serving
        port = server.server.sockets[0].getsockname()[1]
        print(json.dumps({"port": port}), flush=True)
        await task
    else:
        server = ModbusSerialServer(context, framer=ModbusRtuFramer, port=spec["device"],
                                    baudrate=19200, parity=spec.get("parity", "N"),
                                    bytesize=8, stopbits=1)
        await server.start()
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.Event().wait()


asyncio.run(main())
