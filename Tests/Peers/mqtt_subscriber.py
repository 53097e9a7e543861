"""A paho-mqtt subscriber, the judge of what reached the broker: one JSON line
per message on stdout ({"topic", "retain", "payload"}), "subscribed" once the
broker granted the subscription. A persistent session (clean_session false,
QoS 1), so messages published while it is reconnecting wait for it."""
import argparse
import json
import sys

import paho.mqtt.client as mqtt

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--topic", required=True)
parser.add_argument("--client-id", default="vigil-test-judge")
parser.add_argument("--username")
parser.add_argument("--password")
parser.add_argument("--answer-session-limits", action="store_true",
                    help="play ThingsBoard: answer a gateway's getSessionLimits RPC (it sends nothing before)")
parser.add_argument("--alink-code-file",
                    help="play Alibaba Cloud IoT: answer each Alink post on <topic>_reply with the code in this file "
                         "(none while the file is empty or missing)")
parser.add_argument("--onenet-code-file",
                    help="play China Mobile OneNET: answer each OneJSON post on <topic>/reply with the code in this file "
                         "(none while the file is empty or missing)")
args = parser.parse_args()


def code_in(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def answer_alink(client, message):
    code = code_in(args.alink_code_file)
    if not code:
        return
    request = json.loads(message.payload)
    reply = {"code": int(code), "data": {}, "id": request["id"], "message": "success" if code == "200" else "refused by the test",
             "method": request.get("method"), "version": "1.0"}
    client.publish(message.topic + "_reply", json.dumps(reply), qos=1)


def answer_onenet(client, message):
    code = code_in(args.onenet_code_file)
    if not code:
        return
    request = json.loads(message.payload)
    reply = {"id": request["id"], "code": int(code), "msg": "success" if code == "200" else "refused by the test"}
    client.publish(message.topic + "/reply", json.dumps(reply), qos=1)


def on_connect(client, userdata, flags, rc):
    client.subscribe(args.topic, qos=1)


def on_subscribe(client, userdata, mid, granted):
    print(json.dumps({"subscribed": list(granted)}), flush=True)


def on_message(client, userdata, message):
    print(json.dumps({"topic": message.topic, "retain": bool(message.retain),
                      "payload": message.payload.decode("utf-8", "replace")}), flush=True)
    if args.alink_code_file and message.topic.startswith("/sys/") and message.topic.endswith("/post"):
        answer_alink(client, message)
    if args.onenet_code_file and message.topic.startswith("$sys/") and message.topic.endswith("/post"):
        answer_onenet(client, message)
    if args.answer_session_limits and message.topic.startswith("v1/devices/me/rpc/request/"):
        request = json.loads(message.payload)
        if request.get("method") == "getSessionLimits":
            reply = {"maxPayloadSize": 65536, "maxInflightMessages": 100, "rateLimits": {}}
            client.publish(message.topic.replace("/request/", "/response/"), json.dumps(reply), qos=1)


client = mqtt.Client(client_id=args.client_id, clean_session=False, protocol=mqtt.MQTTv311)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.reconnect_delay_set(min_delay=1, max_delay=1)
if args.username:
    client.username_pw_set(args.username, args.password)
client.connect("127.0.0.1", args.port, keepalive=10)
try:
    client.loop_forever(retry_first_connection=True)
except KeyboardInterrupt:
    sys.exit(0)
