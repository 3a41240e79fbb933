import ArgumentParser
import Foundation
import PulseCore
import PulseMail
import PulsePostgres
import PulseStore

extension Pulse {
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Copy the database (and its key file) safely, even while serve, send or tick run.",
            discussion: """
                Uses SQLite's online backup, checks the copy with PRAGMA integrity_check, and writes \
                FILE only when it is whole. The key file (the secret behind the personal links and \
                the anonymous answers' edit keys) is copied beside it as FILE.key, readable by its \
                owner only: keep both. To restore: stop pulse serve and cron's pulse tick, then \
                cp FILE pulse.sqlite && cp FILE.key pulse.sqlite.key && rm -f pulse.sqlite-wal \
                pulse.sqlite-shm, and run pulse doctor.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("Where to write the copy.", valueName: "file"), completion: .file()) var file: String
        @Flag(help: "Replace FILE if it exists.") var force = false

        func run() throws {
            if let url = global.postgresURL {
                // The server's own tools make a consistent copy of a live database; a file copy
                // of its folder would not be one.
                let shown = (try? PostgresDatabase.Location(url: url))?.database ?? "DATABASE"
                throw PulseError.usage("pulse backup copies a SQLite file; a PostgreSQL database is backed up by its own tools, "
                    + "consistent while serve and tick run: pg_dump --format=custom --file \(file) \(shown) (with the same "
                    + "host, port and user), restored with pg_restore into an empty database. Keep the token key "
                    + "(the value of \(PulseConfig.Default.tokenKeyEnv), or of the variable database.token_key_env names) with it: "
                    + "without it, links already mailed no longer open")
            }
            let source = URL(fileURLWithPath: global.dbPath).standardizedFileURL.path
            let target = URL(fileURLWithPath: file).standardizedFileURL.path
            guard source != target else { throw PulseError.usage("\(file) is the database itself; give another file") }
            guard FileManager.default.fileExists(atPath: global.dbPath) else {
                throw PulseError.runtime(AppDatabase.missingMessage(global.dbPath))
            }
            if FileManager.default.fileExists(atPath: file) && !force {
                throw PulseError.usage("\(file) exists; pass --force to replace it")
            }
            let db = try global.openDatabase()
            // `pulse backup backups/2026-12-01.sqlite` makes its folder (owner only: it holds
            // answers and the key).
            let folder = (file as NSString).deletingLastPathComponent
            if !folder.isEmpty && !FileManager.default.fileExists(atPath: folder) {
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                            attributes: [.posixPermissions: 0o700])
                    Terminal.note("made the folder \(folder)")
                } catch {
                    throw PulseError.runtime("cannot make the folder \(folder) for the backup: \(error.localizedDescription)")
                }
            }
            let summary = try db.backup(to: file)
            var keyNote = ""
            let keyPath = global.dbPath + ".key"
            if FileManager.default.fileExists(atPath: keyPath) {
                let keyCopy = file + ".key"
                try? FileManager.default.removeItem(atPath: keyCopy)
                do {
                    try FileManager.default.copyItem(atPath: keyPath, toPath: keyCopy)
                    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyCopy)
                } catch {
                    throw PulseError.runtime("the database was copied to \(file), but the key file could not be: \(error.localizedDescription)")
                }
                keyNote = " and the key to \(keyCopy)"
            }
            let mib = Double(summary.bytes) / 1_048_576
            Terminal.note("backed up \(String(format: "%.1f", mib)) MiB (\(summary.pages) pages, integrity ok) to \(file)\(keyNote)")
        }
    }

    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "doctor",
            abstract: "Check the configuration, the database, the surveys and the mail server, and say what to fix.",
            discussion: "Exit 0 when nothing failed (warnings allowed), 1 otherwise. Connects to the mail server (EHLO, STARTTLS, AUTH) but sends nothing.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Skip the mail server check.") var noMail = false
        @Flag(help: "Sum the rollups (the rep-weeks reports read) again from the raw rows, then check them.")
        var rebuildRollups = false

        func run() async throws {
            var failed = 0
            let style = Terminal.style
            // Each line can quote a path or a value from a file: escaped like every text output.
            func ok(_ s: String) { Terminal.out("\(style.dim("ok  ")) \(TerminalText.escapedLines(s))\n") }
            func warn(_ s: String) { Terminal.out("\(style.bold("warn")) \(TerminalText.escapedLines(s))\n") }
            func fail(_ s: String) { failed += 1; Terminal.out("\(style.bold("FAIL")) \(TerminalText.escapedLines(s))\n") }
            // The rollups summed again from the raw rows and compared.
            func report(_ check: RollupCheck, rebuilt: Bool, emails: [Int64: String]) {
                if check.differences.isEmpty {
                    if check.rows + check.responseGroups > 0 || rebuilt {
                        ok("rollups\(rebuilt ? " summed again" : ""): \(Plural.count(check.rows, "rep-week")) of activity, each as its daily rows sum; "
                           + "\(Plural.count(check.responseGroups, "round group")) of answers, "
                           + "\(Plural.count(check.respondents, "eNPS respondent span")) and \(Plural.count(check.moraleWeeks, "rep-week")) of morale, "
                           + "each as the responses sum")
                    }
                } else {
                    let weeks = check.differences.filter { $0.table == "activity_week" }.count
                    let answers = check.differences.count - weeks
                    var parts: [String] = []
                    if weeks > 0 { parts.append("\(Plural.count(weeks, "rep-week")) of activity \(weeks == 1 ? "differs" : "differ") from the daily rows") }
                    if answers > 0 {
                        parts.append("\(Plural.count(answers, "row")) of the rollups of answers \(answers == 1 ? "differs" : "differ") from the responses")
                    }
                    let shown = check.differences.prefix(3).map { d in d.described(rep: d.repID.map { emails[$0] ?? "rep \($0)" }) }
                    fail("rollups: \(parts.joined(separator: " and ")) (\(shown.joined(separator: "; "))): pulse doctor --rebuild-rollups sums them again")
                }
            }

            // Configuration.
            var config = PulseConfig()
            if FileManager.default.fileExists(atPath: global.configPath) {
                do {
                    config = try global.loadConfig()
                    ok("configuration \(global.configPath)")
                } catch {
                    fail("configuration: \(error)")
                }
                for w in ConfigAudit.warnings(path: global.configPath) { warn(w) }
            } else {
                warn("no configuration at \(global.configPath): built-in defaults (pulse init writes a commented one)")
            }

            // Database.
            if let url = global.postgresURL {
                do {
                    let database = try await global.openPostgres(url: url, config: config)
                    defer { database.close() }
                    let shown = try PostgresDatabase.Location(url: url).description
                    ok("database \(shown): reachable, schema \(try await database.schemaVersion() ?? "none")")
                    let counts = try await database.tableCounts().filter { $0.rows > 0 }.map { "\($0.rows) \($0.table)" }
                    if !counts.isEmpty { ok("holds " + counts.joined(separator: ", ")) }
                    let store = PostgresAnswerStore(database)
                    report(rebuildRollups ? try await store.rebuildRollups() : try await store.rollupCheck(), rebuilt: rebuildRollups,
                           emails: Dictionary(try await store.reps(includeInactive: true, team: nil).compactMap { r in r.id.map { ($0, r.email) } }) { a, _ in a })
                    let queued = try await store.outboxCounts()
                    if let n = queued["failed"], n > 0 { warn("\(n) messages failed for good: pulse outbox --status failed shows why") }
                    if let n = queued["queued"], n > 0 { warn("\(n) messages wait in the outbox: pulse outbox --flush sends them") }
                } catch {
                    fail("database: \(error)")
                }
                do {
                    _ = try global.tokenKey(config: config)
                    ok("token key from the environment (\(config.database?.tokenKeyEnv ?? GlobalOptions.tokenKeyVariable))")
                } catch {
                    warn("\(error) (serve needs no key; send and remind do)")
                }
            } else if !FileManager.default.fileExists(atPath: global.dbPath) {
                fail("no database at \(global.dbPath): run pulse init, or point --db or PULSE_DB at it")
            } else {
                do {
                    let db = try global.openDatabase()
                    let h = try db.health()
                    if h.integrity == ["ok"] { ok("database \(global.dbPath): integrity ok, schema \(h.schemaVersion ?? "none")") }
                    else { fail("database \(global.dbPath) is damaged: \(h.integrity.prefix(3).joined(separator: "; ")); restore the last pulse backup") }
                    let counts = h.counts.filter { $0.rows > 0 }.map { "\($0.rows) \($0.table)" }
                    if !counts.isEmpty { ok("holds " + counts.joined(separator: ", ")) }
                    report(rebuildRollups ? try db.rebuildRollups() : try db.rollupCheck(), rebuilt: rebuildRollups,
                           emails: Dictionary(try db.reps(includeInactive: true, team: nil).compactMap { r in r.id.map { ($0, r.email) } }) { a, _ in a })
                    let queued = try db.outboxCounts()
                    if let n = queued["failed"], n > 0 { warn("\(n) messages failed for good: pulse outbox --status failed shows why") }
                    if let n = queued["queued"], n > 0 { warn("\(n) messages wait in the outbox: pulse outbox --flush sends them") }
                } catch {
                    fail("database: \(error)")
                }
                let keyPath = global.dbPath + ".key"
                if let attributes = try? FileManager.default.attributesOfItem(atPath: keyPath) {
                    let mode = (attributes[.posixPermissions] as? Int) ?? 0
                    if mode & 0o077 != 0 {
                        warn("the key file \(keyPath) can be read by others (mode \(String(mode, radix: 8))): chmod 600 \(keyPath)")
                    } else {
                        ok("key file \(keyPath)")
                    }
                } else {
                    warn("no key file at \(keyPath) yet: the first pulse send makes one; if links were sent, restore it from the backup")
                }
                // The database and its -wal and -shm hold the answers and the invitations.
                for file in [global.dbPath, global.dbPath + "-wal", global.dbPath + "-shm"] {
                    if let mode = PrivateFile.looseMode(atPath: file) {
                        warn("\(file) holds answers and others can open it (mode \(String(mode, radix: 8))): chmod 600 \(file)")
                    }
                }
            }

            // Surveys.
            do {
                let surveys = try global.loadSurveys()
                if surveys.isEmpty { warn("no survey files in \(global.surveysPath)") }
                else { ok("surveys: \(surveys.keys.sorted().joined(separator: ", ")) in \(global.surveysPath)") }
            } catch {
                fail("surveys: \(error)")
            }

            // Mail.
            switch config.mail?.transport ?? "file" {
            case "smtp" where noMail:
                warn("mail server not checked (--no-mail)")
            case "smtp":
                do {
                    guard let smtp = try MailSetup.transport(config: config, global: global) as? SMTPTransport else { break }
                    switch smtp.check() {
                    case let .success(reply): ok("mail server \(smtp.shownURL) accepts us (\(reply.isEmpty ? "connected" : reply))")
                    case let .failure(error): fail("mail server: \(error)")
                    }
                } catch {
                    fail("mail: \(error)")
                }
            default:
                let dir = config.mail?.outboxDir ?? PulseConfig.Default.outboxDir
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
                    if isDir.boolValue && FileManager.default.isWritableFile(atPath: dir) { ok("mail goes to files in \(dir) (mail.transport: file)") }
                    else { fail("mail.outbox_dir \(dir) is not a writable folder") }
                } else {
                    ok("mail goes to files in \(dir) (made on the first send; mail.transport: file)")
                }
            }
            // Mail written to files holds each rep's personal link.
            let mailDir = config.mail?.outboxDir ?? PulseConfig.Default.outboxDir
            let mails = ((try? FileManager.default.contentsOfDirectory(atPath: mailDir)) ?? []).filter { $0.hasSuffix(".eml") }
            let open = mails.filter { PrivateFile.looseMode(atPath: (mailDir as NSString).appendingPathComponent($0)) != nil }
            if !open.isEmpty {
                warn("\(open.count) of \(mails.count) mail files in \(mailDir) hold personal links and others can open them: "
                    + "chmod 600 \((mailDir as NSString).appendingPathComponent("*.eml"))")
            }
            if failed > 0 {
                Terminal.out("\(failed) problem\(failed == 1 ? "" : "s") to fix\n")
                throw ExitCode(1)
            }
        }
    }
}

/// Checks of a configuration file beyond its values.
enum ConfigAudit {
    /// A password written in the file (rather than in the environment variable named by
    /// `password_env`), the more so when others can read the file.
    static func warnings(path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let hasPassword = text.split(separator: "\n").contains { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return !t.hasPrefix("#") && (t.hasPrefix("password:") || t.hasPrefix("pass:") || t.hasPrefix("smtp_password:"))
        }
        guard hasPassword else { return [] }
        let mode = ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? 0
        var message = "\(path) holds a password, which Pulse never reads from the file: put it in the environment variable named by mail.smtp.password_env and delete the line"
        if mode & 0o044 != 0 { message += "; the file can be read by others (mode \(String(mode, radix: 8))): chmod 600 \(path)" }
        return [message]
    }
}

extension Pulse {
    /// `pulse help [TOPIC | COMMAND...]`: a topic page, or a command's help as usual.
    struct Help: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "help",
            abstract: "Show a topic (\(HelpTopic.allCases.map(\.rawValue).joined(separator: ", "))) or a command's help.",
            // ArgumentParser adds a `help` of its own to the command tree and to the shell
            // completions; this one, first in the tree, is the one that runs. Shown, both
            // would be listed.
            shouldDisplay: false)
        @Argument(help: ArgumentHelp("A topic, or a command and its subcommands.", valueName: "topic-or-command"))
        var words: [String] = []

        func run() throws {
            if let first = words.first, let topic = HelpTopic(rawValue: first.lowercased()), words.count == 1 {
                Terminal.out(topic.text + "\n")
                return
            }
            var command: any ParsableCommand.Type = Pulse.self
            for word in words {
                guard let next = command.configuration.subcommands.first(where: { $0._commandName == word }) else {
                    throw PulseError.usage("no help topic or command \"\(words.joined(separator: " "))\"; topics: "
                        + HelpTopic.allCases.map(\.rawValue).joined(separator: ", "))
                }
                command = next
            }
            Terminal.out(Pulse.helpMessage(for: command) + "\n")
            if words.isEmpty {
                Terminal.out("\nTOPICS (pulse help TOPIC):\n" + HelpTopic.allCases.map { "  \($0.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))\($0.summary)" }.joined(separator: "\n") + "\n")
            }
        }
    }
}
