import Foundation
import PulseCore
import Testing

/// The clock of every `pulse` an end-to-end test runs. Each workspace pins `PULSE_NOW`
/// to `TestClock.now`, and tests that send, tick, remind or serve express their times
/// and periods from it, so that nothing a test makes expires on the real clock.
/// `PULSE_TEST_SHIFT_DAYS` moves it ahead (CI's second run: 100 days), to the Monday
/// of the week that many days after 2026-11-23.
enum TestClock {
    static let shiftDays: Int = Int(ProcessInfo.processInfo.environment["PULSE_TEST_SHIFT_DAYS"] ?? "") ?? 0

    /// The Monday of the suite's week (2026-11-23 without a shift).
    static let monday: Day = {
        let d = Day(year: 2026, month: 11, day: 23)! + shiftDays
        return d - (d.weekday - 1)
    }()

    /// A day `offset` days after `monday`.
    static func day(_ offset: Int) -> Day { monday + offset }

    /// An ISO 8601 UTC time on the day `offset` days after `monday`: `at(2, "11:00")`.
    static func at(_ offset: Int, _ hhmm: String) -> String { "\(day(offset))T\(hhmm):00Z" }

    /// Monday 10:00 UTC of the suite's week: the default `PULSE_NOW`.
    static var now: String { at(0, "10:00") }

    /// The ISO week `offset` weeks after the suite's week, as Pulse spells it.
    static func week(_ offset: Int = 0) -> String { Period.week(of: monday + 7 * offset).description }
    static var month: String { Period.month(of: monday).description }

    /// Whether a mail's subject names the week `offset` weeks after the suite's week, in
    /// any of Pulse's languages ("week of 23 November 2026", "неделя с 23 ноября 2026 г.").
    static func namesWeek(_ subject: Any?, _ offset: Int = 0) -> Bool {
        guard let subject = subject as? String else { return false }
        let week = Period.week(of: monday + 7 * offset)
        return [("en", "en-GB"), ("en", "en-001"), ("en", "en-US"), ("th", "th"), ("ms", "ms"), ("ru", "ru")].contains {
            subject.contains(PeriodNames.name(week, lang: $0.0, dateLocale: $0.1))
        }
    }
    static var quarter: String { Period.quarter(of: monday).description }
}

/// The result of running the built `pulse` binary.
struct Run {
    var status: Int32
    var stdout: String
    var stderr: String

    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
    }
}

/// A scratch workspace with its own database, configuration and surveys folder, in
/// which the built `pulse` binary runs as a user would run it.
struct Workspace {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("Surveys"), withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
    }

    /// Copies a fixture file (or folder) into the workspace under the same name.
    func copyFixture(_ name: String, as target: String? = nil) throws {
        let source = Fixtures.url(name)
        let dest = dir.appendingPathComponent(target ?? name)
        try? FileManager.default.removeItem(at: dest)
        try FileManager.default.copyItem(at: source, to: dest)
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PULSE_DB"] = path("pulse.sqlite")
        env["PULSE_CONFIG"] = path("pulse.yaml")
        env["PULSE_SURVEYS"] = path("Surveys")
        env["NO_COLOR"] = "1"
        env["PULSE_NOW"] = TestClock.now
        return env
    }

    @discardableResult
    func pulse(_ args: String..., env extra: [String: String] = [:]) throws -> Run {
        try pulse(args, env: extra)
    }

    /// - Parameter executable: a program that runs `pulse` itself (`setpriv` with the
    ///   binary in `args`); the built `pulse` by default.
    func pulse(_ args: [String], env extra: [String: String] = [:], executable: URL? = nil) throws -> Run {
        let p = Process()
        p.executableURL = try executable ?? Binary.pulse()
        p.arguments = args
        p.currentDirectoryURL = dir
        p.environment = environment.merging(extra) { $1 }
        // Files rather than pipes: nothing can block on a full pipe buffer.
        let outURL = dir.appendingPathComponent(".stdout-\(UUID().uuidString)")
        let errURL = dir.appendingPathComponent(".stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try out.close()
        try err.close()
        return Run(status: p.terminationStatus, stdout: try String(contentsOf: outURL, encoding: .utf8),
                   stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }
}

enum Fixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }

    static func text(_ name: String) throws -> String { try String(contentsOf: url(name), encoding: .utf8) }
}

enum Binary {
    /// The `pulse` built beside the test bundle (`swift build` then `swift test`), or `PULSE_BIN`.
    static func pulse() throws -> URL {
        if let p = ProcessInfo.processInfo.environment["PULSE_BIN"] { return URL(fileURLWithPath: p) }
        var candidates: [URL] = []
        let bundle = Bundle.main.bundleURL
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("pulse"))
        candidates.append(bundle.appendingPathComponent("pulse"))
        for b in Bundle.allBundles { candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("pulse")) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/pulse"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw BinaryMissing(searched: candidates.map(\.path))
        }
        return found
    }

    struct BinaryMissing: Error, CustomStringConvertible {
        var searched: [String]
        var description: String { "no built pulse binary (run swift build first); looked in \(searched.joined(separator: ", "))" }
    }
}

/// A server a test starts as a child process: it prints one line once it listens (which
/// says its port), and is stopped with SIGTERM, then SIGKILL after five seconds.
final class ChildServer {
    let process = Process()
    /// The line the server printed when ready.
    let readyLine: String

    struct Failed: Error { var output: String }

    /// - Parameter readyOnStderr: whether the ready line comes on stderr rather than stdout.
    init(_ configure: (Process) throws -> Void, readyOnStderr: Bool) throws {
        try configure(process)
        let pipe = Pipe()
        if readyOnStderr {
            process.standardError = pipe
            process.standardOutput = FileHandle.nullDevice
        } else {
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        var line = Data()
        while let byte = try pipe.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        readyLine = String(decoding: line, as: UTF8.self)
    }

    /// The port in the ready line, or the server is stopped and the line reported.
    func port(_ pattern: Regex<(Substring, Substring)>) throws -> Int {
        guard let match = readyLine.firstMatch(of: pattern), let p = Int(match.1) else {
            stop()
            throw Failed(output: readyLine)
        }
        return p
    }

    func stop() {
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Runs a fixture script with python3 and returns its stdout, trimmed.
func python(_ script: String, _ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", Fixtures.url(script).path] + args
    // Files rather than pipes: nothing blocks on a full pipe, and stderr is kept for the report.
    let dir = FileManager.default.temporaryDirectory
    let outURL = dir.appendingPathComponent("py-out-\(UUID().uuidString)"), errURL = dir.appendingPathComponent("py-err-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
    p.standardOutput = try FileHandle(forWritingTo: outURL)
    p.standardError = try FileHandle(forWritingTo: errURL)
    try p.run()
    p.waitUntilExit()
    let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
    guard p.terminationStatus == 0 else {
        throw PythonFailed(script: script, status: p.terminationStatus, stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
    return out.trimmingCharacters(in: .whitespacesAndNewlines)
}

struct PythonFailed: Error, CustomStringConvertible {
    var script: String
    var status: Int32
    var stderr: String
    var description: String { "\(script) exited with \(status): \(stderr.suffix(2000))" }
}

/// The messages in a folder of .eml files, parsed by Python's email package.
func readMail(_ dir: String) throws -> [[String: Any]] {
    let out = try python("read_mail.py", [dir])
    guard let mails = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] else {
        throw PythonFailed(script: "read_mail.py", status: 0, stderr: "not a list of messages: \(out.prefix(200))")
    }
    return mails
}

/// Runs `pulse` with `args` and kills it with SIGKILL after `delay` seconds; whether it
/// was still running then (a kill that came too late proves nothing).
func killedMidRun(_ w: Workspace, _ args: [String], after delay: Double, env: [String: String] = [:]) throws -> Bool {
    let p = Process()
    p.executableURL = try Binary.pulse()
    p.arguments = args
    p.environment = w.environment.merging(env) { $1 }
    p.currentDirectoryURL = w.dir
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    Thread.sleep(forTimeInterval: delay)
    let running = p.isRunning
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    return running
}
