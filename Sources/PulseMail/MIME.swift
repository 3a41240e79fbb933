import Foundation

/// A mail address with an optional display name.
public struct MailAddress: Sendable, Equatable {
    public var name: String?
    public var address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }

    /// Parses `Name <addr@host>` or a bare address.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let open = t.lastIndex(of: "<"), t.hasSuffix(">") {
            let addr = String(t[t.index(after: open)..<t.index(before: t.endIndex)])
            var name = String(t[..<open]).trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
            self.init(name: name.isEmpty ? nil : name, address: addr)
        } else {
            self.init(address: t)
        }
        guard MIME.isSafeAddress(address) else { return nil }
    }

    /// The header form: an encoded display name when needed, then `<address>`.
    public var header: String {
        guard let name, !name.isEmpty else { return "<\(address)>" }
        return "\(MIME.encodePhrase(name)) <\(address)>"
    }
}

/// Building RFC 5322 / MIME messages: encoded words for headers, quoted-printable bodies.
public enum MIME {
    /// No line breaks, spaces or angle brackets: nothing that could end a header or an SMTP command.
    static func isSafeAddress(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 254 && s.contains("@")
            && !s.unicodeScalars.contains { $0.value < 0x21 || $0.value > 0x7E || $0 == "<" || $0 == ">" || $0 == "," || $0 == "\"" }
    }

    /// Replaces line breaks and other control characters with spaces, so that no text
    /// from a roster or a survey can start a new header.
    public static func singleLine(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { ($0.value < 0x20 || $0.value == 0x7F || $0 == "\u{2028}" || $0 == "\u{2029}") ? " " : $0 }))
    }

    /// A display name: kept as a quoted string when it is plain ASCII, otherwise RFC 2047 encoded words.
    public static func encodePhrase(_ text: String) -> String {
        let s = singleLine(text)
        if s.unicodeScalars.allSatisfy({ $0.isASCII }) {
            return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return encodedWords(s)
    }

    /// An unstructured header value (Subject): plain when ASCII, encoded words otherwise.
    public static func encodeText(_ text: String) -> String {
        let s = singleLine(text)
        return s.unicodeScalars.allSatisfy({ $0.isASCII }) ? s : encodedWords(s)
    }

    /// `=?UTF-8?B?...?=` words of at most 75 characters, split between characters (never
    /// inside one), joined by folding whitespace.
    static func encodedWords(_ s: String) -> String {
        var words: [String] = []
        var chunk = Data()
        let maxBytes = 39 // 39 bytes → 52 base64 characters, + 12 of framing = 64, + a header name
        for ch in s {
            let bytes = Data(String(ch).utf8)
            if chunk.count + bytes.count > maxBytes, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=")
                chunk = Data()
            }
            chunk.append(bytes)
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// Quoted-printable (RFC 2045): CRLF line ends, lines of at most 76 characters with
    /// soft breaks, `=`, non-ASCII bytes and trailing spaces encoded.
    public static func quotedPrintable(_ text: String) -> String {
        var out = ""
        let hex = Array("0123456789ABCDEF")
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        for (n, line) in lines.enumerated() {
            var current = ""
            let bytes = Array(line.utf8)
            for (i, b) in bytes.enumerated() {
                var piece: String
                let isLast = i == bytes.count - 1
                if (b >= 33 && b <= 126 && b != 61) || (b == 32 && !isLast) || (b == 9 && !isLast) {
                    piece = String(UnicodeScalar(b))
                } else {
                    piece = "=" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
                }
                if current.count + piece.count > 75 {
                    out += current + "=\r\n"
                    current = ""
                }
                current += piece
            }
            out += current
            if n < lines.count - 1 { out += "\r\n" }
        }
        return out
    }

    /// An RFC 5322 date in English, whatever the locale.
    public static func date(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f.string(from: d)
    }

    /// A multipart/alternative message with a plain-text and an HTML part.
    public static func message(from: MailAddress, to: MailAddress, subject: String, messageID: String, date: Date,
                               text: String, html: String, extraHeaders: [(String, String)] = []) -> Data {
        var rng = SystemRandomNumberGenerator()
        let boundary = "=_pulse_" + String(UInt64.random(in: 0...UInt64.max, using: &rng), radix: 36)
            + String(UInt64.random(in: 0...UInt64.max, using: &rng), radix: 36)
        var m = ""
        m += "Date: \(MIME.date(date))\r\n"
        m += "From: \(from.header)\r\n"
        m += "To: \(to.header)\r\n"
        m += "Subject: \(encodeText(subject))\r\n"
        m += "Message-ID: <\(messageID)>\r\n"
        for (k, v) in extraHeaders { m += "\(k): \(singleLine(v))\r\n" }
        m += "MIME-Version: 1.0\r\n"
        m += "Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"\r\n"
        m += "\r\n"
        m += "This is a MIME message: a plain-text and an HTML version of the same text.\r\n"
        m += "--\(boundary)\r\n"
        m += "Content-Type: text/plain; charset=utf-8\r\n"
        m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        m += quotedPrintable(text) + "\r\n"
        m += "--\(boundary)\r\n"
        m += "Content-Type: text/html; charset=utf-8\r\n"
        m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        m += quotedPrintable(html) + "\r\n"
        m += "--\(boundary)--\r\n"
        return Data(m.utf8)
    }
}
