import ArgumentParser
import Foundation
import PulseCore
import PulseStore

/// The flags every command shares: where the database, configuration and surveys live.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The SQLite file, or a postgresql://USER@HOST:PORT/NAME database (env PULSE_DB).", valueName: "path|url"), completion: .file())
    var db: String?

    @Option(name: .long, help: ArgumentHelp("The configuration file (env PULSE_CONFIG).", valueName: "path"), completion: .file(extensions: ["yaml", "yml"]))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The folder of survey definitions (env PULSE_SURVEYS).", valueName: "dir"), completion: .directory)
    var surveys: String?

    @Flag(name: [.short, .long], help: "Print only results, warnings and errors (no notes, no progress).")
    var quiet = false

    func validate() throws {
        if quiet { Terminal.quiet = true }
    }

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var dbPath: String { db ?? environment["PULSE_DB"].nonEmpty ?? "./pulse.sqlite" }
    var configPath: String { config ?? environment["PULSE_CONFIG"].nonEmpty ?? "./pulse.yaml" }
    var surveysPath: String { surveys ?? environment["PULSE_SURVEYS"].nonEmpty ?? "./Surveys" }

    /// The configuration: the file when it exists, built-in defaults otherwise.
    func loadConfig() throws(PulseError) -> PulseConfig {
        let path = configPath
        guard FileManager.default.fileExists(atPath: path) else {
            if config != nil {
                throw .usage("the configuration file \(path) does not exist (run pulse init to write one)")
            }
            return PulseConfig()
        }
        let config = try PulseConfig.load(yaml: try readText(path), file: path)
        for w in ConfigAudit.warnings(path: path) { Terminal.warn(w) }
        return config.resolvingPaths(relativeTo: (path as NSString).deletingLastPathComponent)
    }

    /// The database; only `init` and `demo` pass `create`, every other command needs one there.
    /// - Parameter startsWorkspace: an import may also make the database of a workspace
    ///   that has its configuration but no database yet (what scripts written before
    ///   `init` existed do): only `pulse.sqlite` beside the `pulse.yaml` in use, so a typo
    ///   in `--db` or a wrong folder still creates nothing.
    func openDatabase(create: Bool = false, startsWorkspace: Bool = false) throws(PulseError) -> AppDatabase {
        if postgresURL != nil {
            // The command as typed: its name, and its subcommand's when it has some.
            let words = Array(CommandLine.arguments.dropFirst().prefix { !$0.hasPrefix("-") })
            let group = Pulse.configuration.subcommands.first { $0._commandName == words.first }
            let command = words.prefix(group.map { $0.configuration.subcommands.isEmpty ? 1 : 2 } ?? 1).joined(separator: " ")
            throw .usage("pulse \(command) works on a SQLite file, and --db (or PULSE_DB) names a PostgreSQL database")
        }
        return try AppDatabase.open(path: dbPath, create: create || (startsWorkspace && isWorkspaceDatabase))
    }

    /// Whether `dbPath` is the default database beside an existing configuration file.
    var isWorkspaceDatabase: Bool {
        guard FileManager.default.fileExists(atPath: configPath) else { return false }
        let folder = (URL(fileURLWithPath: configPath).standardizedFileURL.path as NSString).deletingLastPathComponent
        return URL(fileURLWithPath: dbPath).standardizedFileURL.path == (folder as NSString).appendingPathComponent("pulse.sqlite")
    }

    /// The survey definitions of the surveys folder, validated, by id.
    func loadSurveys() throws(PulseError) -> [String: (file: String, definition: SurveyDefinition)] {
        try SurveyFiles.load(directory: surveysPath)
    }

    /// The clock: `PULSE_NOW` (an ISO 8601 date or time) pins it, for tests and the demo.
    var now: Date {
        if let s = environment["PULSE_NOW"].nonEmpty {
            if let d = Day(iso: s) { return Date(timeIntervalSince1970: Double(d.ordinal) * 86_400 + 12 * 3600) }
            if let d = ISO8601DateFormatter().date(from: s) { return d }
        }
        return Date()
    }

    /// The clock for work that takes time (sending): a pinned `PULSE_NOW` runs on from
    /// where it was pinned, so that retries still fall due.
    var clock: @Sendable () -> Date {
        let offset = now.timeIntervalSince(Date())
        return { Date().addingTimeInterval(offset) }
    }

    var today: Day { Day(ordinal: Int((now.timeIntervalSince1970 / 86_400).rounded(.down))) }
}

/// `--format` for reporting commands.
struct FormatOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("table, json or csv.", valueName: "format"))
    var format: ReportFormat = .table
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

extension Optional where Wrapped == String {
    var nonEmpty: String? {
        guard let s = self, !s.isEmpty else { return nil }
        return s
    }
}

/// Reads a whole text file, naming it in the error.
func readText(_ path: String) throws(PulseError) -> String {
    let bytes = try readBytes(path)
    guard let s = String(validating: bytes, as: UTF8.self) else {
        throw .input(InputIssue(file: path, "is not UTF-8 text"))
    }
    return s
}

func readBytes(_ path: String) throws(PulseError) -> [UInt8] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw .usage("\(path): no such file")
    }
    guard !isDir.boolValue else { throw .usage("\(path) is a folder, not a file") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw .runtime("\(path): cannot be read (permission denied?)")
    }
    return [UInt8](data)
}

/// A CSV reader over a file: streamed from disk (a large export is never held whole).
func csvReader(_ path: String) throws(PulseError) -> CSVReader {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw .usage("\(path): no such file") }
    guard !isDir.boolValue else { throw .usage("\(path) is a folder, not a file") }
    guard FileManager.default.isReadableFile(atPath: path) else { throw .runtime("\(path): cannot be read (permission denied?)") }
    return try CSVReader(path: path, file: path)
}

/// Loads survey definition files.
enum SurveyFiles {
    static func paths(in directory: String) throws(PulseError) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) else {
            throw .usage("the surveys folder \(directory) does not exist (set --surveys or PULSE_SURVEYS, or run pulse init)")
        }
        guard isDir.boolValue else { return [directory] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Loads every definition in a folder (or one file); all problems of all files at once.
    static func load(directory: String) throws(PulseError) -> [String: (file: String, definition: SurveyDefinition)] {
        let each = try loadEach(directory: directory)
        let issues = each.broken.flatMap(\.issues)
        guard issues.isEmpty else { throw .invalidInput(issues) }
        return each.valid
    }

    /// The surveys folder read file by file: what loads, and each broken file with its
    /// problems (and the id it gives itself, when that much can be read).
    static func loadEach(directory: String) throws(PulseError) -> SurveySet {
        var set = SurveySet()
        for path in try paths(in: directory) {
            var declared: String?
            do {
                let text = try readText(path)
                declared = SurveyDefinition.declaredID(yaml: text)
                let def = try SurveyDefinition.load(yaml: text, file: path)
                if let other = set.valid[def.id] {
                    set.broken.append((path, def.id, [InputIssue(file: path, field: "id", "\"\(def.id)\" is also the id of \(other.file)")]))
                } else {
                    set.valid[def.id] = (path, def)
                }
            } catch let PulseError.invalidInput(found) {
                set.broken.append((path, declared, found))
            } catch {
                set.broken.append((path, declared, [InputIssue(file: path, error.description)]))
            }
        }
        return set
    }
}

/// The survey definitions of a folder, the valid ones by id and the broken files.
struct SurveySet {
    var valid: [String: (file: String, definition: SurveyDefinition)] = [:]
    var broken: [(file: String, id: String?, issues: [InputIssue])] = []

    /// The survey `id`, or why not: a broken file that gives that id (65), or an unknown id (64).
    func definition(_ id: String) throws(PulseError) -> SurveyDefinition {
        if let s = valid[id] { return s.definition }
        if let b = broken.first(where: { $0.id == id || (($0.file as NSString).lastPathComponent as NSString).deletingPathExtension == id }) {
            throw .invalidInput(b.issues)
        }
        throw Closest.unknown("survey", id, known: Array(valid.keys), listLabel: "the surveys are")
    }

    /// Each broken file with its first problem.
    var brokenIssues: [InputIssue] {
        broken.map { b in
            var first = b.issues.first ?? InputIssue(file: b.file, "cannot be read")
            let more = b.issues.count - 1
            first.message += more > 0 ? " (and \(more) more; pulse survey validate \(b.file) lists them); this survey was skipped"
                : "; this survey was skipped"
            return first
        }
    }

    /// After the work of every valid survey: each broken file with its first problem, as
    /// one error (exit 65), so that cron reports it.
    func checkBroken() throws(PulseError) {
        guard !broken.isEmpty else { return }
        throw .invalidInput(brokenIssues)
    }

    /// Runs the work of the valid surveys, then reports the broken files: as the error
    /// (65) when the work succeeded, beside the work's own error when it failed.
    func reportingBroken(_ work: () throws(PulseError) -> Void) throws(PulseError) {
        do {
            try work()
        } catch {
            for issue in brokenIssues { Terminal.error(issue.description) }
            throw error
        }
        try checkBroken()
    }

    /// The same for work that awaits.
    func reportingBroken(_ work: () async throws(PulseError) -> Void) async throws(PulseError) {
        do {
            try await work()
        } catch {
            for issue in brokenIssues { Terminal.error(issue.description) }
            throw error
        }
        try checkBroken()
    }
}
