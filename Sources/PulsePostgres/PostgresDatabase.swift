import Foundation
import Logging
import PostgresNIO
import PulseCore

/// A PostgreSQL database of Pulse: a client (a pool of connections) and the schema's
/// named, versioned migrations. The password never comes from the URL: from
/// `PGPASSWORD`, or the variable a configuration names.
public final class PostgresDatabase: Sendable {
    public let client: PostgresClient
    /// This instance's name in the outbox's claims.
    public let workerID = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
    public let logger: Logger
    private let runner: Task<Void, Never>
    /// The definitions of survey versions read so far, by id: a version is never changed
    /// once stored, nor its id (a sequence's) given to another, so these never go stale.
    let versionDefinitions = BoundedCache<Int64, SurveyDefinition>(limit: 256)

    /// Where a `postgresql://USER@HOST:PORT/NAME` URL points.
    public struct Location: Sendable, Equatable {
        public var user: String
        public var host: String
        public var port: Int
        public var database: String

        /// Reads a URL; a password in it is refused (exit 64), since a URL is printed,
        /// logged and kept in shell history.
        public init(url: String) throws(PulseError) {
            guard let u = URLComponents(string: url), ["postgresql", "postgres"].contains(u.scheme ?? "") else {
                throw .usage("\(url) is not a postgresql://USER@HOST:PORT/NAME URL")
            }
            if u.password != nil {
                throw .usage("the PostgreSQL URL holds a password: remove it, and give it in PGPASSWORD (or the variable password_env names)")
            }
            guard let host = u.host, !host.isEmpty else { throw .usage("\(url): no host (postgresql://USER@HOST:PORT/NAME)") }
            let name = u.path.hasPrefix("/") ? String(u.path.dropFirst()) : u.path
            guard !name.isEmpty, !name.contains("/") else { throw .usage("\(url): no database name (postgresql://USER@HOST:PORT/NAME)") }
            self.user = u.user ?? "postgres"
            self.host = host
            self.port = u.port ?? 5432
            self.database = name
        }

        public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }
    }

    /// Connects (lazily: the first query opens a connection) and applies the migrations
    /// this version knows, each in its own transaction: whole or absent.
    public init(_ location: Location, password: String?) async throws(PulseError) {
        var logger = Logger(label: "pulse.postgres")
        logger.logLevel = .critical
        self.logger = logger
        let configuration = PostgresClient.Configuration(host: location.host, port: location.port, username: location.user,
                                                         password: password, database: location.database, tls: .disable)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        do {
            // One connection first: a server that is not there, a wrong password or a
            // database that does not exist says so at once, where the pool would retry.
            let probe = try await PostgresConnection.connect(
                configuration: .init(host: location.host, port: location.port, username: location.user, password: password,
                                     database: location.database, tls: .disable), id: 0, logger: logger)
            try? await probe.close()
            try await migrate()
        } catch {
            runner.cancel()
            throw Self.plain(error, location)
        }
    }

    deinit { runner.cancel() }

    /// Stops the client's connections.
    public func close() { runner.cancel() }

    /// A PostgreSQL error in a sentence that says what to fix.
    static func plain(_ error: any Error, _ location: Location) -> PulseError {
        if let e = error as? PulseError { return e }
        let text = String(reflecting: error)
        if text.contains("connectionError") || text.contains("refused") || text.contains("CircuitBreaker") {
            return .runtime("cannot reach PostgreSQL at \(location.host):\(location.port): is it running, and does it listen there?")
        }
        let advice = "set PGPASSWORD (or the variable database.password_env names) to the password of the PostgreSQL user \(location.user)"
        if text.contains("authMechanismRequiresPassword") {
            return .runtime("PostgreSQL at \(location.host):\(location.port) asks for a password and none was given: \(advice)")
        }
        if let p = error as? PSQLError, let state = p.serverInfo?[.sqlState], state == "28P01" || state == "28000" {
            return .runtime("PostgreSQL at \(location.host):\(location.port) refused the user \(location.user) "
                + "(\(p.serverInfo?[.message] ?? "authentication failed")): \(advice)")
        }
        if let p = error as? PSQLError, let message = p.serverInfo?[.message] {
            return .runtime("PostgreSQL at \(location.description): \(message)")
        }
        return .runtime("PostgreSQL at \(location.description): \(text.prefix(300))")
    }

    /// The schema's migrations, in order: each a name and its statements.
    static let migrations: [(id: String, sql: [String])] = [
        ("v1-answer-pages", [
            "CREATE SEQUENCE response_id_seq",
            """
            CREATE TABLE rep (
                id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, preferred_name TEXT, team TEXT,
                manager_email TEXT, region TEXT, locale TEXT, timezone TEXT, start_date TEXT,
                active BOOLEAN NOT NULL DEFAULT TRUE, deactivated_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)
            """,
            "CREATE TABLE survey (id TEXT PRIMARY KEY, title TEXT NOT NULL, anonymity TEXT NOT NULL)",
            """
            CREATE TABLE survey_version (
                id BIGSERIAL PRIMARY KEY, survey_id TEXT NOT NULL REFERENCES survey(id), number INTEGER NOT NULL,
                definition TEXT NOT NULL, registered_at TEXT NOT NULL, UNIQUE (survey_id, number))
            """,
            """
            CREATE TABLE round (
                id BIGSERIAL PRIMARY KEY, survey_id TEXT NOT NULL REFERENCES survey(id),
                survey_version_id BIGINT NOT NULL REFERENCES survey_version(id), period TEXT NOT NULL,
                period_start TEXT NOT NULL, period_end TEXT NOT NULL, source TEXT NOT NULL, opened_at TEXT NOT NULL,
                closes_at TEXT, closed_at TEXT, answers_not_kept INTEGER NOT NULL DEFAULT 0, min_group_size INTEGER,
                UNIQUE (survey_id, period))
            """,
            """
            CREATE TABLE invitation (
                id BIGSERIAL PRIMARY KEY, round_id BIGINT NOT NULL REFERENCES round(id), rep_id BIGINT NOT NULL REFERENCES rep(id),
                token_hash BYTEA UNIQUE, team TEXT, manager_email TEXT, region TEXT, created_at TEXT NOT NULL, sent_at TEXT,
                answered BOOLEAN NOT NULL DEFAULT FALSE, reminders INTEGER NOT NULL DEFAULT 0, last_reminded_at TEXT,
                closes_at TEXT, held_by TEXT, UNIQUE (round_id, rep_id))
            """,
            """
            CREATE TABLE response (
                id BIGINT PRIMARY KEY DEFAULT nextval('response_id_seq'), round_id BIGINT NOT NULL REFERENCES round(id),
                rep_id BIGINT REFERENCES rep(id), team TEXT, manager_email TEXT, region TEXT, submitted_at TEXT,
                morale DOUBLE PRECISION, enps INTEGER, source TEXT NOT NULL CHECK (source IN ('import', 'web')),
                UNIQUE (round_id, rep_id))
            """,
            """
            CREATE TABLE answer (
                response_id BIGINT NOT NULL REFERENCES response(id) ON DELETE CASCADE, question_id TEXT NOT NULL,
                number INTEGER, text TEXT, PRIMARY KEY (response_id, question_id))
            """,
            "CREATE TABLE answer_hold_lease (id TEXT PRIMARY KEY, expires_at TEXT NOT NULL)",
        ]),
        ("v2-outbox", [
            "ALTER TABLE survey ADD COLUMN current_version_id BIGINT",
            // Every message is written here before it is sent, and marked after. A claim is
            // a worker's id and a lease (next_attempt_at): a worker that dies leaves its
            // messages due again when the lease ends, whichever machine it ran on.
            """
            CREATE TABLE outbox (
                id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('invitation', 'reminder')),
                invitation_id BIGINT NOT NULL REFERENCES invitation(id), message_id TEXT NOT NULL UNIQUE, sender TEXT NOT NULL,
                recipient TEXT NOT NULL, subject TEXT NOT NULL, body BYTEA,
                status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL, last_error TEXT, server_reply TEXT,
                claimed_by TEXT, created_at TEXT NOT NULL, sent_at TEXT)
            """,
            "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
            "CREATE INDEX invitation_round ON invitation (round_id)",
        ]),
        // Failed token look-ups of every answer server, kept for the limiter's window
        // only: an address and a time, nothing of what was looked up.
        ("v3-look-up-failures", [
            "CREATE TABLE look_up_failure (address TEXT NOT NULL, at TEXT NOT NULL)",
            "CREATE INDEX look_up_failure_address ON look_up_failure (address, at)",
            "CREATE INDEX look_up_failure_at ON look_up_failure (at)",
        ]),
        // The rest of a workspace, so that `pulse db copy` moves one whole: activity and
        // quotas (money in integer cents; NULL is missing, not zero), notes and actions.
        ("v4-kpis-and-notes", [
            """
            CREATE TABLE activity (
                rep_id BIGINT NOT NULL REFERENCES rep(id), day TEXT NOT NULL, calls INTEGER, emails INTEGER, meetings INTEGER,
                opportunities_created INTEGER, deals_won INTEGER, deals_lost INTEGER, revenue_won_cents BIGINT,
                pipeline_value_cents BIGINT, PRIMARY KEY (rep_id, day))
            """,
            """
            CREATE TABLE quota (
                rep_id BIGINT NOT NULL REFERENCES rep(id), period TEXT NOT NULL, period_start TEXT NOT NULL, period_end TEXT NOT NULL,
                quota_cents BIGINT NOT NULL, PRIMARY KEY (rep_id, period))
            """,
            "CREATE TABLE note (id BIGSERIAL PRIMARY KEY, rep_id BIGINT NOT NULL REFERENCES rep(id), text TEXT NOT NULL, created_at TEXT NOT NULL)",
            "CREATE INDEX note_rep ON note (rep_id)",
            """
            CREATE TABLE action_item (
                id BIGSERIAL PRIMARY KEY, rep_id BIGINT NOT NULL REFERENCES rep(id), note_id BIGINT REFERENCES note(id),
                text TEXT NOT NULL, created_at TEXT NOT NULL, done_at TEXT)
            """,
            "CREATE INDEX action_item_rep ON action_item (rep_id, done_at)",
        ]),
        // Opportunities and leads from CRM exports, keyed by the CRM's id.
        ("v5-pipeline", [
            """
            CREATE TABLE opportunity (
                id TEXT PRIMARY KEY, rep_id BIGINT NOT NULL REFERENCES rep(id), created TEXT NOT NULL, closed TEXT,
                status TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')), amount_cents BIGINT)
            """,
            "CREATE INDEX opportunity_rep ON opportunity (rep_id, created)",
            "CREATE TABLE lead (id TEXT PRIMARY KEY, rep_id BIGINT NOT NULL REFERENCES rep(id), created TEXT NOT NULL, converted TEXT)",
            "CREATE INDEX lead_rep ON lead (rep_id, created)",
        ]),
        // The rollup of activity into rep-weeks (the week's Monday and the sums of its
        // days), kept by every write to activity; filled from the rows already there.
        ("v6-rollups", [
            """
            CREATE TABLE activity_week (
                rep_id BIGINT NOT NULL REFERENCES rep(id), week_start TEXT NOT NULL, calls BIGINT, emails BIGINT, meetings BIGINT,
                opportunities_created BIGINT, deals_won BIGINT, deals_lost BIGINT, revenue_won_cents BIGINT,
                PRIMARY KEY (rep_id, week_start))
            """,
            PostgresAnswerStore.activityWeekInsert + " FROM activity GROUP BY rep_id, monday",
        ]),
        // The rollups of answers per round and group, and of each rep's eNPS answers, kept
        // by statement triggers on response; filled from the answers already there.
        ("v7-response-rollups", PostgresAnswerStore.responseRollupMigration),
    ]

    /// Applies the migrations not yet applied; refuses a schema from a newer Pulse.
    func migrate() async throws {
        try await client.query("CREATE TABLE IF NOT EXISTS pulse_migration (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
                               logger: logger)
        var applied: Set<String> = []
        for try await id in try await client.query("SELECT id FROM pulse_migration", logger: logger).decode(String.self) {
            applied.insert(id)
        }
        let known = Set(Self.migrations.map(\.id))
        let unknown = applied.subtracting(known).sorted()
        if !unknown.isEmpty {
            throw PulseError.runtime("the database was written by a newer version of Pulse (it has schema "
                + "\(unknown.joined(separator: ", ")), which this version does not know); upgrade pulse")
        }
        for migration in Self.migrations where !applied.contains(migration.id) {
            let id = migration.id, stamp = Timestamp.string(Date())
            try await client.withTransaction(logger: logger) { connection in
                for statement in migration.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await connection.query("INSERT INTO pulse_migration (id, applied_at) VALUES (\(id), \(stamp))", logger: logger)
            }
        }
    }

    /// The latest migration applied.
    public func schemaVersion() async throws(PulseError) -> String? {
        do {
            var last: String?
            for try await id in try await client.query("SELECT id FROM pulse_migration ORDER BY id", logger: logger).decode(String.self) {
                last = id
            }
            return last
        } catch {
            throw .runtime("PostgreSQL: \(error)")
        }
    }

    /// Rows of the tables a workspace keeps, as `doctor` shows them.
    public func tableCounts() async throws(PulseError) -> [(table: String, rows: Int)] {
        do {
            var out: [(table: String, rows: Int)] = []
            for table in ["rep", "round", "invitation", "response", "activity", "quota", "opportunity", "lead", "note", "action_item", "outbox"] {
                let n = try await client.query(PostgresQuery(unsafeSQL: "SELECT COUNT(*)::BIGINT FROM \(table)"), logger: logger)
                    .collect().first?.decode(Int.self) ?? 0
                out.append((table, n))
            }
            return out
        } catch {
            throw .runtime("PostgreSQL: \(String(reflecting: error).prefix(300))")
        }
    }
}

extension PostgresConnection {
    /// Runs a body between `begin` (`BEGIN`, or one with an isolation level) and `COMMIT`,
    /// or `ROLLBACK` when `keep` is false (a dry run) and on any error.
    func inTransaction<T: Sendable>(_ begin: PostgresQuery = "BEGIN", keep: Bool = true, logger: Logger,
                                    _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await query(begin, logger: logger)
        do {
            let result = try await body(self)
            try await query(keep ? "COMMIT" : "ROLLBACK", logger: logger)
            return result
        } catch {
            _ = try? await query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
