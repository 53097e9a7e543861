"""A Sparkplug B judge: subscribes to spBv1.0/# with paho-mqtt and decodes
every payload with pysparkplug (not ours), one JSON line per message on
stdout: {"topic", "type", "device", "qos", "retain", "seq", "timestamp",
"metrics": [{"name", "datatype", "value", "timestamp", "is_historical",
"is_null"}]} (STATE messages: {"topic", "type": "STATE", "payload"}).
"subscribed" once the broker granted the subscription.

--rebirth: publish an NCMD "Node Control/Rebirth" (encoded by pysparkplug)
to that edge node as GROUP/EDGE once its first NBIRTH is seen."""
import argparse
import base64
import json
import sys

import paho.mqtt.client as mqtt
import pysparkplug as sp

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--rebirth", help="GROUP/EDGE_NODE")
args = parser.parse_args()

DECODERS = {"NBIRTH": sp.NBirth, "NDEATH": sp.NDeath, "NDATA": sp.NData, "NCMD": sp.NCmd,
            "DBIRTH": sp.DBirth, "DDEATH": sp.DDeath, "DDATA": sp.DData, "DCMD": sp.DCmd}
asked_rebirth = False


def plain(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, float) and value != value:
        return None
    return value if value is None or isinstance(value, (int, float, bool, str)) else str(value)


def on_connect(client, userdata, flags, rc):
    client.subscribe("spBv1.0/#", qos=1)


def on_subscribe(client, userdata, mid, granted):
    print(json.dumps({"subscribed": list(granted)}), flush=True)


def on_message(client, userdata, message):
    global asked_rebirth
    levels = message.topic.split("/")
    out = {"topic": message.topic, "qos": message.qos, "retain": bool(message.retain)}
    if levels[1] == "STATE":
        out.update({"type": "STATE", "payload": message.payload.decode("utf-8", "replace")})
        print(json.dumps(out), flush=True)
        return
    kind = levels[2]
    out.update({"type": kind, "device": levels[4] if len(levels) > 4 else None})
    try:
        payload = DECODERS[kind].decode(message.payload)
    except Exception as error:  # noqa: BLE001 - the judge reports what it cannot decode
        out["error"] = f"{type(error).__name__}: {error}"
        print(json.dumps(out), flush=True)
        return
    metrics = payload.metrics if hasattr(payload, "metrics") else (payload.bd_seq_metric,)
    out["seq"] = getattr(payload, "seq", None)
    out["timestamp"] = payload.timestamp
    out["metrics"] = [{"name": m.name, "datatype": m.datatype.name, "value": plain(m.value), "timestamp": m.timestamp,
                       "is_historical": m.is_historical, "is_null": m.is_null} for m in metrics]
    print(json.dumps(out), flush=True)
    if args.rebirth and kind == "NBIRTH" and not asked_rebirth:
        asked_rebirth = True
        group, edge = args.rebirth.split("/")
        command = sp.NCmd(timestamp=sp.get_current_timestamp(),
                          metrics=(sp.Metric(timestamp=sp.get_current_timestamp(), name="Node Control/Rebirth",
                                             datatype=sp.DataType.BOOLEAN, value=True),))
        client.publish(f"spBv1.0/{group}/NCMD/{edge}", command.encode(), qos=0)


client = mqtt.Client(client_id="sparkplug-judge", clean_session=True, protocol=mqtt.MQTTv311)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.connect("127.0.0.1", args.port, keepalive=10)
try:
    client.loop_forever(retry_first_connection=True)
except KeyboardInterrupt:
    sys.exit(0)
