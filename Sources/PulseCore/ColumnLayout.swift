/// Where each of a command's columns is in a CSV file's header, with `--map` applied.
public struct ColumnLayout: Sendable {
    /// Contract column name → index in the record.
    public private(set) var indices: [String: Int] = [:]
    /// Header cells that no column reads, as written.
    public private(set) var unused: [(index: Int, name: String)] = []

    public func index(_ column: String) -> Int? { indices[column] }
    public func has(_ column: String) -> Bool { indices[column] != nil }

    /// Parses `--map column=Header` options.
    public static func parseMap(_ options: [String], known: [String]) throws(PulseError) -> [String: String] {
        var map: [String: String] = [:]
        for option in options {
            let parts = option.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .usage("--map \(option): write it as column=Header, like --map email=\"Email Address\"")
            }
            let column = parts[0].lowercased()
            guard known.contains(column) else {
                throw .usage("--map \(option): \(column) is not a column here; the columns are \(known.joined(separator: ", "))")
            }
            map[column] = parts[1]
        }
        return map
    }

    /// Matches a header against the columns a command reads. Header names match
    /// case-insensitively and with surrounding spaces ignored.
    /// - Parameters:
    ///   - required: columns that must be present; a group like `["email", "token"]`
    ///     in `oneOf` needs at least one of its names.
    ///   - map: `--map` renames (column → header as written in the file).
    /// - Throws: `PulseError.invalidInput` naming line 1 and the missing or doubled column.
    public init(header: [String], file: String, required: [String], oneOf: [[String]] = [],
                optional: [String], map: [String: String] = [:]) throws(PulseError) {
        var byName: [String: Int] = [:]
        var issues: [InputIssue] = []
        for (i, h) in header.enumerated() {
            let key = h.lowercased()
            if key.isEmpty { continue }
            if let first = byName[key] {
                issues.append(InputIssue(file: file, line: 1, field: h, "the column appears twice (columns \(first + 1) and \(i + 1))"))
            } else {
                byName[key] = i
            }
        }
        var used: Set<Int> = []
        for column in required + oneOf.flatMap({ $0 }) + optional {
            let headerName = (map[column] ?? column).lowercased()
            if let i = byName[headerName] {
                indices[column] = i
                used.insert(i)
            } else if map[column] != nil {
                issues.append(InputIssue(file: file, line: 1, field: column,
                    "--map \(column)=\(map[column]!): the file has no column \"\(map[column]!)\""))
            }
        }
        let hint: String
        if header.count == 1, let only = header.first, only.contains(";") || only.contains("\t") || only.contains("|") {
            hint = "; the header reads as one column \"\(only.prefix(40))\": is the file delimited by something other than a comma or a semicolon?"
        } else {
            hint = " (the header has: \(header.prefix(12).joined(separator: ", ")))"
        }
        for column in required where indices[column] == nil && map[column] == nil {
            issues.append(InputIssue(file: file, line: 1, field: column, "the required column is missing\(hint)"))
        }
        for group in oneOf where group.allSatisfy({ indices[$0] == nil && map[$0] == nil }) {
            issues.append(InputIssue(file: file, line: 1, field: group.joined(separator: "/"),
                                     "one of the columns \(group.joined(separator: " or ")) is required\(hint)"))
        }
        guard issues.isEmpty else { throw .invalidInput(issues) }
        unused = header.enumerated().filter { !used.contains($0.offset) && !$0.element.isEmpty }.map { ($0.offset, $0.element) }
    }
}

/// Checks shared by the importers.
public enum Validate {
    /// A plausible mail address: one @, a dot in the domain, no spaces, angle brackets
    /// or control characters.
    public static func isEmail(_ s: String) -> Bool {
        guard s.count <= 254, let at = s.firstIndex(of: "@"), s.filter({ $0 == "@" }).count == 1 else { return false }
        let local = s[..<at], domain = s[s.index(after: at)...]
        // By scalars: "\r\n" is one Character, equal to neither "\r" nor "\n".
        let bad: Set<Unicode.Scalar> = [" ", "<", ">", "(", ")", ",", ";", ":", "\"", "[", "]", "\\"]
        guard !local.isEmpty, local.count <= 64, domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."),
              !domain.contains(".."), controlCharacter(in: s) == nil,
              !s.unicodeScalars.contains(where: { bad.contains($0) || $0.properties.isWhitespace }) else { return false }
        return true
    }

    /// The first control character in a text: C0 and C1 controls (CR, LF, tab, NUL,
    /// DEL...), invisible format characters (bidirectional overrides, zero-width
    /// spaces) and line or paragraph separators. No address or name in a mail header
    /// may hold one.
    public static func controlCharacter(in s: String) -> Unicode.Scalar? {
        s.unicodeScalars.first { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator: true
            default: false
            }
        }
    }

    /// A text with its control characters written out (`\r`, `\n`, `\t`, `\u{202E}`),
    /// to show it in a message without the terminal acting on it.
    public static func visible(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if controlCharacter(in: String(scalar)) != nil {
                    out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    public static func isLocale(_ s: String) -> Bool {
        (try? #/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/#.wholeMatch(in: s)) != nil
    }
}
