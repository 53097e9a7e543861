"""What Alibaba's own device SDK (PyPI aliyun-iot-linkkit) signs for a device:
the HMAC-SHA256 login it builds for a sub-device's topo add, whose clientId
is `<productKey>.<deviceName>` — the same sign content a device's MQTT login
uses. The SDK's clock is pinned to the given milliseconds and its MQTT client
replaced by a recorder, so nothing leaves the machine.
Prints `<clientId> <timestamp> <sign>`."""
import json
import sys

from linkkit import linkkit

product_key, device_name, device_secret, millis = sys.argv[1:5]
kit = linkkit.LinkKit(host_name="cn-shanghai", product_key="gateway", device_name="gateway", device_secret="unused")


class Recorder:
    def publish(self, topic, payload, qos):
        self.payload = payload
        return 0, 1


recorder = Recorder()
kit._LinkKit__mqtt_client = recorder
linkkit.LinkKit._LinkKit__timestamp = staticmethod(lambda: int(millis))
rc, _ = kit.gateway_add_subdev_topo([[product_key, device_name, device_secret]])
if rc != 0:
    sys.exit("the SDK refused the inputs: %s" % rc)
params = json.loads(recorder.payload)["params"][0]
print(params["clientId"], params["timestamp"], params["sign"])
