"""Publishes one Sparkplug B command (NCMD or DCMD) encoded by pysparkplug, as a
SCADA host would: sparkplug_command.py PORT TOPIC METRIC DATATYPE VALUE
(DATATYPE a pysparkplug DataType name: UINT16, FLOAT, BOOLEAN, …)."""
import sys

import paho.mqtt.publish as publish
import pysparkplug as sp

port, topic, name, datatype, text = sys.argv[1:6]
kind = getattr(sp.DataType, datatype)
value = text == "true" if kind == sp.DataType.BOOLEAN else float(text) if kind in (sp.DataType.FLOAT, sp.DataType.DOUBLE) else int(text)
now = sp.get_current_timestamp()
metric = sp.Metric(timestamp=now, name=name, datatype=kind, value=value)
payload = (sp.NCmd if "/NCMD/" in topic else sp.DCmd)(timestamp=now, metrics=(metric,))
publish.single(topic, payload.encode(), qos=0, hostname="127.0.0.1", port=int(port))
