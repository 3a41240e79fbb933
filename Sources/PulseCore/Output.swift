/// A JSON value with ordered keys and explicit nulls: the contract's shapes print keys
/// in the documented order and always include null fields, which `JSONEncoder` does not.
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.serialized() == b.serialized() }

    public static func from(_ v: Int?) -> JSON { v.map(JSON.int) ?? .null }
    public static func from(_ v: Double?) -> JSON { v.map(JSON.double) ?? .null }
    public static func from(_ v: String?) -> JSON { v.map(JSON.string) ?? .null }

    /// Compact JSON text.
    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d):
            if !d.isFinite { out += "null" }
            else if d == d.rounded(), abs(d) < 1e15 { out += String(Int(d)) + ".0" }
            else { out += "\(d)" }
        case let .string(s): JSON.quote(s, into: &out)
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                item.write(to: &out)
            }
            out += "]"
        case let .object(pairs):
            out += "{"
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out += ", " }
                JSON.quote(k, into: &out)
                out += ": "
                v.write(to: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        // Most keys and values are printable ASCII with nothing to escape: appended whole.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                // C0, DEL and C1 as \u: the same value, and nothing a terminal acts on.
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// The output formats of reporting commands.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, json, csv, md, html
}

/// Writes CSV with RFC 4180 quoting. Text cells that a spreadsheet would run as a
/// formula (`=`, `+`, `-`, `@`, tab, CR) get a leading apostrophe; numbers are left alone.
public struct CSVWriter {
    public private(set) var text = ""

    public init() {}

    public enum Cell {
        case text(String?)
        case number(Double?)
        case int(Int?)
        case bool(Bool)
    }

    public mutating func row(_ cells: [Cell]) {
        text += cells.map(Self.render).joined(separator: ",")
        text += "\r\n"
    }

    public mutating func header(_ names: [String]) { row(names.map { .text($0) }) }

    static func render(_ cell: Cell) -> String {
        switch cell {
        case let .text(s):
            guard var s else { return "" }
            if let first = s.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { s = "'" + s }
            if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == ";" }) {
                return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return s
        case let .number(d): return d.map { JSON.double($0).serialized() } ?? ""
        case let .int(i): return i.map(String.init) ?? ""
        case let .bool(b): return b ? "true" : "false"
        }
    }
}

/// Terminal styling, applied only when the output is a terminal and `NO_COLOR` is unset.
public struct Style: Sendable {
    public var enabled: Bool
    public init(enabled: Bool) { self.enabled = enabled }

    public func apply(_ code: String, _ s: String) -> String { enabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    /// Every escape sequence `Style` writes: the only ones that reach a terminal as they are.
    static let codes = ["0", "1", "2", "31", "32", "33"].map { "\u{1B}[\($0)m" }
    public func bold(_ s: String) -> String { apply("1", s) }
    public func dim(_ s: String) -> String { apply("2", s) }
    public func red(_ s: String) -> String { apply("31", s) }
    public func green(_ s: String) -> String { apply("32", s) }
    public func yellow(_ s: String) -> String { apply("33", s) }
}

/// An aligned text table for people. Widths count what a terminal shows: combining
/// marks (Thai vowels and tone marks) take no column, East Asian wide characters two.
public struct TextTable {
    public enum Alignment { case left, right }

    public var columns: [(title: String, alignment: Alignment)]
    public var rows: [[(text: String, styled: String)]] = []

    public init(_ columns: [(String, Alignment)]) {
        self.columns = columns.map { (title: TerminalText.escaped($0.0), alignment: $0.1) }
    }

    /// Adds a row. Each cell is shown with its control characters escaped (it is measured
    /// that way too); `styles` colour cells, applied to the escaped text.
    public mutating func add(_ cells: [String], styles: [((String) -> String)?] = []) {
        rows.append(cells.indices.map { i in
            let text = TerminalText.escaped(cells[i])
            return (text, (i < styles.count ? styles[i] : nil)?(text) ?? text)
        })
    }

    /// Adds a row with ready-made styled cells (the same text with colour codes around it).
    /// Prefer `styles`: here a styled cell keeps Pulse's colour codes and nothing else.
    public mutating func add(_ cells: [String], styled: [String]) {
        rows.append(cells.indices.map { i in
            (TerminalText.escaped(cells[i]), i < styled.count ? TerminalText.escapedKeepingStyle(styled[i]) : TerminalText.escaped(cells[i]))
        })
    }

    public func render(style: Style) -> String {
        var widths = columns.map { displayWidth($0.title) }
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], displayWidth(cell.text)) }
        }
        func line(_ cells: [(text: String, styled: String)]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - displayWidth(cell.text))
                parts.append(columns[i].alignment == .left ? cell.styled + pad : pad + cell.styled)
            }
            var s = parts.joined(separator: "  ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        // Only trailing spaces go: a first column without a title (`--by all`) keeps its width.
        var out = style.bold(line(columns.map { ($0.title, $0.title) })) + "\n"
        for row in rows { out += line(row) + "\n" }
        return out
    }
}

/// Columns a string takes in a terminal.
public func displayWidth(_ s: String) -> Int {
    // ASCII: a column a byte (no ASCII character is a mark, a format character or wide).
    if s.utf8.allSatisfy({ $0 < 0x80 }) { return s.utf8.count }
    var w = 0
    for scalar in s.unicodeScalars {
        let p = scalar.properties
        switch p.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: continue
        default: break
        }
        let v = scalar.value
        let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v)
        w += wide ? 2 : 1
    }
    return w
}

/// A one-line chart of a series: ▁▂▃▄▅▆▇█, a space for a missing point.
public func sparkline(_ values: [Double?], lower: Double = 0, upper: Double = 100) -> String {
    let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    return String(values.map { v -> Character in
        guard let v else { return " " }
        let t = (min(max(v, lower), upper) - lower) / (upper - lower)
        return bars[min(bars.count - 1, Int(t * Double(bars.count)))]
    })
}


/// Text from people (names, teams, comments, notes, a CSV value quoted in an error) made
/// safe to print on a terminal: control characters (C0, DEL and C1) are shown as a Swift
/// string literal writes them, `\u{1B}`, and `\n`, `\r`, `\t`, so that a name cannot
/// clear the screen, move the cursor, retitle the window, ring the bell or hide text.
/// Everything else, backslashes included, is left as it is; JSON has the exact value.
public enum TerminalText {
    /// One line (a table cell, a name in a sentence): every control character escaped,
    /// line breaks included.
    public static func escaped(_ s: String) -> String { escape(s, keepingLines: false) }

    /// Text of several lines (a comment, a note, a document): line breaks and tabs kept, a
    /// CRLF read as a line break, every other control character escaped.
    public static func escapedLines(_ s: String) -> String { escape(s, keepingLines: true) }

    /// What goes to a terminal as it is: line breaks, tabs, CRLF and Pulse's own colour
    /// codes (`Style`) kept; every other control character escaped.
    public static func escapedKeepingStyle(_ s: String) -> String {
        guard hasControl(s) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var rest = Substring(s)
        while let esc = rest.firstIndex(of: "\u{1B}") {
            out += escape(String(rest[..<esc]), keepingLines: true, keepingCR: true)
            rest = rest[esc...]
            if let code = Style.codes.first(where: { rest.hasPrefix($0) }) {
                out += code
                rest = rest.dropFirst(code.count)
            } else {
                out += "\\u{1B}"
                rest = rest.dropFirst()
            }
        }
        return out + escape(String(rest), keepingLines: true, keepingCR: true)
    }

    static func isControl(_ c: Unicode.Scalar) -> Bool { c.value < 0x20 || (0x7F...0x9F).contains(c.value) }

    /// Whether a string holds a control character, by its UTF-8 bytes (C1 is C2 80-9F):
    /// the common case, text without any, costs one pass over the bytes.
    static func hasControl(_ s: String) -> Bool {
        var previous: UInt8 = 0
        for b in s.utf8 {
            if b < 0x20 || b == 0x7F || (previous == 0xC2 && b >= 0x80 && b <= 0x9F) { return true }
            previous = b
        }
        return false
    }

    static func escape(_ s: String, keepingLines: Bool, keepingCR: Bool = false) -> String {
        guard hasControl(s) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        let scalars = Array(s.unicodeScalars)
        for (i, c) in scalars.enumerated() {
            switch c {
            case "\n": out += keepingLines ? "\n" : "\\n"
            case "\t": out += keepingLines ? "\t" : "\\t"
            case "\r" where keepingLines && i + 1 < scalars.count && scalars[i + 1] == "\n":
                if keepingCR { out += "\r" }
            case "\r": out += "\\r"
            case _ where isControl(c): out += "\\u{" + String(c.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
