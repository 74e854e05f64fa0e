import ControlAPI
import YAMLConfig

extension Field where Value == Credential {
    /// A credential written `<name>_env` (an environment variable) or `<name>_file` (a file,
    /// relative to the configuration file's directory, re-read when it changes): exactly one of
    /// them; required when `fallback` is nil.
    static func credential(_ name: String = "token", default fallback: Credential? = nil, _ meaning: String) -> Field {
        Field(credentialDescription(name, fallback.map(describe) ?? "required", meaning)) { yaml throws(ConfigError) in
            guard let credential = try readCredential(name, yaml) ?? fallback else {
                throw yaml.error(nil, "\(yaml.path) needs exactly one of \(name)_env or \(name)_file")
            }
            return credential
        }
    }
}

extension Field where Value == Credential? {
    /// A credential that may be absent.
    static func optionalCredential(_ name: String = "token", _ meaning: String) -> Field {
        Field(credentialDescription(name, "none", meaning)) { yaml throws(ConfigError) in try readCredential(name, yaml) }
    }
}

private func credentialDescription(_ name: String, _ fallback: String, _ meaning: String) -> FieldDescription {
    FieldDescription(
        name: name, keys: [name + "_env", name + "_file"], type: "credential", defaultText: fallback,
        bounds: "\(name)_env: a variable, or \(name)_file: a path", meaning: meaning)
}

private func describe(_ credential: Credential) -> String {
    switch credential {
    case .environment(let variable): "env \(variable)"
    case .file(let path): "file \(path)"
    }
}

private func readCredential(_ name: String, _ yaml: YAMLFields) throws(ConfigError) -> Credential? {
    switch (try yaml.optionalString(name + "_env"), try yaml.optionalString(name + "_file")) {
    case (let variable?, nil): return .environment(variable)
    case (nil, let file?): return .file(yaml.resolve(file))
    case (nil, nil): return nil
    default: throw yaml.error(nil, "\(yaml.path) needs exactly one of \(name)_env or \(name)_file")
    }
}
