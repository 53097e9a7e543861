/// A long-running part of the agent, by kind and, where there are several, by
/// its config id. The supervisor watches parts by this id and restarts them by
/// it; `description` is how logs and systemd's STATUS name them.
public enum PartID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The buses and the journal writer they feed, as one group.
    case polling
    case bus(String)
    case gpioInput(String)
    case statusLED
    /// The thread that decodes polls and writes records (the journal's one writer).
    case journalWriter
    /// The thread that makes written records durable (fsync).
    case journalCommit
    case forwarder
    case controlSocket
    /// Commands from the platform (ThingsBoard RPC, Sparkplug NCMD/DCMD).
    case remoteCommands
    /// The GPIO inputs and the status LED.
    case gpio
    /// The GPIO outputs, released to their safe states when the agent stops.
    case outputs

    public var description: String {
        switch self {
        case .polling: "polling"
        case .bus(let id): "bus \(id)"
        case .gpioInput(let id): "gpio input \(id)"
        case .statusLED: "status led"
        case .journalWriter: "journal writer"
        case .journalCommit: "journal commit"
        case .forwarder: "forwarder"
        case .controlSocket: "control socket"
        case .remoteCommands: "remote commands"
        case .gpio: "gpio inputs"
        case .outputs: "gpio outputs"
        }
    }

    public static func < (a: PartID, b: PartID) -> Bool { a.description < b.description }
}
