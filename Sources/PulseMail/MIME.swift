import Foundation
import PulseCore

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
            var quoted = "\""
            quoted.reserveCapacity(s.utf8.count + 2)
            for c in s.unicodeScalars {
                if c == "\\" || c == "\"" { quoted.unicodeScalars.append("\\") }
                quoted.unicodeScalars.append(c)
            }
            return quoted + "\""
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
        let hex = Array("0123456789ABCDEF".utf8)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3 / 2)
        var lineLength = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            // A line break in the text (LF or CRLF) is a CRLF in the encoding.
            if b == 0x0A || (b == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A) {
                out.append(0x0D); out.append(0x0A)
                lineLength = 0
                i += b == 0x0D ? 2 : 1
                continue
            }
            let atLineEnd = i + 1 == bytes.count || bytes[i + 1] == 0x0A || bytes[i + 1] == 0x0D
            let literal = (b >= 33 && b <= 126 && b != 61) || ((b == 32 || b == 9) && !atLineEnd)
            let width = literal ? 1 : 3
            if lineLength + width > 75 {
                out.append(61); out.append(0x0D); out.append(0x0A) // soft break
                lineLength = 0
            }
            if literal {
                out.append(b)
            } else {
                out.append(61); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            }
            lineLength += width
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An RFC 5322 date in English, whatever the locale.
    public static func date(_ d: Date) -> String {
        // By hand rather than with a DateFormatter: one message each, thousands a round.
        let seconds = Int(d.timeIntervalSince1970.rounded(.down))
        let day = Day(ordinal: Int((Double(seconds) / 86_400).rounded(.down)))
        let inDay = seconds - day.ordinal * 86_400
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let p = day.parts
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        return "\(names[day.weekday - 1]), \(two(p.day)) \(months[p.month - 1]) \(p.year) "
            + "\(two(inDay / 3600)):\(two(inDay / 60 % 60)):\(two(inDay % 60)) +0000"
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
