/// Huawei Cloud IoTDA's device MQTT interface (docs/iotda.md), as its API
/// reference gives it ("网关批量设备属性上报", "网关更新子设备状态", "设备事件上报"):
/// the gateway reports each configured device as a child device; the broker's
/// PUBACK is the commit point (IoTDA does not answer property reports).
public struct IoTDAFormat: MessageFormat {
    /// The gateway's own device id.
    public let gatewayID: String
    /// The product model's service the points belong to.
    public let serviceID: String
    /// Vigil device id → IoTDA child device id.
    public let childIDs: [String: String]
    /// IoTDA takes at most 100 child devices in one batch report.
    public static let maxDevicesPerReport = 100

    public init(gatewayID: String, serviceID: String, childIDs: [String: String]) {
        self.gatewayID = gatewayID; self.serviceID = serviceID; self.childIDs = childIDs
    }

    private var reportTopic: String { "$oc/devices/\(gatewayID)/sys/gateway/sub_devices/properties/report" }
    private var eventsTopic: String { "$oc/devices/\(gatewayID)/sys/events/up" }

    public var batchesCarryStatus: Bool { false }
    public func presence(online: Bool, status: GatewayStatus?, sentAt: WallTime) -> UplinkMessage? { nil }

    public func messages(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UplinkMessage] {
        var out: [UplinkMessage] = []
        var polls: [(child: String, readings: [Reading])] = []
        for stored in batch.records {
            switch stored.record {
            case .reading(let r):
                guard r.value != nil, let child = childIDs[r.device] else { continue }
                // One poll: the readings of one device at one time, stored together.
                if let last = polls.last, last.child == child, last.readings[0].timestamp.milliseconds == r.timestamp.milliseconds {
                    polls[polls.count - 1].readings.append(r)
                } else {
                    polls.append((child, [r]))
                }
            case .event(let e):
                if let message = event(e) { out.append(message) }
            }
        }
        // A report holds a child once per poll time and at most 100 entries: a new report when either would break.
        var report: [(child: String, readings: [Reading])] = []
        for poll in polls {
            if report.count == Self.maxDevicesPerReport || report.contains(where: { $0.child == poll.child }) {
                out.append(propertiesReport(report))
                report = []
            }
            report.append(poll)
        }
        if !report.isEmpty { out.append(propertiesReport(report)) }
        return out
    }

    /// `{"devices":[{"device_id":…,"services":[{"service_id":…,"properties":{…},"event_time":"2026-11-28T21:06:40.000Z"}]}]}`
    private func propertiesReport(_ polls: [(child: String, readings: [Reading])]) -> UplinkMessage {
        var out: [UInt8] = []
        RecordJSON.literal(#"{"devices":["#, to: &out)
        for (i, poll) in polls.enumerated() {
            if i > 0 { out.append(0x2C) }
            RecordJSON.literal(#"{"device_id":"#, to: &out); RecordJSON.appendString(poll.child, to: &out)
            RecordJSON.literal(#","services":[{"service_id":"#, to: &out); RecordJSON.appendString(serviceID, to: &out)
            RecordJSON.literal(#","properties":{"#, to: &out)
            for (j, r) in poll.readings.enumerated() {
                if j > 0 { out.append(0x2C) }
                RecordJSON.appendString(r.point, to: &out)
                out.append(0x3A)
                RecordJSON.appendValue(r.value, to: &out)
            }
            // The millisecond form IoTDA takes: yyyy-MM-dd'T'HH:mm:ss.SSS'Z'.
            RecordJSON.literal(#"},"event_time":"#, to: &out); RecordJSON.appendString(poll.readings[0].timestamp.iso8601, to: &out)
            RecordJSON.literal("}]}", to: &out)
        }
        RecordJSON.literal("]}", to: &out)
        return UplinkMessage(topic: reportTopic, payload: out)
    }

    /// A child online or offline: the `$sub_device_manager` service's `sub_device_update_status`.
    /// An alarm raised or cleared: event `alarm` of the points' service, for the child.
    private func event(_ e: Event) -> UplinkMessage? {
        guard let device = e.device, let child = childIDs[device] else { return nil }
        var out: [UInt8] = []
        RecordJSON.literal(#"{"object_device_id":"#, to: &out)
        switch e.kind {
        case .deviceOnline, .deviceOffline:
            RecordJSON.appendString(gatewayID, to: &out)
            RecordJSON.literal(#","services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status","event_time":"#, to: &out)
            RecordJSON.appendString(e.timestamp.iso8601, to: &out)
            RecordJSON.literal(#","paras":{"device_statuses":[{"device_id":"#, to: &out)
            RecordJSON.appendString(child, to: &out)
            RecordJSON.literal(e.kind == .deviceOnline ? #","status":"ONLINE"}]}}]}"# : #","status":"OFFLINE"}]}}]}"#, to: &out)
        case .alarmRaised, .alarmCleared:
            guard let alarm = e.alarm else { return nil }
            RecordJSON.appendString(child, to: &out)
            RecordJSON.literal(#","services":[{"service_id":"#, to: &out); RecordJSON.appendString(serviceID, to: &out)
            RecordJSON.literal(#","event_type":"alarm","event_time":"#, to: &out); RecordJSON.appendString(e.timestamp.iso8601, to: &out)
            RecordJSON.literal(#","paras":{"point":"#, to: &out); RecordJSON.appendString(alarm.point, to: &out)
            RecordJSON.literal(#","level":"#, to: &out); RecordJSON.appendString(alarm.level.rawValue, to: &out)
            RecordJSON.literal(e.kind == .alarmRaised ? #","state":"raised""# : #","state":"cleared""#, to: &out)
            RecordJSON.literal(#","value":"#, to: &out); RecordJSON.appendValue(alarm.value.map { .double($0) }, to: &out)
            RecordJSON.literal(#","setpoint":"#, to: &out); RecordJSON.appendValue(.double(alarm.setpoint), to: &out)
            RecordJSON.literal("}}]}", to: &out)
        default:
            return nil // acknowledgements, outputs: kept in the journal and `vigil status`
        }
        return UplinkMessage(topic: eventsTopic, payload: out)
    }
}
