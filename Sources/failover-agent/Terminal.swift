import Secrets

/// Text for a terminal: control characters other than newline and tab (ANSI escapes included)
/// shown as `\u{1B}` escapes, so a name from a config, a secret or an API cannot drive the terminal.
enum Terminal {
    static func safe(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\t" || !(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }
}

/// Every line the CLI prints goes through here: scrubbed of every credential the process knows,
/// and made safe for a terminal. (It shadows `Swift.print` for strings in this module.)
func print(_ text: String) {
    Swift.print(Terminal.safe(Secrets.scrub(text)))
}
