import VigilAgent

/// `vigil config tsl`: the thing model (TSL) of the gateway's own Alink product,
/// every point of every device without its own cloud identity, to import in the
/// console instead of typing them (docs/alink.md).
struct ConfigTSLCommand: Command {
    static let name = "config tsl"
    static let summary = "the Alibaba thing model (TSL) of a config's gateway product"
    static let usage = """
        vigil config tsl [FILE] [--product-key PK]

          FILE            the config (default \(ConfigLoader.defaultPath))
          --product-key   the product's ProductKey (default: the alink uplink's product_key)

        Prints the TSL JSON on stdout; a sub-device's product is `vigil profile tsl NAME`.
        """

    var path: String
    var productKey: String?

    init(_ arguments: inout Arguments) throws(UsageError) {
        productKey = try arguments.option("--product-key")
        path = arguments.positional() ?? ConfigLoader.defaultPath
    }

    func run() -> Int32 {
        guard let config = loadConfig(path) else { return ExitCode.usage }
        var key = productKey
        if key == nil, case .mqtt(let spec) = config.uplink { key = spec.productKey }
        return printThingModel(AlinkThingModel.forGateway(config.devices, productKey: key),
                               entries: AlinkThingModel.gatewayEntries(config.devices))
    }
}

/// The model on stdout, what the platform would refuse on stderr (exit 2 then).
func printThingModel(_ model: AlinkThingModel, entries: [AlinkThingModel.Entry]) -> Int32 {
    let problems = AlinkThingModel.collisions(entries).map(\.message) + AlinkThingModel.tooLong(entries)
    for problem in problems { printError("vigil: \(problem)") }
    guard problems.isEmpty else { return ExitCode.usage }
    if entries.isEmpty { printError("warning: no point to model: every device has its own cloud identity (vigil profile tsl NAME)") }
    say(ControlClient.document(model))
    return ExitCode.ok
}
