import VigilAgent

/// Loads a config with the shipped and local profiles; prints every error.
func loadConfig(_ path: String) -> VigilConfig? {
    switch ConfigLoader(profiles: Resources.profileLibrary(), boards: Resources.boardLibrary()).load(file: path) {
    case .success(let config):
        return config
    case .failure(let errors):
        printError(errors.description)
        printError("\(path): \(errors.issues.count) error(s); nothing was started")
        return nil
    }
}
