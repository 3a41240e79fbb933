import ArgumentParser
import Foundation
import PulseCore
import PulsePostgres
import PulseStore

extension Pulse {
    struct DB: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db",
            abstract: "Move a workspace between engines.",
            subcommands: [Copy.self])
    }
}

extension Pulse.DB {
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Copy a workspace whole between engines, checked: SQLite into an empty PostgreSQL database, or back.",
            discussion: """
                From the SQLite file (--db PATH) --to postgresql://...: one transaction, every table is \
                copied, read back and compared with what was read (rows and a SHA-256 of every value); \
                any difference rolls it all back. The file is read from one snapshot and left as it was. \
                The links already mailed were made with the key file beside it: every instance that sends \
                on PostgreSQL needs that key in PULSE_TOKEN_KEY (or the variable database.token_key_env \
                names). From PostgreSQL (--db postgresql://...) --to FILE, a new file: every table is read \
                from one snapshot, written, read back and compared; FILE appears only when whole, with \
                FILE.key from PULSE_TOKEN_KEY (checked against a link's hash) beside it.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("An empty PostgreSQL database (from SQLite), or a new SQLite file (from PostgreSQL).",
                                   valueName: "postgresql://USER@HOST:PORT/NAME|FILE"))
        var to: String

        var toPostgres: Bool { to.hasPrefix("postgresql://") || to.hasPrefix("postgres://") }

        func run() async throws {
            if let url = global.postgresURL {
                guard !toPostgres else {
                    throw PulseError.usage("--db and --to are both PostgreSQL databases: copy one into the other with pg_dump and pg_restore")
                }
                return try await copyToSQLite(from: url)
            }
            guard toPostgres else {
                throw PulseError.usage("--to \(to): from a SQLite file, give a postgresql://USER@HOST:PORT/NAME database "
                    + "(a SQLite file is copied with pulse backup)")
            }
            let location = try PostgresDatabase.Location(url: to)
            let config = try global.loadConfig()
            let db = try global.openDatabase()
            let source = try db.copySource()
            let held = try source.liveHolds(now: global.now)
            if held > 0 {
                throw PulseError.runtime("a running pulse serve holds \(Plural.count(held, "anonymous answer")) in this workspace: "
                    + "stop every serve (it writes what it holds), then copy")
            }
            // The key the links were made with must be the one the new instances are given.
            let keyPath = global.dbPath + ".key"
            let keyFile = FileManager.default.contents(atPath: keyPath)
            let variable = config.database?.tokenKeyEnv ?? GlobalOptions.tokenKeyVariable
            if let keyFile, global.environment[variable].nonEmpty != nil {
                var postgres = global
                postgres.db = to
                guard try postgres.tokenKey(config: config).token(invitationID: 1, roundID: 1)
                        == TokenKey(bytes: keyFile).token(invitationID: 1, roundID: 1) else {
                    throw PulseError.runtime("\(variable) holds another key than \(keyPath), which made the links already mailed: "
                        + "set it to that file's key (\(variable)=$(base64 -w0 \(keyPath))), or unset it; nothing was copied")
                }
            }
            let target = try await global.openPostgres(url: to, config: config)
            let copied = try await target.copyIn(CopyTable.all) { table, last, limit throws(PulseError) in
                try source.rows(table, after: last, limit: limit)
            }
            Terminal.result("copied \(global.dbPath) into \(location.description), every table read back and compared:")
            var t = TextTable([("table", .left), ("rows", .right), ("sha-256 of its values", .left)])
            for c in copied { t.add([c.name, "\(c.rows)", String(c.digest.prefix(16))]) }
            Terminal.out(t.render(style: Terminal.style))
            if keyFile != nil, global.environment[variable].nonEmpty == nil {
                Terminal.note("the links already mailed were made with \(keyPath): give every instance that sends or reminds "
                    + "\(variable)=$(base64 -w0 \(keyPath)), and keep it like a password")
            } else if keyFile == nil {
                Terminal.note("no key file beside \(global.dbPath): no link was made yet; " + GlobalOptions.tokenKeyAdvice(variable))
            }
        }

        /// PostgreSQL into a new SQLite file: written beside it under another name, read back and
        /// compared, and moved into place only when whole, with its key file.
        func copyToSQLite(from url: String) async throws {
            let fm = FileManager.default
            for file in [to, to + ".key"] where fm.fileExists(atPath: file) {
                throw PulseError.usage("\(file) exists: copy into a new file (pulse db copy never merges two workspaces, nor replaces a key)")
            }
            let config = try global.loadConfig()
            let variable = config.database?.tokenKeyEnv ?? GlobalOptions.tokenKeyVariable
            let key = global.environment[variable].nonEmpty == nil ? nil : try global.tokenKey(config: config)
            let source = try await global.openPostgres(url: url, config: config)
            defer { source.close() }
            let temporary = to + ".partial-\(getpid())"
            func removeTemporary() {
                for f in [temporary, temporary + "-wal", temporary + "-shm", temporary + ".key"] { try? fm.removeItem(atPath: f) }
            }
            removeTemporary()
            var copied: [CopiedTable] = []
            do {
                let target = try AppDatabase.open(path: temporary, create: true)
                copied = try await source.copyOut(CopyTable.all, now: global.now, key: key) { table, rows throws(PulseError) in
                    try target.insertCopied(table, rows: rows)
                }
                for (table, c) in zip(CopyTable.all, copied) {
                    let back = try target.copiedDigest(table)
                    guard back.rows == c.rows, back.hex == c.digest else {
                        throw PulseError.runtime("the copy of \(table.name) does not read back as it was read (\(c.rows) rows read, "
                            + "\(back.rows) in the file, or their values differ); \(to) was not written")
                    }
                }
                try target.close()
                // Into place by link(2), which never replaces a file: a key or workspace that
                // appeared meanwhile stays as it was, and only a key this run placed is taken back.
                func place(_ from: String, _ into: String) throws(PulseError) {
                    guard link(from, into) == 0 else {
                        let reason = errno == EEXIST ? "it exists now (pulse db copy never replaces a file)" : String(cString: strerror(errno))
                        throw .runtime("cannot put the copy in place as \(into): \(reason)")
                    }
                }
                if let key {
                    try PrivateFile.write(key.bytes, toPath: temporary + ".key")
                    try place(temporary + ".key", to + ".key")
                }
                do { try place(temporary, to) } catch {
                    if key != nil { unlink(to + ".key") }
                    throw error
                }
                removeTemporary()
            } catch {
                removeTemporary()
                throw error
            }
            Terminal.result("copied \(try PostgresDatabase.Location(url: url).description) into \(to), every table read back and compared:")
            var t = TextTable([("table", .left), ("rows", .right), ("sha-256 of its values", .left)])
            for c in copied { t.add([c.name, "\(c.rows)", String(c.digest.prefix(16))]) }
            Terminal.out(t.render(style: Terminal.style))
            if key != nil {
                Terminal.note("the key the links were made with is in \(to).key (the owner's only): keep it with \(to), like a password")
            } else {
                Terminal.note("no link was made yet: the first pulse send makes \(to).key")
            }
        }
    }
}
