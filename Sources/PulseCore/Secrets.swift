/// The user info of URLs (`smtp://user:password@host`): recognised, so that a password
/// there is refused, and cut out of everything Pulse prints or stores, since libcurl's
/// and servers' words can quote the URL.
public enum URLUserInfo {
    /// Every `scheme://userinfo@` in a text with its user info replaced by `***`. A URL
    /// runs to the next space or quote; its user info to the last `@` in it, so that a
    /// password with a `/` or an `@` in it is cut whole (a later `@` in a path takes more
    /// of the URL with it, never less).
    public static func redacted(_ text: String) -> String {
        guard text.contains("://") else { return text }
        var out = ""
        var rest = Substring(text)
        while let mark = rest.range(of: "://") {
            out += rest[..<mark.upperBound]
            rest = rest[mark.upperBound...]
            let end = rest.firstIndex(where: { $0.isWhitespace || "\"'<>`".contains($0) }) ?? rest.endIndex
            if let at = rest[..<end].lastIndex(of: "@") {
                out += "***"
                rest = rest[at...]
            }
        }
        return out + rest
    }

    /// Whether a URL carries a password (`user:password@`), by the same reading as `redacted`.
    public static func hasPassword(_ url: String) -> Bool {
        guard let mark = url.range(of: "://") else { return false }
        let rest = url[mark.upperBound...]
        let end = rest.firstIndex(where: { $0.isWhitespace || "\"'<>`".contains($0) }) ?? rest.endIndex
        guard let at = rest[..<end].lastIndex(of: "@") else { return false }
        return rest[..<at].contains(":")
    }
}
