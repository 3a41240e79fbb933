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
            abstract: "Copy the SQLite workspace (--db) whole into an empty PostgreSQL database, checked.",
            discussion: """
                One transaction: every table is copied, read back and compared with what was read \
                (rows and a SHA-256 of every value); any difference rolls it all back. The SQLite \
                file is read from one snapshot and left as it was. The links already mailed were made \
                with the key file beside it: every instance that sends on PostgreSQL needs that key \
                in PULSE_TOKEN_KEY (or the variable database.token_key_env names).
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The PostgreSQL database to copy into, empty.", valueName: "postgresql://USER@HOST:PORT/NAME"))
        var to: String

        func run() async throws {
            guard global.postgresURL == nil else {
                throw PulseError.usage("--db names a PostgreSQL database: copy from a SQLite file (--db PATH) --to postgresql://...")
            }
            guard to.hasPrefix("postgresql://") || to.hasPrefix("postgres://") else {
                throw PulseError.usage("--to \(to): give a postgresql://USER@HOST:PORT/NAME database (copying into SQLite is not there yet)")
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
    }
}
