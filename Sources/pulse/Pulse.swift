import ArgumentParser
import Foundation
import PulseCore

@main
struct Pulse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pulse",
        abstract: "Pulse surveys and eNPS for sales teams, joined with activity and quota.",
        discussion: """
            Files: the database (--db, PULSE_DB, ./pulse.sqlite), the configuration \
            (--config, PULSE_CONFIG, ./pulse.yaml) and the survey definitions \
            (--surveys, PULSE_SURVEYS, ./Surveys).
            Exit codes: 0 done, 1 runtime failure, 64 bad usage, 65 bad input data.
            Help on a command: pulse help COMMAND; on a topic: pulse help \(HelpTopic.allCases.map(\.rawValue).joined(separator: "|")).
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, Demo.self, SurveyCommand.self, Roster.self, Responses.self,
            Send.self, Remind.self, Tick.self, Outbox.self, Rounds.self, Serve.self, ENPS.self, Trends.self,
            KPICommand.self, Correlate.self, Drivers.self, Prep.self, Notes.self, Actions.self, Report.self, Backup.self, Doctor.self, DB.self, Help.self,
        ]
    )

    /// Runs the command and maps Pulse's errors to the contract's exit codes, printing
    /// them as `error: …` on stderr.
    static func main() async {
        let arguments = Arguments.globalsMovedAfterCommand(Array(CommandLine.arguments.dropFirst()))
        if let unknown = Arguments.unknownCommand(arguments) {
            Terminal.error(unknown)
            Foundation.exit(64)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch let error as PulseError {
            Terminal.error(error.description)
            Foundation.exit(error.exitCode)
        } catch {
            // Help and --version print as swift-argument-parser prints them; an error's
            // message (it can quote a flag's value) goes out escaped like every other.
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }
            // One prefix for every error: `error:`, as Pulse's own.
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst("Error: ".count) }
            if !message.isEmpty { Terminal.diagnostic(message) }
            Foundation.exit(code.rawValue)
        }
    }
}

/// What a person types, made into what swift-argument-parser reads.
enum Arguments {
    /// The options every command shares, with whether each takes a value.
    static let globals: [String: Bool] = ["--db": true, "--config": true, "--surveys": true, "-q": false, "--quiet": false]

    /// `pulse --db X roster list` as `pulse roster list --db X`: global options written
    /// before the command move after it (before a `--`, if there is one).
    static func globalsMovedAfterCommand(_ args: [String]) -> [String] {
        var moved: [String] = [], i = 0
        while i < args.count {
            let a = args[i]
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            guard let takesValue = globals[name] else { break }
            moved.append(a)
            if takesValue && !a.contains("=") && i + 1 < args.count { moved.append(args[i + 1]); i += 1 }
            i += 1
        }
        guard !moved.isEmpty else { return args }
        var rest = Array(args[i...])
        if let dashes = rest.firstIndex(of: "--") { rest.insert(contentsOf: moved, at: dashes) } else { rest += moved }
        return rest
    }

    /// An unknown command, with the closest known ones: `pulse trnds` suggests `trends`.
    static func unknownCommand(_ args: [String]) -> String? {
        guard let first = args.first, !first.hasPrefix("-") else { return nil }
        let names = Pulse.configuration.subcommands.map { $0._commandName }
        guard !names.contains(first) else { return nil }
        let close = names.map { ($0, editDistance($0, first.lowercased())) }.filter { $0.1 <= max(2, first.count / 3) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(3).map(\.0)
        let hint = close.isEmpty ? "pulse --help lists the commands" : "did you mean \(close.joined(separator: " or "))?"
        return "unknown command \"\(TerminalText.escaped(first))\"; \(hint)"
    }
}

/// Where output goes: results to stdout, everything else to stderr.
enum Terminal {
    static var isTTY: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }
    static var colour: Bool { isTTY && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true && ProcessInfo.processInfo.environment["TERM"] != "dumb" }
    static var style: Style { Style(enabled: colour) }

    /// Writes a result. On a terminal nothing but Pulse's own colour codes gets through
    /// as a control character (renderers already escape people's text; this also covers
    /// CSV, whose cells keep their real value in a pipe or a file).
    static func out(_ s: String) {
        FileHandle.standardOutput.write(Data((isTTY ? TerminalText.escapedKeepingStyle(s) : s).utf8))
    }

    /// `--quiet`: notes and progress are not printed; results, warnings and errors are.
    nonisolated(unsafe) static var quiet = false

    /// Whether to draw progress: on a terminal, unless quiet.
    static var showsProgress: Bool { stderrIsTTY && !quiet }

    /// A line that says what a command did ("5 invitations queued"): a result, so on
    /// stdout, and kept by `--quiet`.
    static func result(_ s: String) {
        out(TerminalText.escapedLines(s.hasSuffix("\n") ? s : s + "\n"))
    }

    static func note(_ s: String) {
        guard !quiet else { return }
        printToStderr(s)
    }

    static func warn(_ s: String) { printToStderr("warning: \(s)") }
    static func error(_ s: String) { printToStderr("error: \(s)") }
    /// A message as it is (swift-argument-parser's, which says "Error:" itself).
    static func diagnostic(_ s: String) { printToStderr(s) }

    /// Notes, warnings and errors quote names, values and paths: their control
    /// characters are shown escaped, and URLs lose their user info.
    private static func printToStderr(_ s: String) {
        let shown = TerminalText.escapedLines(URLUserInfo.redacted(s))
        FileHandle.standardError.write(Data((shown.hasSuffix("\n") ? shown : shown + "\n").utf8))
    }

    /// A progress line redrawn in place on stderr (only on a terminal).
    static func progress(_ s: String) {
        guard showsProgress else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(TerminalText.escaped(URLUserInfo.redacted(s)))".utf8))
    }

    /// Ends a progress line so that the next output starts on its own line.
    static func endProgress() {
        guard showsProgress else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
