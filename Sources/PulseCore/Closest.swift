/// Names a person mistyped: the closest known ones, for "did you mean".
public enum Closest {
    /// Levenshtein distance over characters.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let current = row[j]
                row[j] = a[i - 1] == b[j - 1] ? previous : min(previous, row[j], row[j - 1]) + 1
                previous = current
            }
        }
        return row[b.count]
    }

    /// The known names within a few edits of `wanted` (case aside), closest first.
    public static func names(to wanted: String, in known: [String], limit: Int = 3) -> [String] {
        let w = wanted.lowercased()
        return known.map { ($0, distance($0.lowercased(), w)) }
            .filter { $0.1 <= max(2, w.count / 3) || $0.0.lowercased().hasPrefix(w) && w.count >= 3 }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(limit).map(\.0)
    }

    /// An unknown survey, team or rep (exit 65): the closest known names, and the list.
    /// - Parameters:
    ///   - kind: what it is not, as in "no such team".
    ///   - listLabel: how the list is introduced, as in "the teams are".
    public static func unknown(_ kind: String, _ name: String, known: [String], listLabel: String) -> PulseError {
        let close = names(to: name, in: known)
        var message = "no such \(kind)"
        if !close.isEmpty { message += "; did you mean \(close.joined(separator: " or "))?" }
        let listed = known.sorted()
        message += listed.isEmpty ? " (there are none yet)"
            : " (\(listLabel): \(listed.prefix(20).joined(separator: ", "))\(listed.count > 20 ? ", and \(listed.count - 20) more" : ""))"
        return .input(InputIssue(file: name, message))
    }
}
