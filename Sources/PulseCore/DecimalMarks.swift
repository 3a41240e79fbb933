import Foundation

/// Which mark is the decimal one in the amounts of one import file.
///
/// A cell like `1,234.50` shows it; `1,234`, `1.234` and `1,5` do not (see
/// `Parse.decimalEvidence`). Those take the mark from `--decimal`, or else from the
/// other amounts of the same file, looked through once when the first such cell comes;
/// when neither says, the import is refused at the first one. What decided each reading
/// is said naming the line: in a warning when `--decimal` decided, in a note when
/// the file did.
public final class DecimalMarks {
    let file: String
    let explicit: DecimalMark?
    private let scan: () throws(PulseError) -> [DecimalMark: (line: Int, text: String)]
    private var shown: [DecimalMark: (line: Int, text: String)]?
    /// The cells whose reading the file or `--decimal` decided: how many, and the first.
    private(set) var decided = 0
    private var first: (line: Int, field: String, text: String, cents: Int)?
    /// Cells that nothing decided: how many, and the first.
    private var undecided = 0
    private var firstUndecided: (line: Int, field: String, text: String)?

    /// - Parameter scan: the first line and cell of each mark the file's amounts show.
    public init(file: String, explicit: DecimalMark?, scan: @escaping () throws(PulseError) -> [DecimalMark: (line: Int, text: String)]) {
        self.file = file
        self.explicit = explicit
        self.scan = scan
    }

    /// The activity or quota file's money cells: the first line showing each mark.
    public static func scan(_ reader: CSVReader, columns: [Int]) throws(PulseError) -> [DecimalMark: (line: Int, text: String)] {
        var found: [DecimalMark: (line: Int, text: String)] = [:]
        try reader.forEachRecord { record throws(PulseError) in
            for i in columns {
                guard found.count < 2, let t = record.string(i)?.trimmingSpaces, !t.isEmpty,
                      case let .shows(mark) = Parse.decimalEvidence(t), found[mark] == nil,
                      case .success = Parse.amount(t) else { continue }
                found[mark] = (record.line, t)
            }
        }
        return found
    }

    /// Whether the fast path, which reads `1234.50` with a point, may read this file's cells.
    public var pointIsDecimal: Bool { explicit != .comma }

    /// A money cell in cents, or why it does not read; `nil` when nothing decides a
    /// cell that could be read two ways (counted for `issue`).
    public func amount(_ text: String, line: Int, field: String) throws(PulseError) -> Result<Int, ParseFailure>? {
        if let explicit {
            switch Parse.amount(text, decimal: explicit) {
            case let .success(cents):
                if Parse.decimalEvidence(text) == .ambiguous { note(line, field, text, cents) }
                return .success(cents)
            case let .failure(problem):
                return .failure(ParseFailure("with \"\(explicit.rawValue)\" as the decimal mark (--decimal \(explicit.rawValue)), \(problem.reason)",
                                             tooLarge: problem.tooLarge))
            }
        }
        // A cell that reads with neither mark is refused as it is.
        guard Parse.decimalEvidence(text) == .ambiguous,
              DecimalMark.allCases.contains(where: { (try? Parse.amount(text, decimal: $0).get()) != nil }) else {
            return Parse.amount(text)
        }
        if shown == nil { shown = try scan() }
        guard let shown, shown.count == 1, let mark = shown.keys.first else {
            undecided += 1
            if firstUndecided == nil { firstUndecided = (line, field, text) }
            return nil
        }
        let result = Parse.amount(text, decimal: mark)
        if case let .success(cents) = result { note(line, field, text, cents) }
        return result
    }

    private func note(_ line: Int, _ field: String, _ text: String, _ cents: Int) {
        decided += 1
        if first == nil { first = (line, field, text, cents) }
    }

    /// The refusal of the cells nothing decided, if any.
    public var issue: InputIssue? {
        guard let cell = firstUndecided else { return nil }
        let more = undecided > 1 ? " (and \(Plural.count(undecided - 1, "more amount", plural: "more amounts")) like it)" : ""
        let why: String
        if let shown, shown.count == 2, let point = shown[.point], let comma = shown[.comma] {
            why = "the file marks decimals with \".\" on line \(point.line) (\"\(point.text)\") and with \",\" on line \(comma.line) (\"\(comma.text)\")"
        } else {
            why = "no amount in the file shows which mark is for decimals"
        }
        return InputIssue(file: file, line: cell.line, field: cell.field,
                          "\"\(cell.text)\"\(more) could be read with \",\" or \".\" as the decimal mark, and \(why); "
                          + "pass --decimal . (\(DecimalMark.point.example)) or --decimal , (\(DecimalMark.comma.example))")
    }

    /// What decided the readings: a warning when `--decimal` did, a note when the file did.
    public var reading: String? {
        guard let first else { return nil }
        let mark = explicit ?? shown?.keys.first ?? .point
        let cells = Plural.count(decided, "amount")
        let reason = explicit != nil ? "as --decimal \(mark.rawValue) says"
            : shown?[mark].map { "as line \($0.line)'s \"\($0.text)\" shows" } ?? ""
        return "\(file): \(cells) read with \"\(mark.rawValue)\" as the decimal mark, \(reason); the first on line \(first.line) "
            + "(\(first.field) \"\(first.text)\" as \(Self.written(first.cents)))"
    }

    static func written(_ cents: Int) -> String {
        let sign = cents < 0 ? "-" : "", c = abs(cents)
        return "\(sign)\(c / 100).\(c % 100 < 10 ? "0" : "")\(c % 100)"
    }
}
