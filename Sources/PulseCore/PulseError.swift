/// One problem found in an input file, located so that a person can fix it:
/// `activity.csv:17: calls: "12x" is not a whole number`.
public struct InputIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int? = nil, field: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let field { s += "\(field): " }
        return s + message
    }
}

/// The errors Pulse reports, each mapped to the contract's exit code.
public enum PulseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bad usage: an unknown value for a flag, a bad combination (exit 64).
    case usage(String)
    /// Input data that fails validation (exit 65). Holds every issue found, in order.
    case invalidInput([InputIssue])
    /// Something around Pulse failed: the database, the file system, the mail server (exit 1).
    case runtime(String)

    public static func input(_ issue: InputIssue) -> PulseError { .invalidInput([issue]) }

    public var exitCode: Int32 {
        switch self {
        case .usage: 64
        case .invalidInput: 65
        case .runtime: 1
        }
    }

    /// How many issues an error message lists before it says how many more there are.
    public static let maxListedIssues = 20

    public var description: String {
        switch self {
        case let .usage(message), let .runtime(message):
            return message
        case let .invalidInput(issues):
            var lines = issues.prefix(Self.maxListedIssues).map(\.description)
            if issues.count > Self.maxListedIssues {
                lines.append("... and \(issues.count - Self.maxListedIssues) more problems")
            }
            return lines.joined(separator: "\nerror: ")
        }
    }
}
