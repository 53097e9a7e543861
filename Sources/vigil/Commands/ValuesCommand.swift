import VigilAgent

struct ValuesCommand: Command {
    static let name = "values"
    static let summary = "the latest value of every point, with quality and age"
    static let usage = """
        vigil values [DEVICE] [--json] [--socket PATH]

          DEVICE   one device (default: all; `gpio` for the gateway's inputs)
        \(ControlOptions.usage)
        """

    var options: ControlOptions
    var device: String?

    init(_ arguments: inout Arguments) throws(UsageError) {
        options = try ControlOptions(&arguments)
        device = arguments.positional()
    }

    func run() -> Int32 {
        var request = ControlRequest("values")
        request.device = device
        return options.run(request, as: [ValueReport].self, render: Self.render)
    }

    static func render(_ values: [ValueReport]) -> String {
        var table = Table("DEVICE", "POINT", "VALUE", "UNIT", "QUALITY", "AGE", "RAW", "NOTE")
        for v in values {
            let note = [v.label, v.mode.map { "mode \($0)" }, v.error].compactMap { $0 }.joined(separator: "; ")
            table.add(v.device, v.point, v.value?.text ?? "-", v.unit ?? "", v.quality, age(v.ageSeconds), v.raw.isEmpty ? "-" : v.raw, note)
        }
        return values.isEmpty ? "no readings yet" : table.text
    }
}
