public let vigilVersion = "0.1.0"
