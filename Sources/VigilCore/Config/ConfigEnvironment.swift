/// What validating a config asks of the machine, given to `ConfigLoader` so that
/// `parse` reads no file of its own: the machine id (the gateway id when the config
/// gives none) and the mode of each file the config names (nil: no such file).
public struct ConfigEnvironment: Sendable {
    public var machineID: String?
    /// Where the machine id came from, for the message when there is none.
    public var machineIDSource: String
    public var fileMode: @Sendable (String) -> UInt32?

    public init(machineID: String?, machineIDSource: String = "/etc/machine-id", fileMode: @escaping @Sendable (String) -> UInt32?) {
        self.machineID = machineID; self.machineIDSource = machineIDSource; self.fileMode = fileMode
    }

    /// This machine: its /etc/machine-id (or the file given), its files as they are now.
    public static func system(machineIDFile: String = "/etc/machine-id") -> ConfigEnvironment {
        let id = (try? readTextFile(machineIDFile)).map(trimmed).flatMap { $0.isEmpty ? nil : $0 }
        return ConfigEnvironment(machineID: id, machineIDSource: machineIDFile, fileMode: { VigilCore.fileMode($0) })
    }
}
