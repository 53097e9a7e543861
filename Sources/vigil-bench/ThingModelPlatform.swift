import CMosquittoLoader
import Glibc
import VigilCore
import VigilThreads

/// Plays the cloud for formats alink and onenet in the byte budget: a client of the
/// broker that answers every post with code 200, as Alibaba Cloud IoT
/// (`<topic>_reply`) and OneNET (`<topic>/reply`) do, so the uplink's commit point
/// (the platform's reply) comes and its bytes are counted.
final class ThingModelPlatform: @unchecked Sendable {
    private let handle: OpaquePointer
    private let thread = StoppableThread()

    init(port: Int) {
        if let error = CMosquitto_load() { fail(String(cString: error)) }
        guard let m = CMosquitto_new("bench-platform", true, nil) else { fail("mosquitto_new") }
        handle = m
        // Without it Nagle holds each reply behind the broker's delayed ACK: 40 ms a batch.
        _ = CMosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1)
        CMosquitto_connect_v5_callback_set(m) { m, _, rc, _, _ in
            guard rc == 0 else { return }
            // The posts only, not the replies: Alink's `…/thing/event/<what>/post` and history, OneNET's `…/thing/<what>/post`.
            for topic in ["/sys/+/+/thing/event/+/post", "/sys/+/+/thing/event/property/history/post", "$sys/+/+/thing/+/post"] {
                _ = CMosquitto_subscribe_v5(m, nil, topic, 1, 0, nil)
            }
        }
        CMosquitto_message_v5_callback_set(m) { m, _, message, _ in
            guard let m, let message = message?.pointee, let topicPointer = message.topic else { return }
            let topic = String(cString: topicPointer)
            guard topic.hasSuffix("/post"), let bytes = message.payload else { return }
            let payload = String(decoding: UnsafeRawBufferPointer(start: bytes, count: Int(message.payloadlen)), as: UTF8.self)
            guard let root = try? JSON5Reader.parse(payload), case .string(let id)? = root["id"]?.value else { return }
            let reply: (topic: String, json: String) = topic.hasPrefix("$sys/")
                ? (topic + "/reply", #"{"id":"\#(id)","code":200,"msg":"success"}"#)
                : (topic + "_reply", #"{"code":200,"data":{},"id":"\#(id)","message":"success","method":"thing.event.property.post","version":"1.0"}"#)
            _ = Array(reply.json.utf8).withUnsafeBytes { CMosquitto_publish_v5(m, nil, reply.topic, Int32($0.count), $0.baseAddress, 1, false, nil) }
        }
        guard CMosquitto_connect_bind_v5(m, "127.0.0.1", Int32(port), 30, nil) == 0 else { fail("the bench platform cannot connect to the broker on \(port)") }
    }

    func start() {
        let m = UncheckedHandle(pointer: handle), thread = self.thread
        thread.start(name: "bench-platform") { while !thread.isStopping { _ = CMosquitto_loop(m.pointer, 20, 100) } }
        usleep(200_000) // subscribed before the uplink's first post
    }

    func stop() {
        thread.stop()
        _ = CMosquitto_disconnect_v5(handle, 0, nil)
        CMosquitto_destroy(handle)
    }

    private struct UncheckedHandle: @unchecked Sendable { let pointer: OpaquePointer }
}
